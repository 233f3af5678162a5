// cg_alerting's front door for cg-controld: rules + engine + store + channels + delivery.
//
//   auto svc = Service::create(config, clock, error);   // opens delivery.queue (SQLite, WAL)
//   svc->ingest(event);                                   // from the event thread
//   svc->start();                                         // delivery thread (or pump() by hand)
//   svc->list_alerts(q); svc->ack(id, user, comment);     // REST: cgctl alerts list / ack
//   svc->add_silence(s); svc->remove_silence(id);         // REST: cgctl alerts silence
//
// Thread-safe: one mutex guards engine and store; channel sends run outside it, so a slow
// channel never blocks ingest. An alert is stored and its deliveries queued in one SQLite
// transaction before ingest() returns; a delivery leaves the queue only when a channel
// accepted it. Failed attempts back off exponentially (initial * multiplier^(n-1), capped).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/alerting/channels.h"
#include "controlplane/alerting/engine.h"
#include "controlplane/alerting/rules.h"
#include "controlplane/alerting/store.h"
#include "controlplane/common/status.h"
#include "controlplane/common/util.h"

namespace cg::alerting {

#define CG_ALERT_DELIVERY_COUNTERS(X)                                                       \
  X(deliveries_queued, "deliveries written to the persisted queue")                         \
  X(deliveries_sent, "deliveries a channel accepted")                                       \
  X(delivery_attempts_failed, "failed attempts (rescheduled with backoff, never dropped)")  \
  X(deliveries_refused_queue_full, "not queued, reason queue_full (recorded as refused)")   \
  X(deliveries_orphaned, "not sent, reason unknown_channel (channel gone from the config)") \
  X(store_errors, "SQLite errors (the operation is reported failed to the caller)")

struct DeliveryCounters {
#define CG_X(name, help) uint64_t name = 0;
  CG_ALERT_DELIVERY_COUNTERS(CG_X)
#undef CG_X
};

struct ChannelStats {
  uint64_t sent = 0;
  uint64_t failed = 0;
  std::string last_error;
};

// Delay before attempt `attempts + 1` after `attempts` failures (attempts >= 1).
Millis backoff_delay(const DeliveryConfig& d, uint32_t attempts);

class Service {
 public:
  using ChannelFactory = std::function<std::unique_ptr<Channel>(const ChannelConfig&)>;

  // Opens config->delivery.queue_path, restores runtime silences and the alert id sequence.
  // `factory` defaults to make_channel (tests pass fakes).
  static std::unique_ptr<Service> create(std::shared_ptr<const AlertingConfig> config,
                                         const cp::Clock& clock, std::string& error,
                                         EngineLimits limits = {}, ChannelFactory factory = {});
  ~Service();

  // Evaluates one event at the clock's time; returns the alerts it raised (open or silenced).
  std::vector<Alert> ingest(const nlohmann::json& event);
  // Exactly-once evaluation of stored events (cg-controld's event store, row ids ascending):
  // evaluates `events` and records that every row through `through` (>= their last id) was
  // evaluated, in the same transaction as the alerts and deliveries they produced; a kill -9
  // leaves both or neither. A batch with `through` <= evaluated_through() is skipped (already
  // seen). `events` may be empty (moves the mark only).
  std::vector<Alert> ingest_stored(const std::vector<nlohmann::json>& events, int64_t through);
  // The store row id evaluated through (persisted); -1 when this queue never evaluated one.
  int64_t evaluated_through();

  // Tries every due delivery once (up to delivery.batch); returns how many were sent.
  size_t pump();
  // Runs pump() on a thread until stop(): after each pump it sleeps until the next due
  // attempt, at most `idle` (ingest wakes it early).
  void start(Millis idle = Millis(1000));
  void stop();

  // --- API for controld's REST endpoints --------------------------------------------------
  std::vector<Alert> list_alerts(const AlertQuery& q);
  std::optional<Alert> get_alert(uint64_t id);
  std::vector<Delivery> deliveries(uint64_t alert_id);
  cp::Status ack(uint64_t id, const std::string& user, const std::string& comment);
  cp::Status add_silence(const Silence& s);  // replaces a runtime silence with the same id
  cp::Status remove_silence(const std::string& id);
  std::vector<Silence> silences();  // active or future, config and runtime
  uint64_t pending_deliveries();

  // Counters (engine + delivery + per channel) as name -> value, for /metrics.
  std::vector<std::pair<std::string, uint64_t>> counters();
  std::map<std::string, ChannelStats> channel_stats();

 private:
  Service(std::shared_ptr<const AlertingConfig> config, const cp::Clock& clock,
          std::unique_ptr<Store> store, EngineLimits limits);
  void delivery_loop(Millis idle);
  // Under mu_, inside a transaction: folds, new alerts and their deliveries of one evaluation.
  bool record(const Engine::Outcome& out, int64_t now_ms);
  // Under mu_: commits (true) or rolls back, counts and logs (false).
  bool finish(bool ok);

  std::shared_ptr<const AlertingConfig> config_;
  TimePoint now() const { return from_us(clock_.now_us()); }

  const cp::Clock& clock_;
  std::mutex mu_;  // engine_, store_, counters_, stats_
  std::unique_ptr<Store> store_;
  Engine engine_;
  DeliveryCounters counters_;
  std::map<std::string, ChannelStats> stats_;
  std::map<std::string, std::unique_ptr<Channel>> channels_;  // immutable after create
  std::mutex pump_mu_;                                        // one pump at a time
  std::thread thread_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool wake_ = false;
  int64_t evaluated_ = -1;  // ingest_stored's mark (also persisted)
};

}  // namespace cg::alerting

// The alerting store: one SQLite file (WAL, synchronous=FULL) holding alerts, the delivery
// queue, runtime silences and progress marks, so alerts, acknowledgements, pending deliveries and silences
// survive a restart. Not thread-safe: the Service serialises access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controlplane/alerting/engine.h"

namespace cg::alerting {

enum class DeliveryState { kPending, kDelivered, kRefused, kOrphaned };
std::string_view delivery_state_name(DeliveryState s);

struct Delivery {
  int64_t id = 0;
  uint64_t alert_id = 0;
  std::string channel;
  DeliveryState state = DeliveryState::kPending;
  uint32_t attempts = 0;
  int64_t next_attempt_ms = 0;
  int64_t created_ms = 0;
  int64_t delivered_ms = 0;
  std::string last_error;
};
nlohmann::json delivery_to_json(const Delivery& d);

struct AlertQuery {
  std::optional<AlertState> state;
  std::optional<Severity> min_severity;
  std::string rule;                // "" = any
  std::optional<TimePoint> since;  // last_seen >= since
  uint64_t before_id = 0;          // pagination: ids below this (0 = newest first from the top)
  uint32_t limit = 100;
};

class Store {
 public:
  ~Store();
  // Opens (creating if needed) the database; nullptr with `error` on failure.
  static std::unique_ptr<Store> open(const std::string& path, std::string& error);

  bool begin();
  bool commit();
  void rollback();

  bool put_alert(const Alert& a);  // insert or replace
  std::optional<Alert> alert(uint64_t id);
  std::vector<Alert> alerts(const AlertQuery& q);
  uint64_t max_alert_id();

  bool enqueue(uint64_t alert_id, const std::string& channel, DeliveryState state, int64_t now_ms,
               const std::string& note);
  std::vector<Delivery> due(int64_t now_ms, uint32_t limit);
  std::vector<Delivery> deliveries(uint64_t alert_id);
  bool mark_delivered(int64_t id, uint32_t attempts, int64_t now_ms);
  bool mark_failed(int64_t id, uint32_t attempts, int64_t next_ms, const std::string& error);
  bool mark_orphaned(int64_t id, const std::string& error);
  uint64_t pending_count();
  std::optional<int64_t> next_due_ms();

  // Named progress marks (e.g. the event-store row id evaluated through), written in the
  // caller's transaction together with what the progress produced.
  bool put_progress(const std::string& key, int64_t value);
  std::optional<int64_t> progress(const std::string& key);

  bool put_silence(const Silence& s);
  bool delete_silence(const std::string& id);
  std::vector<Silence> silences();

  const std::string& last_error() const { return error_; }

 private:
  explicit Store(sqlite3* db) : db_(db) {}
  bool exec(const char* sql);
  sqlite3_stmt* prepare(const char* sql);
  bool fail();

  sqlite3* db_;
  std::string error_;
};

}  // namespace cg::alerting

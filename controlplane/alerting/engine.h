// The alert engine: events in, alerts out. Pure logic over an immutable AlertingConfig, with an
// injectable Clock and bounded state (threshold groups and dedup entries per engine; eviction
// counted). Not thread-safe: the owner (Service) serialises calls.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "controlplane/alerting/rules.h"
#include "controlplane/alerting/types.h"

namespace cg::alerting {

enum class AlertState { kOpen, kAcked, kSilenced };
std::string_view alert_state_name(AlertState s);
std::optional<AlertState> parse_alert_state(std::string_view s);

struct Alert {
  uint64_t id = 0;
  std::string rule;
  Severity severity = Severity::kMedium;
  std::string group;  // "src_ip=10.1.2.3" (group_by fields), "" for a single group
  std::string dedup;  // deduplication key (rule name + dedup fields)
  std::string summary;
  TimePoint first_seen{};
  TimePoint last_seen{};
  uint64_t events = 0;   // events behind this alert (threshold + folded repeats)
  nlohmann::json event;  // the event that raised it
  std::vector<std::string> channels;
  AlertState state = AlertState::kOpen;
  std::string silence_id;  // set when state is kSilenced
  std::string acked_by;
  std::string ack_comment;
  TimePoint acked_at{};
};

// The alert as the REST API, webhooks and the store see it.
nlohmann::json alert_to_json(const Alert& a);
std::optional<Alert> alert_from_json(const nlohmann::json& j);

// Counters, declared once: name, help.
#define CG_ALERT_ENGINE_COUNTERS(X)                                                      \
  X(events_in, "events offered to the engine")                                           \
  X(events_invalid, "dropped, reason invalid: the event is not a JSON object")           \
  X(rule_matches, "rule x event matches")                                                \
  X(threshold_pending, "matches counted toward a threshold that was not reached yet")    \
  X(alerts_raised, "alerts raised (open or silenced)")                                   \
  X(alerts_deduplicated, "threshold crossings folded into an open alert (dedup window)") \
  X(alerts_silenced, "alerts raised while a silence matched (recorded, not delivered)")  \
  X(groups_evicted, "threshold groups evicted, reason capacity (least recently used)")   \
  X(dedup_evicted, "dedup entries evicted, reason capacity (oldest first)")              \
  X(silences_expired, "silences removed at their expiry")

struct EngineCounters {
#define CG_X(name, help) uint64_t name = 0;
  CG_ALERT_ENGINE_COUNTERS(CG_X)
#undef CG_X
  std::vector<std::pair<std::string, uint64_t>> list() const;
};

struct EngineLimits {
  size_t max_groups = 50'000;         // threshold groups over all rules
  size_t max_dedup_entries = 50'000;  // open dedup keys over all rules
};

class Engine {
 public:
  Engine(std::shared_ptr<const AlertingConfig> config, EngineLimits limits = {});

  struct Folded {
    uint64_t alert_id;
    uint64_t events;  // events added
    TimePoint last_seen;
  };
  struct Outcome {
    std::vector<Alert> raised;  // new alerts (state kOpen, or kSilenced: not to be delivered)
    std::vector<Folded> folded;
  };

  // Evaluates every enabled rule against one event at time `now` (the caller's clock).
  Outcome ingest(const nlohmann::json& event, TimePoint now);

  // Runtime silences (on top of the configuration's). add replaces a silence with the same id.
  void add_silence(Silence s);
  bool remove_silence(const std::string& id);
  // Silences not yet expired at `now` (config and runtime); expired runtime ones are dropped
  // and returned in `expired` so the owner can forget them too.
  std::vector<Silence> silences(TimePoint now, std::vector<std::string>* expired = nullptr);

  // After a restart: an alert from the store whose dedup window is still open at `now`
  // absorbs repeats again, so a controld restart does not re-raise (and re-send) it.
  void restore_dedup(const Alert& a, TimePoint now);
  Millis longest_dedup_window() const;

  void set_next_alert_id(uint64_t id) { next_id_ = id; }
  uint64_t next_alert_id() const { return next_id_; }
  const EngineCounters& counters() const { return counters_; }
  const AlertingConfig& config() const { return *config_; }
  size_t group_count() const { return groups_.size(); }
  size_t dedup_count() const { return dedup_.size(); }

 private:
  struct Group {
    std::deque<TimePoint> times;  // at most threshold_count entries
    std::list<std::string>::iterator lru;
  };
  struct DedupEntry {
    uint64_t alert_id;
    TimePoint raised_at;
    Millis window;
    std::string silence_id;  // non-empty when the alert was silenced
    std::list<std::string>::iterator order;
  };

  const Silence* silenced_by(const Rule& r, const nlohmann::json& event, TimePoint now);
  Severity severity_for(const Rule& r, const nlohmann::json& event) const;
  void remember_dedup(const std::string& key, uint64_t id, TimePoint now, Millis window,
                      const std::string& silence_id);

  std::shared_ptr<const AlertingConfig> config_;
  EngineLimits limits_;
  EngineCounters counters_;
  uint64_t next_id_ = 1;
  std::unordered_map<std::string, Group> groups_;  // rule + '\x1f' + group key
  std::list<std::string> group_lru_;               // front = least recently used
  std::unordered_map<std::string, DedupEntry> dedup_;
  std::list<std::string> dedup_order_;  // front = oldest
  std::vector<Silence> runtime_silences_;
};

// "{alert.signature} from {src_ip}" with fields of `event`; missing fields render as "-".
std::string render_summary(const std::string& tmpl, const nlohmann::json& event);

}  // namespace cg::alerting

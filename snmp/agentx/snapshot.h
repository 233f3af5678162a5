// What cg-agentx serves, as plain data: one refresh's view of the dataplane (from its control
// socket replies `stats`, `policy.status`, `qos`) plus the event counts and the source status.
// The mappers are pure functions over the parsed replies; they never throw and never trust the
// reply's shape (a missing or mistyped field is an error naming the field, not a crash).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace cg::agentx {

// cgAgentDataplaneStatus values (CAMPUSGUARD-MIB).
enum class SourceStatus : int32_t { kOk = 1, kUnreachable = 2, kBadReply = 3, kNeverAsked = 4 };

struct PortCounters {
  std::string device;
  uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0, drop_tx_full = 0;
  bool has_link = false;  // link_up / speed_mbps present (the PMD answered)
  bool link_up = false;
  uint32_t speed_mbps = 0;
};

struct ZoneCounters {  // one QoS classroom (zone), summed over workers
  uint64_t packets = 0, bytes_up = 0, bytes_down = 0, dropped_packets = 0, dropped_bytes = 0;
  uint64_t rate_bps_up = 0, rate_bps_down = 0;
};

// Suricata / event-schema severities: 1 critical .. 5 info.
inline constexpr size_t kSeverities = 5;

struct EventCounts {
  std::array<uint64_t, kSeverities> by_severity{};  // index severity - 1
  uint64_t missed = 0;     // events the dataplane could not send us (its overflow events)
  uint64_t malformed = 0;  // lines that were not JSON events
  bool connected = false;
  uint64_t connects = 0;
};

struct DataplaneData {
  // health
  bool running = false;  // health.state == "running"
  bool links_up = false;
  uint32_t workers = 0;
  uint64_t uptime_s = 0;
  // stats
  std::array<PortCounters, 2> ports;  // 0 inside, 1 outside
  uint64_t packets = 0, bytes = 0, forwarded = 0, flows_active = 0, flows_created = 0;
  std::map<std::string, uint64_t> drops;  // drop_* of stats.counters, qos_drop_* of qos
  // policy.status
  uint64_t policy_generation = 0;
  std::string policy_sha256, policy_origin, policy_school;
  std::string policy_loaded_at;  // RFC 3339 UTC as the dataplane reports it, "" = no policy
  uint32_t policy_rules = 0;
  uint64_t policy_applies = 0;
  uint64_t policy_revision = 0;  // cg-controld's commit revision of the active policy, 0 = none
  // qos
  std::map<std::string, ZoneCounters> zones;
};

struct Snapshot {
  SourceStatus status = SourceStatus::kNeverAsked;
  std::string error;          // why the last refresh failed ("" when ok)
  uint64_t last_success = 0;  // unix seconds of the last complete refresh, 0 = never
  uint64_t refreshes = 0, refresh_failures = 0;
  uint32_t refresh_interval_s = 0;
  DataplaneData dp;  // meaningful only when status == kOk
  EventCounts events;
};

// Each mapper fills its part of `out` from one reply; false + *err ("stats: counters.packets:
// not an unsigned number") when the reply is not what protocol v1 promises or says ok:false.
bool map_health(const nlohmann::json& reply, DataplaneData* out, std::string* err);
bool map_stats(const nlohmann::json& reply, DataplaneData* out, std::string* err);
bool map_policy_status(const nlohmann::json& reply, DataplaneData* out, std::string* err);
bool map_qos(const nlohmann::json& reply, DataplaneData* out, std::string* err);

// One line of the events.subscribe stream: counts an alert by its severity, adds an overflow
// event's `lost` count; any other event type is ignored.
void count_event_line(std::string_view line, EventCounts* counts);

}  // namespace cg::agentx

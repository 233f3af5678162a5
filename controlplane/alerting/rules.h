// Alerting configuration (YAML): channels, delivery, alert rules and maintenance windows.
// Every key is declared once in rules.cc (kind, help, required); the loader rejects unknown and
// repeated keys and reports FILE:LINE:COL. Nothing here throws.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "controlplane/alerting/types.h"

namespace cg::alerting {

// An address prefix (IPv4 or IPv6).
struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};
  int bits = 0;
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(std::string_view address) const;
};

// One condition on one event field. All set members of a condition must hold.
struct FieldMatch {
  std::string field;                 // dotted path, e.g. "alert.signature"
  std::vector<std::string> any_of;   // eq / in: value is one of these (empty = no check)
  std::vector<std::string> none_of;  // not_in
  std::vector<Cidr> cidrs;           // cidr: address inside one of these
  std::vector<Cidr> not_cidrs;       // not_cidr
  std::optional<double> gte, lte;    // numeric bounds
  std::optional<bool> exists;        // field present (true) / absent (false)
  bool matches(const nlohmann::json& event) const;
};

struct Matcher {
  std::vector<FieldMatch> fields;  // all must match; empty matches every event
  bool matches(const nlohmann::json& event) const;
};

struct Rule {
  std::string name;
  std::string description;
  bool enabled = true;
  Matcher match;
  std::vector<std::string> group_by;              // fields forming the group key; empty = one group
  uint32_t threshold_count = 1;                   // alert when this many events of a group ...
  Millis threshold_window{60'000};                // ... fall inside this window
  std::vector<std::string> dedup_key;             // default: group_by
  Millis dedup_window{600'000};                   // repeats inside are folded into the open alert
  std::optional<Severity> severity;               // fixed severity, wins over severity_map
  std::map<int64_t, Severity> severity_map;       // EVE alert.severity -> severity
  Severity default_severity = Severity::kMedium;  // when neither applies nor EVE severity
  std::vector<std::string> channels;
  std::string summary;  // template with {field.path} placeholders; default built from event
};

// A maintenance window / silence: alerts that match are recorded as silenced, not delivered.
struct Silence {
  std::string id;
  std::vector<std::string> rules;  // empty = every rule
  Matcher match;
  std::string owner;
  std::string reason;
  TimePoint starts{};
  TimePoint ends{};
  bool active_at(TimePoint t) const { return t >= starts && t < ends; }
};

enum class ChannelType { kWebhook, kWecom, kDingtalk, kFeishu, kEmail, kSyslog, kSnmp };
std::string_view channel_type_name(ChannelType t);

enum class SyslogTransport { kUdp, kTcp, kTls };
enum class StartTls { kRequired, kNone };
enum class SnmpMode { kTrap, kInform };

struct ChannelConfig {
  std::string name;
  ChannelType type = ChannelType::kWebhook;
  Millis timeout{5000};
  // HTTP channels
  std::string url;
  std::map<std::string, std::string> headers;  // webhook only
  std::string secret;                          // dingtalk / feishu signed mode
  std::vector<std::string> mention_mobiles;    // wecom / dingtalk
  std::vector<std::string> mention_users;      // wecom userids
  bool mention_all = false;                    // wecom @all / dingtalk isAtAll
  std::string ca_file;                         // https / smtp / syslog-tls trust anchor
  bool insecure_skip_verify = false;
  // email
  std::string from;
  std::vector<std::string> to;
  std::string username, password;
  StartTls starttls = StartTls::kRequired;
  // syslog + snmp
  std::string host;
  int port = 0;
  SyslogTransport transport = SyslogTransport::kUdp;
  int facility = 4;  // security/authorization messages
  std::string app_name = "campusguard";
  std::string hostname;  // empty = gethostname()
  // snmp
  std::string community = "public";
  SnmpMode snmp_mode = SnmpMode::kTrap;
  int retries = 1;
};

struct DeliveryConfig {
  std::string queue_path = "alerts.db";  // SQLite file (WAL)
  Millis backoff_initial{1000};
  Millis backoff_max{300'000};
  double backoff_multiplier = 2.0;
  uint32_t max_queue = 100'000;  // pending deliveries; beyond, new ones are refused (counted)
  uint32_t batch = 64;           // deliveries tried per pump
};

struct AlertingConfig {
  DeliveryConfig delivery;
  std::vector<ChannelConfig> channels;
  std::vector<Rule> rules;
  std::vector<Silence> silences;
  const ChannelConfig* channel(std::string_view name) const;
};

struct LoadResult {
  std::vector<Diagnostic> errors;
  std::shared_ptr<const AlertingConfig> config;  // set only without errors
  bool ok() const { return errors.empty(); }
};

LoadResult load_config(std::string_view yaml_text, std::string_view file_name);
LoadResult load_config_file(const std::string& path);

// Parses one silence from JSON (the REST shape: id, rules, match, owner, reason, starts, ends);
// errors name the JSON field.
std::optional<Silence> silence_from_json(const nlohmann::json& j, std::string& error);
nlohmann::json silence_to_json(const Silence& s);

// Builds a matcher from a JSON object {field: scalar | [..] | {op: ..}} (same shape as YAML).
std::optional<Matcher> matcher_from_json(const nlohmann::json& j, std::string& error);

}  // namespace cg::alerting

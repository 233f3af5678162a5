#include "controlplane/alerting/rules.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

namespace cg::alerting {

// ---------------------------------------------------------------------------------------------
// Addresses and matching

std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::string s(text);
  Cidr c;
  size_t slash = s.find('/');
  std::string addr = s.substr(0, slash);
  c.v6 = addr.find(':') != std::string::npos;
  int max_bits = c.v6 ? 128 : 32;
  if (inet_pton(c.v6 ? AF_INET6 : AF_INET, addr.c_str(), c.addr.data()) != 1) return std::nullopt;
  c.bits = max_bits;
  if (slash != std::string::npos) {
    std::string b = s.substr(slash + 1);
    int v = -1;
    auto [p, ec] = std::from_chars(b.data(), b.data() + b.size(), v);
    if (ec != std::errc() || p != b.data() + b.size() || v < 0 || v > max_bits || b.empty())
      return std::nullopt;
    c.bits = v;
  }
  return c;
}

bool Cidr::contains(std::string_view address) const {
  std::array<uint8_t, 16> a{};
  std::string s(address);
  if (inet_pton(v6 ? AF_INET6 : AF_INET, s.c_str(), a.data()) != 1) return false;
  int full = bits / 8, rest = bits % 8;
  if (std::memcmp(a.data(), addr.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a[static_cast<size_t>(full)] & mask) == (addr[static_cast<size_t>(full)] & mask);
}

namespace {
std::optional<double> to_number(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}
}  // namespace

bool FieldMatch::matches(const nlohmann::json& event) const {
  if (exists && *exists != (field_at(event, field) != nullptr)) return false;
  bool needs_value =
      !any_of.empty() || !none_of.empty() || !cidrs.empty() || !not_cidrs.empty() || gte || lte;
  if (!needs_value) return true;
  // Array fields (vlan: [120, 30]) match when one element satisfies every condition.
  std::vector<std::string> values = field_values(event, field);
  return std::any_of(values.begin(), values.end(), [&](const std::string& v) {
    if (!any_of.empty() && std::find(any_of.begin(), any_of.end(), v) == any_of.end()) return false;
    if (std::find(none_of.begin(), none_of.end(), v) != none_of.end()) return false;
    if (!cidrs.empty() &&
        std::none_of(cidrs.begin(), cidrs.end(), [&](const Cidr& c) { return c.contains(v); }))
      return false;
    if (std::any_of(not_cidrs.begin(), not_cidrs.end(),
                    [&](const Cidr& c) { return c.contains(v); }))
      return false;
    if (gte || lte) {
      std::optional<double> n = to_number(v);
      if (!n || (gte && *n < *gte) || (lte && *n > *lte)) return false;
    }
    return true;
  });
}

bool Matcher::matches(const nlohmann::json& event) const {
  return std::all_of(fields.begin(), fields.end(),
                     [&](const FieldMatch& f) { return f.matches(event); });
}

std::string_view channel_type_name(ChannelType t) {
  switch (t) {
    case ChannelType::kWebhook:
      return "webhook";
    case ChannelType::kWecom:
      return "wecom";
    case ChannelType::kDingtalk:
      return "dingtalk";
    case ChannelType::kFeishu:
      return "feishu";
    case ChannelType::kEmail:
      return "email";
    case ChannelType::kSyslog:
      return "syslog";
    case ChannelType::kSnmp:
      return "snmp";
  }
  return "webhook";
}

const ChannelConfig* AlertingConfig::channel(std::string_view name) const {
  for (const auto& c : channels)
    if (c.name == name) return &c;
  return nullptr;
}

// ---------------------------------------------------------------------------------------------
// JSON-shaped parsing shared by YAML (converted) and the REST API. Errors name the key.

namespace {

struct KeyError {
  std::string key;  // key inside the object being parsed ("" = the object itself)
  std::string message;
};

bool scalar_text(const nlohmann::json& v, std::string& out) {
  if (v.is_string())
    out = v.get<std::string>();
  else if (v.is_number_integer())
    out = std::to_string(v.get<int64_t>());
  else if (v.is_number_unsigned())
    out = std::to_string(v.get<uint64_t>());
  else if (v.is_number_float())
    out = v.dump();
  else if (v.is_boolean())
    out = v.get<bool>() ? "true" : "false";
  else
    return false;
  return true;
}

bool scalar_list(const nlohmann::json& v, std::vector<std::string>& out) {
  if (!v.is_array()) {
    std::string s;
    if (!scalar_text(v, s)) return false;
    out.push_back(s);
    return true;
  }
  if (v.empty()) return false;
  for (const auto& e : v) {
    std::string s;
    if (!scalar_text(e, s)) return false;
    out.push_back(s);
  }
  return true;
}

const std::regex& field_path_re() {
  static const std::regex re("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*");
  return re;
}

std::optional<KeyError> parse_field_match(const std::string& field, const nlohmann::json& v,
                                          FieldMatch& fm) {
  fm.field = field;
  if (!std::regex_match(field, field_path_re()))
    return KeyError{field, "not a field path (letters, digits, _ and dots)"};
  if (!v.is_object()) {
    if (!scalar_list(v, fm.any_of))
      return KeyError{field, "expected a value, a list of values or an operator mapping"};
    return std::nullopt;
  }
  if (v.empty()) return KeyError{field, "empty operator mapping"};
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string& op = it.key();
    const auto& arg = it.value();
    if (op == "eq" || op == "in") {
      if (!scalar_list(arg, fm.any_of)) return KeyError{field, op + ": expected value(s)"};
    } else if (op == "not_in") {
      if (!scalar_list(arg, fm.none_of)) return KeyError{field, op + ": expected value(s)"};
    } else if (op == "cidr" || op == "not_cidr") {
      std::vector<std::string> items;
      if (!scalar_list(arg, items)) return KeyError{field, op + ": expected prefix(es)"};
      for (const auto& s : items) {
        auto c = Cidr::parse(s);
        if (!c) return KeyError{field, op + ": '" + s + "' is not an IPv4/IPv6 prefix"};
        (op == "cidr" ? fm.cidrs : fm.not_cidrs).push_back(*c);
      }
    } else if (op == "gte" || op == "lte") {
      std::string s;
      std::optional<double> n;
      if (!scalar_text(arg, s) || !(n = to_number(s)))
        return KeyError{field, op + ": expected a number"};
      (op == "gte" ? fm.gte : fm.lte) = *n;
    } else if (op == "exists") {
      std::string s;
      if (!scalar_text(arg, s) || (s != "true" && s != "false"))
        return KeyError{field, "exists: expected true or false"};
      fm.exists = s == "true";
    } else {
      return KeyError{field, "unknown operator '" + op +
                                 "' (eq, in, not_in, cidr, not_cidr, gte, lte, exists)"};
    }
  }
  return std::nullopt;
}

std::optional<KeyError> parse_matcher(const nlohmann::json& j, Matcher& m) {
  if (!j.is_object()) return KeyError{"", "expected a mapping of field: condition"};
  for (auto it = j.begin(); it != j.end(); ++it) {
    FieldMatch fm;
    if (auto e = parse_field_match(it.key(), it.value(), fm)) return e;
    m.fields.push_back(std::move(fm));
  }
  return std::nullopt;
}

const std::regex& name_re() {
  static const std::regex re("[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}");
  return re;
}

std::optional<KeyError> parse_silence(const nlohmann::json& j, Silence& s) {
  static const std::set<std::string> kKeys = {"id",     "rules",  "match", "owner",
                                              "reason", "starts", "ends"};
  if (!j.is_object()) return KeyError{"", "expected an object"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!kKeys.count(it.key())) return KeyError{it.key(), "unknown key"};
  for (const char* k : {"id", "owner", "reason", "ends"})
    if (!j.contains(k)) return KeyError{"", std::string("missing required key '") + k + "'"};
  auto str = [&](const char* k, std::string& out) -> std::optional<KeyError> {
    if (!j.at(k).is_string() || j.at(k).get<std::string>().empty())
      return KeyError{k, "expected a non-empty string"};
    out = j.at(k).get<std::string>();
    return std::nullopt;
  };
  if (auto e = str("id", s.id)) return e;
  if (!std::regex_match(s.id, name_re()))
    return KeyError{"id", "expected 1-64 of [A-Za-z0-9_.:-], starting alphanumeric"};
  if (auto e = str("owner", s.owner)) return e;
  if (auto e = str("reason", s.reason)) return e;
  std::string ends;
  if (auto e = str("ends", ends)) return e;
  auto te = parse_rfc3339(ends);
  if (!te) return KeyError{"ends", "expected an RFC 3339 time (2026-12-01T08:00:00+08:00)"};
  s.ends = *te;
  s.starts = TimePoint{};
  if (j.contains("starts")) {
    std::string starts;
    if (auto e = str("starts", starts)) return e;
    auto ts = parse_rfc3339(starts);
    if (!ts) return KeyError{"starts", "expected an RFC 3339 time"};
    s.starts = *ts;
    if (s.starts >= s.ends) return KeyError{"ends", "must be after starts"};
  }
  bool no_rules = j.contains("rules") && j.at("rules").is_array() && j.at("rules").empty();
  if (j.contains("rules") && !no_rules && !scalar_list(j.at("rules"), s.rules))
    return KeyError{"rules", "expected a rule name or a list of them"};
  if (j.contains("match")) {
    if (auto e = parse_matcher(j.at("match"), s.match))
      return KeyError{"match", (e->key.empty() ? "" : e->key + ": ") + e->message};
  }
  return std::nullopt;
}

}  // namespace

std::optional<Silence> silence_from_json(const nlohmann::json& j, std::string& error) {
  Silence s;
  if (auto e = parse_silence(j, s)) {
    error = (e->key.empty() ? "" : e->key + ": ") + e->message;
    return std::nullopt;
  }
  return s;
}

std::optional<Matcher> matcher_from_json(const nlohmann::json& j, std::string& error) {
  Matcher m;
  if (auto e = parse_matcher(j, m)) {
    error = (e->key.empty() ? "" : e->key + ": ") + e->message;
    return std::nullopt;
  }
  return m;
}

namespace {
nlohmann::json matcher_to_json(const Matcher& m) {
  auto cidr_text = [](const Cidr& c) {
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(c.v6 ? AF_INET6 : AF_INET, c.addr.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(c.bits);
  };
  nlohmann::json out = nlohmann::json::object();
  for (const auto& f : m.fields) {
    nlohmann::json ops = nlohmann::json::object();
    if (!f.any_of.empty()) ops["in"] = f.any_of;
    if (!f.none_of.empty()) ops["not_in"] = f.none_of;
    for (const auto& c : f.cidrs) ops["cidr"].push_back(cidr_text(c));
    for (const auto& c : f.not_cidrs) ops["not_cidr"].push_back(cidr_text(c));
    if (f.gte) ops["gte"] = *f.gte;
    if (f.lte) ops["lte"] = *f.lte;
    if (f.exists) ops["exists"] = *f.exists;
    out[f.field] = ops;
  }
  return out;
}
}  // namespace

nlohmann::json silence_to_json(const Silence& s) {
  nlohmann::json j = {{"id", s.id},
                      {"owner", s.owner},
                      {"reason", s.reason},
                      {"starts", format_rfc3339(s.starts)},
                      {"ends", format_rfc3339(s.ends)},
                      {"rules", s.rules},
                      {"match", matcher_to_json(s.match)}};
  return j;
}

// ---------------------------------------------------------------------------------------------
// YAML loader

namespace {

enum class Kind { kString, kInt, kBool, kDuration, kNumber, kList, kMap };

struct KeyDecl {
  const char* key;
  Kind kind;
  bool required;
  const char* help;
};

// Every configuration key, declared once. The loader, the README table and the error messages
// come from these lists.
const std::vector<KeyDecl> kTopKeys = {
    {"version", Kind::kInt, true, "configuration format version; must be 1"},
    {"delivery", Kind::kMap, false, "persisted queue and retry policy"},
    {"channels", Kind::kMap, false, "named delivery channels"},
    {"rules", Kind::kList, false, "alert rules, evaluated for every event"},
    {"silences", Kind::kList, false, "maintenance windows (owner, reason, expiry)"},
};
const std::vector<KeyDecl> kDeliveryKeys = {
    {"queue", Kind::kString, false, "SQLite file of the persisted queue (default alerts.db)"},
    {"backoff", Kind::kMap, false, "retry backoff: initial, max, multiplier"},
    {"max_queue", Kind::kInt, false, "pending deliveries kept (1..10000000, default 100000)"},
    {"batch", Kind::kInt, false, "deliveries tried per pump (1..10000, default 64)"},
};
const std::vector<KeyDecl> kBackoffKeys = {
    {"initial", Kind::kDuration, false, "first retry delay (default 1s)"},
    {"max", Kind::kDuration, false, "longest retry delay (default 5m)"},
    {"multiplier", Kind::kNumber, false, "growth factor per attempt (1..10, default 2)"},
};
const std::vector<KeyDecl> kRuleKeys = {
    {"name", Kind::kString, true, "unique rule name"},
    {"description", Kind::kString, false, "free text"},
    {"enabled", Kind::kBool, false, "default true"},
    {"match", Kind::kMap, false,
     "field: value | [values] | {eq,in,not_in,cidr,not_cidr,gte,lte,"
     "exists}"},
    {"group_by", Kind::kList, false, "fields forming the group key (e.g. src_ip)"},
    {"threshold", Kind::kMap, false, "count events per group within window (default 1 in 60s)"},
    {"dedup", Kind::kMap, false, "key fields and window folding repeats (default group, 10m)"},
    {"severity", Kind::kString, false, "fixed severity: info|low|medium|high|critical"},
    {"severity_map", Kind::kMap, false, "EVE alert.severity (integer) -> severity"},
    {"default_severity", Kind::kString, false, "severity when nothing else applies (medium)"},
    {"channels", Kind::kList, true, "channel names the alert is delivered to"},
    {"summary", Kind::kString, false, "one-line text; {field.path} placeholders"},
};
const std::vector<KeyDecl> kThresholdKeys = {
    {"count", Kind::kInt, true, "events needed (1..100000)"},
    {"window", Kind::kDuration, true, "sliding window"},
};
const std::vector<KeyDecl> kDedupKeys = {
    {"key", Kind::kList, false, "fields of the deduplication key (default: group_by)"},
    {"window", Kind::kDuration, false, "fold repeats for this long (default 10m)"},
};
const std::vector<KeyDecl> kSilenceKeys = {
    {"id", Kind::kString, true, "unique silence id"},
    {"rules", Kind::kList, false, "rule names (default: all)"},
    {"match", Kind::kMap, false, "event conditions, as in rules"},
    {"owner", Kind::kString, true, "who set it"},
    {"reason", Kind::kString, true, "why"},
    {"starts", Kind::kString, false, "RFC 3339 start (default: now)"},
    {"ends", Kind::kString, true, "RFC 3339 expiry"},
};
const std::vector<KeyDecl> kChannelCommon = {
    {"type", Kind::kString, true, "webhook|wecom|dingtalk|feishu|email|syslog|snmp"},
    {"timeout", Kind::kDuration, false, "per attempt (default 5s)"},
};
const std::vector<KeyDecl> kTlsKeys = {
    {"ca_file", Kind::kString, false, "PEM trust anchors for TLS peers"},
    {"insecure_skip_verify", Kind::kBool, false, "do not verify the TLS peer (tests only)"},
};
const std::map<std::string, std::vector<KeyDecl>> kChannelKeys = {
    {"webhook",
     {{"url", Kind::kString, true, "http(s) URL receiving a JSON POST"},
      {"headers", Kind::kMap, false, "extra HTTP headers"}}},
    {"wecom",
     {{"url", Kind::kString, true, "group robot URL (.../cgi-bin/webhook/send?key=...)"},
      {"mention_users", Kind::kList, false, "userids to @ (text message)"},
      {"mention_mobiles", Kind::kList, false, "mobiles to @ (text message)"},
      {"mention_all", Kind::kBool, false, "@all"}}},
    {"dingtalk",
     {{"url", Kind::kString, true, "robot URL (.../robot/send?access_token=...)"},
      {"secret", Kind::kString, false, "SEC... secret: signed mode"},
      {"mention_mobiles", Kind::kList, false, "mobiles to @"},
      {"mention_all", Kind::kBool, false, "isAtAll"}}},
    {"feishu",
     {{"url", Kind::kString, true, "bot URL (.../open-apis/bot/v2/hook/...)"},
      {"secret", Kind::kString, false, "signature verification secret"}}},
    {"email",
     {{"url", Kind::kString, true, "smtp://host:port (STARTTLS) or smtps://host:port"},
      {"from", Kind::kString, true, "envelope and header sender"},
      {"to", Kind::kList, true, "recipients"},
      {"username", Kind::kString, false, "SMTP AUTH user"},
      {"password", Kind::kString, false, "SMTP AUTH password"},
      {"starttls", Kind::kString, false, "required (default) | none"}}},
    {"syslog",
     {{"host", Kind::kString, true, "collector address"},
      {"port", Kind::kInt, false, "default 514 (udp/tcp), 6514 (tls)"},
      {"transport", Kind::kString, false, "udp (default) | tcp | tls"},
      {"facility", Kind::kInt, false, "0..23 (default 4, security)"},
      {"app_name", Kind::kString, false, "APP-NAME (default campusguard)"},
      {"hostname", Kind::kString, false, "HOSTNAME (default: this host's name)"}}},
    {"snmp",
     {{"host", Kind::kString, true, "manager address"},
      {"port", Kind::kInt, false, "default 162"},
      {"community", Kind::kString, false, "v2c community (default public)"},
      {"mode", Kind::kString, false, "trap (default) | inform"},
      {"retries", Kind::kInt, false, "inform retries (0..5, default 1)"}}},
};

class Loader {
 public:
  explicit Loader(std::string file) : file_(std::move(file)) {}

  void error(const YAML::Node& n, const std::string& path, std::string msg) {
    Diagnostic d{file_, 0, 0, path, std::move(msg)};
    if (n.IsDefined() && n.Mark().line >= 0) {
      d.line = n.Mark().line + 1;
      d.col = n.Mark().column + 1;
    }
    errors.push_back(std::move(d));
  }

  // Checks a mapping against declarations: duplicates, unknown keys, required keys, kinds.
  // Returns key -> (key node, value node) for the declared keys present.
  using Fields = std::map<std::string, std::pair<YAML::Node, YAML::Node>>;
  bool object(const YAML::Node& n, const std::string& path, const std::vector<KeyDecl>& decls,
              Fields& out, const std::vector<KeyDecl>* extra = nullptr) {
    if (!n.IsMap()) {
      error(n, path, "expected a mapping");
      return false;
    }
    bool ok = true;
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node k = it->first;  // a copy: it-> returns a temporary proxy
      if (!k.IsScalar()) {
        error(k, path, "keys must be plain names");
        ok = false;
        continue;
      }
      std::string key = k.Scalar();
      std::string kp = path.empty() ? key : path + "." + key;
      const KeyDecl* decl = nullptr;
      for (const auto* list : {&decls, extra})
        if (list)
          for (const auto& d : *list)
            if (key == d.key) decl = &d;
      if (out.count(key)) {
        error(k, kp,
              "key declared twice (first at line " +
                  std::to_string(out[key].first.Mark().line + 1) + ")");
        ok = false;
        continue;
      }
      if (decl == nullptr) {
        std::string known;
        for (const auto* list : {&decls, extra})
          if (list)
            for (const auto& d : *list) known += (known.empty() ? "" : ", ") + std::string(d.key);
        error(k, kp, "unknown key (known: " + known + ")");
        ok = false;
        continue;
      }
      out[key] = {k, it->second};
      if (!kind_ok(it->second, decl->kind, kp)) ok = false;
    }
    for (const auto* list : {&decls, extra})
      if (list)
        for (const auto& d : *list)
          if (d.required && !out.count(d.key)) {
            error(n, path, std::string("missing required key '") + d.key + "' (" + d.help + ")");
            ok = false;
          }
    return ok;
  }

  bool kind_ok(const YAML::Node& v, Kind kind, const std::string& path) {
    switch (kind) {
      case Kind::kMap:
        if (v.IsMap()) return true;
        error(v, path, "expected a mapping");
        return false;
      case Kind::kList:
        if (v.IsSequence() || v.IsScalar()) return true;
        error(v, path, "expected a value or a list");
        return false;
      default:
        break;
    }
    if (!v.IsScalar()) {
      error(v, path, "expected a scalar");
      return false;
    }
    const std::string& s = v.Scalar();
    switch (kind) {
      case Kind::kInt: {
        int64_t x;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
        if (ec == std::errc() && p == s.data() + s.size() && !s.empty()) return true;
        error(v, path, "expected an integer");
        return false;
      }
      case Kind::kBool:
        if (s == "true" || s == "false") return true;
        error(v, path, "expected true or false");
        return false;
      case Kind::kDuration:
        if (parse_duration(s)) return true;
        error(v, path, "expected a duration (250ms, 30s, 5m, 2h, 1d)");
        return false;
      case Kind::kNumber:
        if (to_number(s)) return true;
        error(v, path, "expected a number");
        return false;
      default:
        return true;
    }
  }

  int64_t int_in(const YAML::Node& v, const std::string& path, int64_t lo, int64_t hi,
                 int64_t dflt) {
    if (!v.IsDefined() || v.IsNull()) return dflt;
    int64_t x = 0;
    const std::string& s = v.Scalar();
    std::from_chars(s.data(), s.data() + s.size(), x);
    if (x < lo || x > hi) {
      error(v, path, "out of range " + std::to_string(lo) + ".." + std::to_string(hi));
      return dflt;
    }
    return x;
  }

  std::vector<std::string> strings(const YAML::Node& v, const std::string& path) {
    std::vector<std::string> out;
    if (v.IsScalar()) {
      out.push_back(v.Scalar());
      return out;
    }
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].IsScalar())
        error(v[i], path + "[" + std::to_string(i) + "]", "expected a value");
      else
        out.push_back(v[i].Scalar());
    }
    return out;
  }

  std::vector<std::string> fields_list(const YAML::Node& v, const std::string& path) {
    auto out = strings(v, path);
    for (const auto& f : out)
      if (!std::regex_match(f, field_path_re())) error(v, path, "'" + f + "' is not a field path");
    return out;
  }

  // YAML -> JSON (scalars become strings) for the shared matcher / silence parsers, keeping
  // duplicate detection.
  bool to_json(const YAML::Node& n, const std::string& path, nlohmann::json& out) {
    if (n.IsScalar()) {
      out = n.Scalar();
      return true;
    }
    if (n.IsSequence()) {
      out = nlohmann::json::array();
      for (size_t i = 0; i < n.size(); ++i) {
        nlohmann::json e;
        if (!to_json(n[i], path + "[" + std::to_string(i) + "]", e)) return false;
        out.push_back(std::move(e));
      }
      return true;
    }
    if (n.IsMap()) {
      out = nlohmann::json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        if (!it->first.IsScalar()) {
          error(it->first, path, "keys must be plain names");
          return false;
        }
        const std::string& k = it->first.Scalar();
        if (out.contains(k)) {
          error(it->first, path + "." + k, "key declared twice");
          return false;
        }
        if (!to_json(it->second, path + "." + k, out[k])) return false;
      }
      return true;
    }
    out = nullptr;
    return true;
  }

  // Position of a KeyError inside mapping `n`.
  void key_error(const YAML::Node& n, const std::string& path, const KeyError& e) {
    YAML::Node at = n;  // reset() rebinds; operator= would overwrite the node in the document
    if (!e.key.empty() && n.IsMap())
      for (auto it = n.begin(); it != n.end(); ++it)
        if (it->first.IsScalar() && it->first.Scalar() == e.key) at.reset(it->second);
    error(at, e.key.empty() ? path : path + "." + e.key, e.message);
  }

  bool matcher(const YAML::Node& n, const std::string& path, Matcher& m) {
    nlohmann::json j;
    if (!to_json(n, path, j)) return false;
    if (auto e = parse_matcher(j, m)) {
      key_error(n, path, *e);
      return false;
    }
    return true;
  }

  void delivery(const YAML::Node& n, DeliveryConfig& d) {
    Fields f;
    if (!object(n, "delivery", kDeliveryKeys, f)) return;
    if (f.count("queue")) d.queue_path = f["queue"].second.Scalar();
    d.max_queue = static_cast<uint32_t>(
        int_in(f["max_queue"].second, "delivery.max_queue", 1, 10'000'000, d.max_queue));
    d.batch = static_cast<uint32_t>(int_in(f["batch"].second, "delivery.batch", 1, 10'000, 64));
    if (f.count("backoff")) {
      Fields b;
      if (!object(f["backoff"].second, "delivery.backoff", kBackoffKeys, b)) return;
      if (b.count("initial")) d.backoff_initial = *parse_duration(b["initial"].second.Scalar());
      if (b.count("max")) d.backoff_max = *parse_duration(b["max"].second.Scalar());
      if (b.count("multiplier")) {
        double m = *to_number(b["multiplier"].second.Scalar());
        if (m < 1 || m > 10)
          error(b["multiplier"].second, "delivery.backoff.multiplier", "out of range 1..10");
        else
          d.backoff_multiplier = m;
      }
      if (d.backoff_max < d.backoff_initial)
        error(f["backoff"].second, "delivery.backoff", "max is smaller than initial");
    }
  }

  void channel(const std::string& name, const YAML::Node& key, const YAML::Node& n,
               ChannelConfig& c) {
    std::string path = "channels." + name;
    c.name = name;
    if (!std::regex_match(name, name_re()))
      error(key, path, "channel names are 1-64 of [A-Za-z0-9_.:-]");
    if (!n.IsMap()) {
      error(n, path, "expected a mapping");
      return;
    }
    YAML::Node type = n["type"];
    std::string t = type.IsDefined() && type.IsScalar() ? type.Scalar() : "";
    auto spec = kChannelKeys.find(t);
    if (spec == kChannelKeys.end()) {
      error(type.IsDefined() ? type : n, path + ".type",
            "expected one of webhook, wecom, dingtalk, feishu, email, syslog, snmp");
      return;
    }
    std::vector<KeyDecl> extra = spec->second;
    if (t != "snmp") extra.insert(extra.end(), kTlsKeys.begin(), kTlsKeys.end());
    Fields f;
    if (!object(n, path, kChannelCommon, f, &extra)) return;
    auto s = [&](const char* k) { return f.count(k) ? f[k].second.Scalar() : std::string(); };
    auto b = [&](const char* k) { return f.count(k) && f[k].second.Scalar() == "true"; };
    static const std::map<std::string, ChannelType> kTypes = {
        {"webhook", ChannelType::kWebhook},   {"wecom", ChannelType::kWecom},
        {"dingtalk", ChannelType::kDingtalk}, {"feishu", ChannelType::kFeishu},
        {"email", ChannelType::kEmail},       {"syslog", ChannelType::kSyslog},
        {"snmp", ChannelType::kSnmp}};
    c.type = kTypes.at(t);
    if (f.count("timeout")) c.timeout = *parse_duration(s("timeout"));
    c.url = s("url");
    c.secret = s("secret");
    c.ca_file = s("ca_file");
    c.insecure_skip_verify = b("insecure_skip_verify");
    c.mention_all = b("mention_all");
    if (f.count("mention_users")) c.mention_users = strings(f["mention_users"].second, path);
    if (f.count("mention_mobiles")) c.mention_mobiles = strings(f["mention_mobiles"].second, path);
    if (f.count("headers")) {
      for (auto it = f["headers"].second.begin(); it != f["headers"].second.end(); ++it) {
        if (!it->second.IsScalar())
          error(it->second, path + ".headers", "expected a value");
        else
          c.headers[it->first.Scalar()] = it->second.Scalar();
      }
    }
    bool http = c.type == ChannelType::kWebhook || c.type == ChannelType::kWecom ||
                c.type == ChannelType::kDingtalk || c.type == ChannelType::kFeishu;
    if (http && c.url.rfind("http://", 0) != 0 && c.url.rfind("https://", 0) != 0)
      error(f["url"].second, path + ".url", "expected an http:// or https:// URL");
    if (c.type == ChannelType::kEmail) {
      if (c.url.rfind("smtp://", 0) != 0 && c.url.rfind("smtps://", 0) != 0)
        error(f["url"].second, path + ".url", "expected smtp://host:port or smtps://host:port");
      c.from = s("from");
      c.to = strings(f["to"].second, path + ".to");
      c.username = s("username");
      c.password = s("password");
      std::string st = f.count("starttls") ? s("starttls") : "required";
      if (st == "required")
        c.starttls = StartTls::kRequired;
      else if (st == "none")
        c.starttls = StartTls::kNone;
      else
        error(f["starttls"].second, path + ".starttls", "expected required or none");
    }
    if (c.type == ChannelType::kSyslog) {
      c.host = s("host");
      std::string tr = f.count("transport") ? s("transport") : "udp";
      if (tr == "udp")
        c.transport = SyslogTransport::kUdp;
      else if (tr == "tcp")
        c.transport = SyslogTransport::kTcp;
      else if (tr == "tls")
        c.transport = SyslogTransport::kTls;
      else
        error(f["transport"].second, path + ".transport", "expected udp, tcp or tls");
      c.port = static_cast<int>(int_in(f["port"].second, path + ".port", 1, 65535,
                                       c.transport == SyslogTransport::kTls ? 6514 : 514));
      c.facility = static_cast<int>(int_in(f["facility"].second, path + ".facility", 0, 23, 4));
      if (f.count("app_name")) c.app_name = s("app_name");
      c.hostname = s("hostname");
    }
    if (c.type == ChannelType::kSnmp) {
      c.host = s("host");
      c.port = static_cast<int>(int_in(f["port"].second, path + ".port", 1, 65535, 162));
      if (f.count("community")) c.community = s("community");
      std::string m = f.count("mode") ? s("mode") : "trap";
      if (m == "trap")
        c.snmp_mode = SnmpMode::kTrap;
      else if (m == "inform")
        c.snmp_mode = SnmpMode::kInform;
      else
        error(f["mode"].second, path + ".mode", "expected trap or inform");
      c.retries = static_cast<int>(int_in(f["retries"].second, path + ".retries", 0, 5, 1));
    }
  }

  void rule(const YAML::Node& n, const std::string& path, Rule& r, const AlertingConfig& cfg) {
    Fields f;
    if (!object(n, path, kRuleKeys, f)) return;
    auto s = [&](const char* k) { return f.count(k) ? f[k].second.Scalar() : std::string(); };
    r.name = s("name");
    if (!std::regex_match(r.name, name_re()))
      error(f["name"].second, path + ".name", "rule names are 1-64 of [A-Za-z0-9_.:-]");
    r.description = s("description");
    r.enabled = !f.count("enabled") || s("enabled") == "true";
    r.summary = s("summary");
    if (f.count("match")) matcher(f["match"].second, path + ".match", r.match);
    if (f.count("group_by")) r.group_by = fields_list(f["group_by"].second, path + ".group_by");
    r.dedup_key = r.group_by;
    if (f.count("threshold")) {
      Fields t;
      if (object(f["threshold"].second, path + ".threshold", kThresholdKeys, t)) {
        r.threshold_count = static_cast<uint32_t>(
            int_in(t["count"].second, path + ".threshold.count", 1, 100'000, 1));
        r.threshold_window = *parse_duration(t["window"].second.Scalar());
      }
    }
    if (f.count("dedup")) {
      Fields d;
      if (object(f["dedup"].second, path + ".dedup", kDedupKeys, d)) {
        if (d.count("key")) r.dedup_key = fields_list(d["key"].second, path + ".dedup.key");
        if (d.count("window")) r.dedup_window = *parse_duration(d["window"].second.Scalar());
      }
    }
    auto sev = [&](const char* k) -> std::optional<Severity> {
      auto v = parse_severity(s(k));
      if (!v) error(f[k].second, path + "." + k, "expected info, low, medium, high or critical");
      return v;
    };
    if (f.count("severity")) r.severity = sev("severity");
    if (f.count("default_severity"))
      r.default_severity = sev("default_severity").value_or(Severity::kMedium);
    if (f.count("severity_map")) {
      const YAML::Node& m = f["severity_map"].second;
      std::set<int64_t> seen;
      for (auto it = m.begin(); it != m.end(); ++it) {
        std::string kp = path + ".severity_map";
        int64_t k = 0;
        const std::string& ks = it->first.IsScalar() ? it->first.Scalar() : "";
        auto [p, ec] = std::from_chars(ks.data(), ks.data() + ks.size(), k);
        if (ks.empty() || ec != std::errc() || p != ks.data() + ks.size()) {
          error(it->first, kp, "keys are EVE alert.severity integers");
          continue;
        }
        if (!seen.insert(k).second) {
          error(it->first, kp + "." + ks, "key declared twice");
          continue;
        }
        auto v = it->second.IsScalar() ? parse_severity(it->second.Scalar()) : std::nullopt;
        if (!v)
          error(it->second, kp + "." + ks, "expected info, low, medium, high or critical");
        else
          r.severity_map[k] = *v;
      }
    }
    if (f.count("channels")) {
      const YAML::Node& list = f["channels"].second;
      r.channels = strings(list, path + ".channels");
      std::set<std::string> seen;
      for (size_t i = 0; i < r.channels.size(); ++i) {
        const std::string& c = r.channels[i];
        YAML::Node at = list.IsSequence() ? list[i] : list;
        if (!cfg.channel(c)) error(at, path + ".channels", "unknown channel '" + c + "'");
        if (!seen.insert(c).second)
          error(at, path + ".channels", "channel '" + c + "' listed twice");
      }
    }
  }

  void silence(const YAML::Node& n, const std::string& path, Silence& s) {
    Fields f;
    if (!object(n, path, kSilenceKeys, f)) return;
    nlohmann::json j;
    if (!to_json(n, path, j)) return;
    if (auto e = parse_silence(j, s)) key_error(n, path, *e);
  }

  std::vector<Diagnostic> errors;

 private:
  std::string file_;
};

}  // namespace

LoadResult load_config(std::string_view yaml_text, std::string_view file_name) {
  LoadResult res;
  Loader L{std::string(file_name)};
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    Diagnostic d{std::string(file_name), e.mark.line + 1, e.mark.column + 1, "", e.msg};
    if (e.mark.is_null()) d.line = d.col = 0;
    res.errors.push_back(d);
    return res;
  }
  auto cfg = std::make_shared<AlertingConfig>();
  try {
    Loader::Fields top;
    if (!L.object(root, "", kTopKeys, top)) {
      res.errors = std::move(L.errors);
      return res;
    }
    if (top["version"].second.Scalar() != "1")
      L.error(top["version"].second, "version", "unsupported version (expected 1)");
    if (top.count("delivery")) L.delivery(top["delivery"].second, cfg->delivery);
    if (top.count("channels")) {
      const YAML::Node& chans = top["channels"].second;
      std::set<std::string> seen;
      for (auto it = chans.begin(); it != chans.end(); ++it) {
        std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
        if (!seen.insert(name).second) {
          L.error(it->first, "channels." + name, "channel declared twice");
          continue;
        }
        ChannelConfig c;
        L.channel(name, it->first, it->second, c);
        cfg->channels.push_back(std::move(c));
      }
    }
    if (top.count("rules")) {
      const YAML::Node& rules = top["rules"].second;
      if (!rules.IsSequence()) {
        L.error(rules, "rules", "expected a list of rules");
      } else {
        std::map<std::string, int> names;
        for (size_t i = 0; i < rules.size(); ++i) {
          std::string path = "rules[" + std::to_string(i) + "]";
          Rule r;
          L.rule(rules[i], path, r, *cfg);
          if (!r.name.empty() && names.count(r.name))
            L.error(rules[i]["name"], path + ".name",
                    "rule name '" + r.name + "' already used by rules[" +
                        std::to_string(names[r.name]) + "]");
          names[r.name] = static_cast<int>(i);
          cfg->rules.push_back(std::move(r));
        }
      }
    }
    if (top.count("silences")) {
      const YAML::Node& sil = top["silences"].second;
      if (!sil.IsSequence()) {
        L.error(sil, "silences", "expected a list of silences");
      } else {
        std::set<std::string> ids;
        for (size_t i = 0; i < sil.size(); ++i) {
          std::string path = "silences[" + std::to_string(i) + "]";
          Silence s;
          L.silence(sil[i], path, s);
          if (!s.id.empty() && !ids.insert(s.id).second)
            L.error(sil[i]["id"], path + ".id", "silence id '" + s.id + "' already used");
          for (const auto& rn : s.rules)
            if (std::none_of(cfg->rules.begin(), cfg->rules.end(),
                             [&](const Rule& r) { return r.name == rn; }))
              L.error(sil[i]["rules"], path + ".rules", "unknown rule '" + rn + "'");
          cfg->silences.push_back(std::move(s));
        }
      }
    }
  } catch (const YAML::Exception& e) {
    // A node access on malformed input: report it instead of escaping the boundary.
    L.errors.push_back({std::string(file_name), 0, 0, "", std::string("yaml: ") + e.what()});
  }
  res.errors = std::move(L.errors);
  if (res.errors.empty()) res.config = std::move(cfg);
  return res;
}

LoadResult load_config_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    LoadResult r;
    r.errors.push_back({path, 0, 0, "", "cannot read file"});
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return load_config(ss.str(), path);
}

}  // namespace cg::alerting

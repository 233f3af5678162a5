// Key declarations of the policy language, the structural checker and the JSON Schema generator.
#include "policies/compiler/spec.h"

#include <algorithm>
#include <deque>
#include <nlohmann/json.hpp>
#include <regex>
#include <stdexcept>

namespace cg::policy {
namespace {

// Owns every Spec; pointers into a deque stay valid.
struct SpecArena {
  std::deque<Spec> specs;
  Spec* make(Spec s) {
    specs.push_back(std::move(s));
    return &specs.back();
  }
};

const char* kNamePattern = "^[a-z][a-z0-9_-]{0,47}$";
const char* kNameHelp = "a name: lower-case letter, then letters, digits, '-' or '_' (max 48)";

struct Built {
  SpecArena arena;
  const Spec* root = nullptr;
};

Built build() {
  Built b;
  auto& A = b.arena;
  auto str = [&](std::string help, std::string pattern = "", std::string format_help = "") {
    Spec s;
    s.type = SpecType::kString;
    s.help = std::move(help);
    s.pattern = std::move(pattern);
    s.format_help = std::move(format_help);
    return A.make(std::move(s));
  };
  auto enm = [&](std::string help, std::vector<std::string> values,
                 std::optional<std::string> def = std::nullopt) {
    Spec s;
    s.type = SpecType::kString;
    s.help = std::move(help);
    s.enum_values = std::move(values);
    s.default_json = std::move(def);
    return A.make(std::move(s));
  };
  auto integer = [&](std::string help, int64_t lo, int64_t hi,
                     std::optional<std::string> def = std::nullopt) {
    Spec s;
    s.type = SpecType::kInteger;
    s.help = std::move(help);
    s.min = lo;
    s.max = hi;
    s.default_json = std::move(def);
    return A.make(std::move(s));
  };
  auto boolean = [&](std::string help, std::string def) {
    Spec s;
    s.type = SpecType::kBoolean;
    s.help = std::move(help);
    s.default_json = std::move(def);
    return A.make(std::move(s));
  };
  auto any_of = [&](std::string help, std::vector<const Spec*> alts) {
    Spec s;
    s.type = SpecType::kString;  // checked through any_of
    s.help = std::move(help);
    s.any_of = std::move(alts);
    return A.make(std::move(s));
  };
  auto list = [&](std::string help, const Spec* item, size_t min_items = 1) {
    Spec s;
    s.type = SpecType::kList;
    s.help = std::move(help);
    s.item = item;
    s.min_items = min_items;
    return A.make(std::move(s));
  };
  auto one_or_list = [&](std::string help, const Spec* item) {
    Spec s;
    s.type = SpecType::kOneOrList;
    s.help = std::move(help);
    s.item = item;
    s.min_items = 1;
    return A.make(std::move(s));
  };
  auto object = [&](std::string help, std::vector<Field> fields) {
    Spec s;
    s.type = SpecType::kObject;
    s.help = std::move(help);
    s.fields = std::move(fields);
    return A.make(std::move(s));
  };
  auto map = [&](std::string help, const Spec* item) {
    Spec s;
    s.type = SpecType::kMap;
    s.help = std::move(help);
    s.key_pattern = kNamePattern;
    s.key_help = kNameHelp;
    s.item = item;
    return A.make(std::move(s));
  };

  const Spec* description = str("free text for the people who read the policy");
  const Spec* name_ref = str("a name defined elsewhere in the policy", kNamePattern, kNameHelp);
  const Spec* cidr =
      str("an IPv4 or IPv6 prefix, e.g. 10.20.0.0/16 or 2001:db8::/48",
          R"(^[0-9A-Fa-f:.]+(/[0-9]{1,3})?$)", "an address or prefix like 10.20.0.0/16");
  const Spec* vlan_id = integer("a VLAN id", 1, 4094);
  const Spec* vlan_range =
      str("a VLAN range lo-hi", R"(^[0-9]{1,4}-[0-9]{1,4}$)", "a VLAN id or a range like 101-160");
  const Spec* vlan =
      any_of("a VLAN id (1-4094) or a range like \"101-160\"", {vlan_id, vlan_range});
  const Spec* port_num = integer("a port", 0, 65535);
  const Spec* port_range =
      str("a port range lo-hi", R"(^[0-9]{1,5}-[0-9]{1,5}$)", "a port or a range like 8000-8080");
  const Spec* port =
      any_of("a port (0-65535) or a range like \"8000-8080\"", {port_num, port_range});
  const Spec* date_range = str("a date YYYY-MM-DD or an inclusive range YYYY-MM-DD..YYYY-MM-DD",
                               R"(^[0-9]{4}-[0-9]{2}-[0-9]{2}(\.\.[0-9]{4}-[0-9]{2}-[0-9]{2})?$)",
                               "a date like 2026-12-20 or a range like 2026-12-20..2026-12-22");

  const Spec* school =
      object("who this policy is for",
             {{"id", true,
               str("the school's id in the city network", R"(^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$)",
                   "letters, digits, '-' or '_' (max 32), e.g. wh-001")},
              {"name", true, str("the school's name, e.g. 乌海市第一中学")},
              {"district", false, str("the district, e.g. 海勃湾区")},
              {"timezone", false, [&] {
                 Spec* s = str("IANA timezone the timetables are written in (tzdata name)",
                               R"(^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$)",
                               "a tzdata name like Asia/Shanghai");
                 s->default_json = "\"Asia/Shanghai\"";
                 return s;
               }()}});

  const Spec* zone =
      object("a part of the school network: endpoints in any of its VLANs or subnets",
             {{"description", false, description},
              {"vlans", false,
               list("802.1Q VLAN ids or ranges of this zone (no overlap between zones)", vlan)},
              {"subnets", false, list("IPv4/IPv6 prefixes of this zone", cidr)}});

  const Spec* day =
      enm("a weekday, or weekdays (mon-fri) / weekend (sat, sun) / daily",
          {"mon", "tue", "wed", "thu", "fri", "sat", "sun", "weekdays", "weekend", "daily"});
  const Spec* schedule = object(
      "a timetable in the school's timezone; all given conditions must hold",
      {{"description", false, description},
       {"days", false, list("weekdays it applies to (default: every day)", day)},
       {"times", false,
        list("time windows HH:MM-HH:MM (end may be 24:00; end before start runs past midnight; "
             "default: all day)",
             str("a time window", R"(^[0-9]{1,2}:[0-9]{2}-[0-9]{1,2}:[0-9]{2}$)",
                 "a window like 08:00-11:50"))},
       {"dates", false,
        list("dates or date ranges it is limited to (default: any date)", date_range)},
       {"except-dates", false, list("dates or date ranges it is off (holidays)", date_range)}});

  const Spec* app = object(
      "a named group of applications: a flow is in the group if any entry matches",
      {{"description", false, description},
       {"protocols", false,
        list("nDPI protocol names exactly as nDPI spells them (YouTube, WeChat, BitTorrent, Tor)",
             str("an nDPI protocol name"))},
       {"categories", false,
        list("nDPI category names (Game, Video, Streaming, VPN, SocialNetwork, ...)",
             str("an nDPI category name"))},
       {"hosts", false,
        list("host names (TLS SNI, HTTP Host, DNS query); *.example.cn matches subdomains",
             str("a host name or *.suffix", R"(^(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$)",
                 "a host like www.example.cn or *.example.cn"))}});

  const Spec* proto_name = enm("an L4 protocol", {"tcp", "udp", "icmp", "icmpv6"});
  const Spec* rule = object(
      "one rule; rules are tried in order and the first that matches decides",
      {{"name", true,
        str("unique rule name (shown in logs and counters)", kNamePattern, kNameHelp)},
       {"description", false, description},
       {"from", false, one_or_list("zones the connection comes from (default: any)", name_ref)},
       {"to", false, one_or_list("zones the connection goes to (default: any)", name_ref)},
       {"src", false, one_or_list("source addresses or prefixes", cidr)},
       {"dst", false, one_or_list("destination addresses or prefixes", cidr)},
       {"src-ports", false, one_or_list("source ports or ranges (implies tcp/udp)", port)},
       {"dst-ports", false, one_or_list("destination ports or ranges (implies tcp/udp)", port)},
       {"protocol", false, one_or_list("L4 protocols", proto_name)},
       {"app", false, one_or_list("app groups the flow belongs to, either direction", name_ref)},
       {"to-app", false,
        one_or_list("app groups the flow goes to (opened by the `from` side)", name_ref)},
       {"except-app", false, one_or_list("app groups that this rule never matches", name_ref)},
       {"when", false, str("schedule during which the rule applies", kNamePattern, kNameHelp)},
       {"action", true, enm("what happens to matching flows", {"allow", "deny", "log"})},
       {"reset", false,
        boolean("deny only: reset TCP connections both ways instead of dropping", "false")},
       {"alert", false,
        enm("raise an alert of this severity on match",
            {"info", "low", "medium", "high", "critical"})}});

  const Spec* inspection =
      object("what happens while nDPI is still identifying a flow's application",
             {{"max-packets", false,
               integer("packets per flow given to nDPI before it gives up", 1, 255, "10")},
              {"while-inspecting", false,
               enm("verdict for packets of a flow whose deciding rule needs the app",
                   {"pass", "drop"}, "\"pass\"")}});

  // ---- bandwidth ----------------------------------------------------------------------------
  auto rate = [&](std::string help) {
    return str(std::move(help), R"(^[0-9]+(\.[0-9]{1,3})? ?(kbit|Mbit|Gbit)$)",
               "a rate like 10 Gbit, 200 Mbit or 512 kbit");
  };
  const Spec* uplink =
      object("the school's uplink: the root of the tree, per direction",
             {{"up", true, rate("rate from the school to the internet (bits per second)")},
              {"down", true, rate("rate from the internet to the school (bits per second)")}});
  const Spec* per_host = object(
      "a ceiling for every host (inside address) of each classroom, across its classes",
      {{"fair", false,
        boolean("every active host gets an equal share of its classroom's rate; what a host "
                "does not use goes to the others (max-min fair by measured demand)",
                "false")},
       {"cap", false, rate("never exceeded by one host (bits per second)")}});
  const Spec* bw_zone = object(
      "the bandwidth of every classroom of a zone (each direction)",
      {{"description", false, description},
       {"rate", true, rate("ceiling of each classroom (bits per second)")},
       {"guaranteed", false,
        rate("kept for each classroom when the uplink is full (bits per second)")},
       {"per", false,
        enm("vlan: every VLAN of the zone is its own classroom; zone: the zone shares one",
            {"vlan", "zone"}, "\"vlan\"")},
       {"per-host", false, per_host}});
  const Spec* bw_class = object(
      "a traffic class inside every classroom; the first class whose conditions hold takes the "
      "flow, other flows are in the class `default`",
      {{"name", true, str("unique class name (shown in counters)", kNamePattern, kNameHelp)},
       {"description", false, description},
       {"app", false, one_or_list("app groups of the class (default: any traffic)", name_ref)},
       {"zones", false,
        one_or_list("zones (listed under bandwidth.zones) the class exists in (default: all)",
                    name_ref)},
       {"when", false, str("schedule during which the class applies", kNamePattern, kNameHelp)},
       {"priority", false,
        boolean("borrows its classroom's spare bandwidth before other classes", "false")},
       {"guaranteed", false,
        rate("kept for the class in each classroom when the classroom is full (bits/s)")},
       {"cap", false, rate("never exceeded by the class in one classroom (bits per second)")}});
  const Spec* bandwidth = object(
      "rate limits and guarantees: uplink -> classroom (zone or VLAN) -> class",
      {{"uplink", true, uplink},
       {"burst-ms", false,
        integer("bucket depth of every limit, in milliseconds of its rate (default: automatic, "
                "max(20, min(250 ms, 16 MiB)) of each rate, sized for TCP)",
                1, 1000)},
       {"zones", false, map("zones whose classrooms get a rate, by zone name", bw_zone)},
       {"classes", false, list("traffic classes, first match wins (at most 15)", bw_class)}});

  Spec* zones = map("network zones by name", zone);
  Spec* schedules = map("timetables by name", schedule);
  Spec* apps = map("app groups by name", app);
  Spec* rules = A.make([&] {
    Spec s;
    s.type = SpecType::kList;
    s.help = "ordered rules, first match wins";
    s.item = rule;
    return s;
  }());

  b.root = object("campusguard school policy",
                  {{"apiVersion", true, enm("policy language version", {"campusguard/v1"})},
                   {"school", true, school},
                   {"zones", false, zones},
                   {"schedules", false, schedules},
                   {"apps", false, apps},
                   {"rules", false, rules},
                   {"default", false,
                    enm("action when no rule matches", {"allow", "deny", "log"}, "\"allow\"")},
                   {"inspection", false, inspection},
                   {"bandwidth", false, bandwidth}});
  return b;
}

const Built& built() {
  static const Built b = build();
  return b;
}

const std::regex& cached_regex(const std::string& pattern) {
  static thread_local std::vector<std::pair<std::string, std::regex>> cache;
  for (const auto& [p, r] : cache)
    if (p == pattern) return r;
  cache.emplace_back(pattern, std::regex(pattern, std::regex::ECMAScript));
  return cache.back().second;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Skips [0-9]* from *i; returns how many.
size_t digits(std::string_view s, size_t* i) {
  size_t n = 0;
  while (*i < s.size() && is_digit(s[*i])) ++*i, ++n;
  return n;
}

void sign(std::string_view s, size_t* i) {
  if (*i < s.size() && (s[*i] == '-' || s[*i] == '+')) ++*i;
}

// ^[-+]?[0-9]+$ (hand-written: the compile checks every scalar of a 10,000-rule policy)
bool looks_integer(std::string_view s) {
  size_t i = 0;
  sign(s, &i);
  return digits(s, &i) > 0 && i == s.size();
}

// ^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$
bool looks_float(std::string_view s) {
  size_t i = 0;
  sign(s, &i);
  const size_t whole = digits(s, &i);
  if (i == s.size() || s[i] != '.') return false;
  ++i;
  if (digits(s, &i) == 0 && whole == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    sign(s, &i);
    if (digits(s, &i) == 0) return false;
  }
  return i == s.size();
}

std::string node_kind(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Scalar:
      return "'" + n.Scalar() + "'";
    default:
      return "an undefined value";
  }
}

std::string describe(const Spec& s) {
  switch (s.type) {
    case SpecType::kString:
      if (!s.any_of.empty()) return s.help;
      if (!s.enum_values.empty()) {
        std::string r = "one of ";
        for (size_t i = 0; i < s.enum_values.size(); ++i) r += (i ? ", " : "") + s.enum_values[i];
        return r;
      }
      if (!s.format_help.empty()) return s.format_help;
      return "a text";
    case SpecType::kInteger:
      return "an integer from " + std::to_string(s.min) + " to " + std::to_string(s.max);
    case SpecType::kBoolean:
      return "true or false";
    case SpecType::kObject:
    case SpecType::kMap:
      return "a mapping";
    case SpecType::kList:
      return "a list";
    case SpecType::kOneOrList:
      return describe(*s.item) + " or a list of them";
  }
  return "a value";
}

// Scalar check; returns "" when fine, else the error message.
std::string check_scalar(const YAML::Node& n, const Spec& s) {
  if (!n.IsScalar()) return "expected " + describe(s) + ", got " + node_kind(n);
  const std::string& v = n.Scalar();
  if (!s.any_of.empty()) {
    for (const Spec* alt : s.any_of)
      if (check_scalar(n, *alt).empty()) return "";
    return "expected " + describe(s) + ", got " + node_kind(n);
  }
  switch (s.type) {
    case SpecType::kInteger: {
      if (n.Tag() == "!" || !looks_integer(v))
        return "expected " + describe(s) + ", got " + node_kind(n);
      long long x = 0;
      try {
        x = std::stoll(v);
      } catch (const std::exception&) {
        return "expected " + describe(s) + ", got " + node_kind(n);
      }
      if (x < s.min || x > s.max)
        return "must be from " + std::to_string(s.min) + " to " + std::to_string(s.max) + ", got " +
               v;
      return "";
    }
    case SpecType::kBoolean:
      if (n.Tag() != "!" && (v == "true" || v == "false")) return "";
      return "expected true or false, got " + node_kind(n);
    case SpecType::kString: {
      if (is_plain_non_string(n))
        return "expected " + describe(s) + ", got " + node_kind(n) +
               " (YAML reads it as a number/boolean/null; quote it)";
      if (!s.enum_values.empty()) {
        for (const auto& e : s.enum_values)
          if (v == e) return "";
        return "expected " + describe(s) + ", got " + node_kind(n);
      }
      if (!s.pattern.empty() && !std::regex_match(v, cached_regex(s.pattern)))
        return "expected " + describe(s) + ", got " + node_kind(n);
      return "";
    }
    default:
      return "";
  }
}

}  // namespace

const Spec& policy_spec() {
  return *built().root;
}

const Spec& spec_at(const std::string& dotted) {
  const Spec* s = built().root;
  size_t pos = 0;
  while (pos <= dotted.size()) {
    size_t dot = dotted.find('.', pos);
    std::string key = dotted.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    const Spec* next = nullptr;
    for (;;) {
      if (s->type == SpecType::kObject) {
        for (const auto& f : s->fields)
          if (f.key == key) next = f.spec;
        break;
      }
      if (s->item == nullptr) break;
      s = s->item;  // descend through lists / maps to the object
    }
    if (next == nullptr) throw std::logic_error("spec_at: no key " + dotted);
    s = next;
    if (dot == std::string::npos) break;
    pos = dot + 1;
  }
  return *s;
}

bool plain_non_string_text(std::string_view v) {
  static constexpr std::string_view kWords[] = {"true",  "false", "True", "False", "TRUE",
                                                "FALSE", "null",  "Null", "NULL",  "~",
                                                ""};
  for (std::string_view w : kWords)
    if (v == w) return true;
  return looks_integer(v) || looks_float(v);
}

bool is_plain_non_string(const YAML::Node& n) {
  if (!n.IsScalar() || n.Tag() == "!") return false;
  return plain_non_string_text(n.Scalar());
}

Diagnostic diag_at(const YAML::Node& node, const std::string& path, std::string message,
                   DiagSeverity severity) {
  Diagnostic d;
  d.severity = severity;
  YAML::Mark m = node.Mark();
  if (!m.is_null()) {
    d.line = m.line + 1;
    d.col = m.column + 1;
  }
  d.path = path;
  d.message = std::move(message);
  return d;
}

std::string path_join(const std::string& base, const std::string& key) {
  // Keys of [A-Za-z0-9_-]+ stand as they are; any other is quoted.
  const bool plain = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c == '-';
  });
  std::string k = plain ? key : "\"" + key + "\"";
  return base.empty() ? k : base + "." + k;
}

std::string path_index(const std::string& base, size_t i) {
  return base + "[" + std::to_string(i) + "]";
}

void check_structure(const YAML::Node& node, const Spec& spec, const std::string& path,
                     std::vector<Diagnostic>& out) {
  switch (spec.type) {
    case SpecType::kObject: {
      if (!node.IsMap()) {
        out.push_back(diag_at(node, path, "expected a mapping, got " + node_kind(node)));
        return;
      }
      std::vector<std::string> seen;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node k = it->first;
        std::string key = k.IsScalar() ? k.Scalar() : "?";
        const Field* f = nullptr;
        for (const auto& field : spec.fields)
          if (field.key == key) f = &field;
        if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
          out.push_back(diag_at(k, path_join(path, key), "duplicate key '" + key + "'"));
          continue;
        }
        seen.push_back(key);
        if (f == nullptr) {
          std::string known;
          for (const auto& field : spec.fields) known += (known.empty() ? "" : ", ") + field.key;
          out.push_back(diag_at(k, path_join(path, key),
                                "unknown key '" + key + "' (expected one of: " + known + ")"));
          continue;
        }
        check_structure(it->second, *f->spec, path_join(path, key), out);
      }
      for (const auto& field : spec.fields)
        if (field.required && !node[field.key])
          out.push_back(diag_at(node, path, "missing required key '" + field.key + "'"));
      return;
    }
    case SpecType::kMap: {
      if (!node.IsMap()) {
        out.push_back(diag_at(node, path, "expected a mapping of names, got " + node_kind(node)));
        return;
      }
      std::vector<std::string> seen;
      for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node k = it->first;
        std::string key = k.IsScalar() ? k.Scalar() : "?";
        std::string p = path_join(path, key);
        if (!k.IsScalar() || !std::regex_match(key, cached_regex(spec.key_pattern))) {
          out.push_back(diag_at(k, p, "bad name '" + key + "': expected " + spec.key_help));
        } else if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
          out.push_back(diag_at(k, p, "duplicate name '" + key + "'"));
          continue;
        }
        seen.push_back(key);
        check_structure(it->second, *spec.item, p, out);
      }
      return;
    }
    case SpecType::kList: {
      if (!node.IsSequence()) {
        out.push_back(diag_at(node, path, "expected a list, got " + node_kind(node)));
        return;
      }
      if (node.size() < spec.min_items) {
        out.push_back(diag_at(node, path, "the list is empty"));
        return;
      }
      for (size_t i = 0; i < node.size(); ++i)
        check_structure(node[i], *spec.item, path_index(path, i), out);
      return;
    }
    case SpecType::kOneOrList: {
      if (node.IsSequence()) {
        if (node.size() == 0) {
          out.push_back(diag_at(node, path, "the list is empty"));
          return;
        }
        for (size_t i = 0; i < node.size(); ++i)
          check_structure(node[i], *spec.item, path_index(path, i), out);
      } else {
        check_structure(node, *spec.item, path, out);
      }
      return;
    }
    default: {
      std::string msg = check_scalar(node, spec);
      if (!msg.empty()) out.push_back(diag_at(node, path, msg));
      return;
    }
  }
}

// ---- JSON Schema ----------------------------------------------------------------------------

namespace {
using ojson = nlohmann::ordered_json;

ojson to_schema(const Spec& s) {
  ojson j;
  if (!s.any_of.empty()) {
    j["description"] = s.help;
    j["anyOf"] = ojson::array();
    for (const Spec* alt : s.any_of) j["anyOf"].push_back(to_schema(*alt));
    return j;
  }
  switch (s.type) {
    case SpecType::kString:
      j["type"] = "string";
      if (!s.enum_values.empty()) j["enum"] = s.enum_values;
      if (!s.pattern.empty()) j["pattern"] = s.pattern;
      break;
    case SpecType::kInteger:
      j["type"] = "integer";
      if (s.min != INT64_MIN) j["minimum"] = s.min;
      if (s.max != INT64_MAX) j["maximum"] = s.max;
      break;
    case SpecType::kBoolean:
      j["type"] = "boolean";
      break;
    case SpecType::kObject: {
      j["type"] = "object";
      ojson props = ojson::object();
      std::vector<std::string> req;
      for (const auto& f : s.fields) {
        props[f.key] = to_schema(*f.spec);
        if (f.required) req.push_back(f.key);
      }
      j["properties"] = props;
      if (!req.empty()) j["required"] = req;
      j["additionalProperties"] = false;
      break;
    }
    case SpecType::kMap:
      j["type"] = "object";
      j["propertyNames"] = ojson{{"pattern", s.key_pattern}};
      j["additionalProperties"] = to_schema(*s.item);
      break;
    case SpecType::kList:
      j["type"] = "array";
      j["items"] = to_schema(*s.item);
      if (s.min_items) j["minItems"] = s.min_items;
      break;
    case SpecType::kOneOrList: {
      ojson item = to_schema(*s.item);
      ojson arr{{"type", "array"}, {"items", item}, {"minItems", 1}};
      j["description"] = s.help;
      j["anyOf"] = ojson::array({item, arr});
      return j;
    }
  }
  if (!j.contains("description")) {
    ojson out;
    out["description"] = s.help;
    for (auto& [k, v] : j.items()) out[k] = v;
    j = std::move(out);
  }
  if (s.default_json) j["default"] = ojson::parse(*s.default_json);
  return j;
}
}  // namespace

std::string policy_json_schema_text() {
  ojson j;
  j["$schema"] = "https://json-schema.org/draft/2020-12/schema";
  j["$id"] = "urn:campusguard:policy:v1";
  j["title"] = "campusguard school policy (campusguard/v1)";
  ojson body = to_schema(policy_spec());
  for (auto& [k, v] : body.items()) j[k] = v;
  return j.dump(2) + "\n";
}

}  // namespace cg::policy

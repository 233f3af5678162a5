// YAML -> structural check (spec.cc) -> semantic checks -> PolicyImage.
// Every finding is a Diagnostic with file:line:col and YAML path; checking goes on after an error
// so that one run reports everything it can. Exceptions from yaml-cpp stop at this file.
#include <arpa/inet.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "policies/compiler/bandwidth.h"
#include "policies/compiler/names.h"
#include "policies/compiler/policy.h"
#include "policies/compiler/spec.h"
#include "policies/compiler/tzif.h"

namespace cg::policy {

int CompileResult::error_count() const {
  return static_cast<int>(std::count_if(diagnostics.begin(), diagnostics.end(), [](const auto& d) {
    return d.severity == DiagSeverity::kError;
  }));
}
int CompileResult::warning_count() const {
  return static_cast<int>(diagnostics.size()) - error_count();
}

uint64_t fnv1a64(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

namespace {

using api::Ipv4Prefix;
using api::Ipv6Prefix;
using api::U16Range;

std::string default_string(const std::string& key) {
  return nlohmann::json::parse(*spec_at(key).default_json).get<std::string>();
}
int64_t default_int(const std::string& key) {
  return nlohmann::json::parse(*spec_at(key).default_json).get<int64_t>();
}

std::string range_text(U16Range r) {
  return r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + "-" + std::to_string(r.hi);
}

// Calls f(item, path, index) for a scalar-or-list node.
template <class F>
void for_each_item(const YAML::Node& n, const std::string& path, F f) {
  if (!n) return;
  if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) f(n[i], path_index(path, i));
  } else {
    f(n, path);
  }
}

bool parse_uint(const std::string& s, uint32_t max, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

// "5", 5, "100-200" -> range within [min, max].
bool parse_range(const std::string& s, uint32_t min, uint32_t max, U16Range& r, std::string& err) {
  const size_t dash = s.find('-');
  uint32_t lo = 0, hi = 0;
  bool ok = dash == std::string::npos ? parse_uint(s, 0xffff, lo) && ((hi = lo), true)
                                      : parse_uint(s.substr(0, dash), 0xffff, lo) &&
                                            parse_uint(s.substr(dash + 1), 0xffff, hi);
  if (!ok || lo < min || hi > max || lo > hi) {
    if (ok && lo > hi)
      err = "range '" + s + "' ends before it starts";
    else
      err = "'" + s + "' is out of range " + std::to_string(min) + "-" + std::to_string(max);
    return false;
  }
  r.lo = static_cast<uint16_t>(lo);
  r.hi = static_cast<uint16_t>(hi);
  return true;
}

// CIDR or bare address. Returns 4 or 6, 0 on error (err set).
int parse_prefix(const std::string& s, Ipv4Prefix& v4, Ipv6Prefix& v6, std::string& err) {
  const size_t slash = s.find('/');
  const std::string addr = s.substr(0, slash);
  const bool is6 = addr.find(':') != std::string::npos;
  uint32_t len = is6 ? 128 : 32;
  if (slash != std::string::npos && !parse_uint(s.substr(slash + 1), is6 ? 128 : 32, len)) {
    err = "bad prefix length in '" + s + "'";
    return 0;
  }
  if (!is6) {
    in_addr a{};
    if (inet_pton(AF_INET, addr.c_str(), &a) != 1) {
      err = "'" + s + "' is not an IPv4 or IPv6 address/prefix";
      return 0;
    }
    const uint32_t host = ntohl(a.s_addr);
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    if ((host & ~mask) != 0) {
      in_addr fixed{htonl(host & mask)};
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &fixed, buf, sizeof buf);
      err =
          "'" + s + "' has host bits set (did you mean '" + buf + "/" + std::to_string(len) + "'?)";
      return 0;
    }
    v4.addr = host;
    v4.len = static_cast<uint8_t>(len);
    return 4;
  }
  in6_addr a{};
  if (inet_pton(AF_INET6, addr.c_str(), &a) != 1) {
    err = "'" + s + "' is not an IPv4 or IPv6 address/prefix";
    return 0;
  }
  std::memcpy(v6.addr.data(), &a, 16);
  for (uint32_t bit = len; bit < 128; ++bit) {
    if (v6.addr[bit / 8] & (0x80 >> (bit % 8))) {
      err = "'" + s + "' has host bits set beyond /" + std::to_string(len);
      return 0;
    }
  }
  v6.len = static_cast<uint8_t>(len);
  return 6;
}

bool v4_contains(const Ipv4Prefix& a, const Ipv4Prefix& b) {
  if (a.len > b.len) return false;
  const uint32_t mask = a.len == 0 ? 0 : ~uint32_t{0} << (32 - a.len);
  return (b.addr & mask) == a.addr;
}
bool v6_contains(const Ipv6Prefix& a, const Ipv6Prefix& b) {
  if (a.len > b.len) return false;
  for (unsigned bit = 0; bit < a.len; ++bit) {
    const uint8_t m = static_cast<uint8_t>(0x80 >> (bit % 8));
    if ((a.addr[bit / 8] & m) != (b.addr[bit / 8] & m)) return false;
  }
  return true;
}

bool parse_hhmm(const std::string& s, bool is_end, int& minutes, std::string& err) {
  const size_t colon = s.find(':');
  uint32_t h = 0, m = 0;
  if (colon == std::string::npos || !parse_uint(s.substr(0, colon), 99, h) ||
      !parse_uint(s.substr(colon + 1), 99, m)) {
    err = "bad time '" + s + "'";
    return false;
  }
  if (m > 59 || h > 24 || (h == 24 && (m != 0 || !is_end))) {
    err = "'" + s + "' is not a time of day (00:00-23:59, or 24:00 as an end)";
    return false;
  }
  minutes = static_cast<int>(h * 60 + m);
  return true;
}

bool parse_date(const std::string& s, int32_t& day, std::string& err) {
  uint32_t y = 0, m = 0, d = 0;
  if (s.size() != 10 || s[4] != '-' || s[7] != '-' || !parse_uint(s.substr(0, 4), 9999, y) ||
      !parse_uint(s.substr(5, 2), 99, m) || !parse_uint(s.substr(8, 2), 99, d)) {
    err = "bad date '" + s + "' (expected YYYY-MM-DD)";
    return false;
  }
  if (!valid_civil_date(y, m, d)) {
    err = (y < 1970 || y > 2199) ? "date '" + s + "' is outside 1970-2199"
                                 : "'" + s + "' is not a calendar date";
    return false;
  }
  day = static_cast<int32_t>(days_from_civil(y, m, d));
  return true;
}

// Offset of the first byte that is not part of a well-formed UTF-8 sequence, or npos.
size_t first_invalid_utf8(std::string_view t) {
  size_t i = 0;
  while (i < t.size()) {
    const auto c = static_cast<unsigned char>(t[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return i;
    }
    for (size_t k = 1; k <= n; ++k) {
      if (i + k >= t.size()) return i;
      const auto cc = static_cast<unsigned char>(t[i + k]);
      if ((cc & 0xc0) != 0x80) return i;
      cp = cp << 6 | (cc & 0x3f);
    }
    static const uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return std::string_view::npos;
}

// Records where a second YAML document with content starts.
class DocumentCounter : public YAML::EventHandler {
 public:
  int documents = 0;
  bool found_second = false;
  YAML::Mark second;
  void OnDocumentStart(const YAML::Mark& m) override {
    ++documents;
    note(m);
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnAlias(const YAML::Mark& m, YAML::anchor_t) override { note(m); }
  void OnScalar(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                const std::string&) override {
    note(m);
  }
  void OnSequenceStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& m, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    note(m);
  }
  void OnMapEnd() override {}

 private:
  void note(const YAML::Mark& m) {
    if (documents >= 2 && !found_second) {
      found_second = true;
      second = m;
    }
  }
};

// A YAML stream holds a second document only after a document marker ("---" or "...") at the
// start of a line (YAML 1.2 §9.2); such a line cannot be content either. A policy without one
// line like that has one document, and the second full parse below is skipped (it was a third
// of the compile time of a 10,000-rule policy).
bool has_document_marker(std::string_view text) {
  for (size_t at = 0; at < text.size();) {
    const size_t nl = std::min(text.find('\n', at), text.size());
    const std::string_view line = text.substr(at, nl - at);
    if (line.size() >= 3 && (line.substr(0, 3) == "---" || line.substr(0, 3) == "...") &&
        (line.size() == 3 || line[3] == ' ' || line[3] == '\t' || line[3] == '\r'))
      return true;
    at = nl + 1;
  }
  return false;
}

bool has_second_document(std::string_view text, YAML::Mark& where) {
  if (!has_document_marker(text)) return false;
  std::istringstream in{std::string(text)};
  DocumentCounter counter;
  try {
    YAML::Parser parser(in);
    for (int i = 0; i < 3 && !counter.found_second && parser.HandleNextDocument(counter); ++i) {
    }
  } catch (const YAML::Exception& e) {
    if (counter.documents >= 2 && !counter.found_second) {
      counter.found_second = true;
      counter.second = e.mark;
    }
  }
  where = counter.second;
  return counter.found_second;
}

// A mapping's values by key, collected in one pass. yaml-cpp's Node::operator[] converts every
// key of the mapping to a string on each lookup; the rule compiler looks up some fifteen keys
// per rule, which made lookups most of its time on 10,000-rule policies. The first of duplicate
// keys wins, as with operator[] (duplicates are reported by the structural check).
class Fields {
 public:
  explicit Fields(const YAML::Node& map) {
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar()) entries_.emplace_back(it->first.Scalar(), it->second);
  }
  // The value, or an undefined node (false, neither scalar nor collection) when absent: one
  // shared node (creating a node allocates), so callers only read what they get.
  const YAML::Node& operator[](std::string_view key) const {
    static const YAML::Node kAbsent{YAML::NodeType::Undefined};
    for (const auto& [k, v] : entries_)
      if (k == key) return v;
    return kAbsent;
  }

 private:
  std::vector<std::pair<std::string, YAML::Node>> entries_;
};

// yaml-cpp counts columns in bytes; editors (and people) count characters. Convert, so that
// `name: 乌海市第一中学, timezone: X` points at X where an editor shows it.
void to_character_columns(std::string_view text, std::vector<Diagnostic>& diags) {
  std::vector<size_t> starts{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n') starts.push_back(i + 1);
  for (auto& d : diags) {
    if (d.line <= 0 || d.col <= 0 || static_cast<size_t>(d.line) > starts.size()) continue;
    const size_t begin = starts[static_cast<size_t>(d.line) - 1];
    int chars = 0;
    for (size_t i = begin; i < begin + static_cast<size_t>(d.col) - 1 && i < text.size(); ++i)
      if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) ++chars;
    d.col = chars + 1;
  }
}

struct AppRef {
  uint16_t id;
  YAML::Node node;
};

struct RuleSource {
  YAML::Node node;
  std::string path;
};

class Compiler {
 public:
  Compiler(std::string file, const CompileOptions& opt) : file_(std::move(file)), opt_(opt) {}

  CompileResult run(std::string_view text) {
    CompileResult result;
    if (size_t bad = first_invalid_utf8(text); bad != std::string_view::npos) {
      // Typically a file saved as GBK/GB18030 by a Windows editor.
      Diagnostic d;
      d.file = file_;
      d.line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + bad, '\n'));
      const size_t line_start = text.rfind('\n', bad == 0 ? 0 : bad - 1);
      d.col =
          1 + static_cast<int>(bad - (line_start == std::string_view::npos ? 0 : line_start + 1));
      d.message = "the file is not valid UTF-8 here (save it as UTF-8; GBK is not supported)";
      diags_.push_back(d);
      to_character_columns(text, diags_);
      result.diagnostics = std::move(diags_);
      return result;
    }
    std::vector<YAML::Node> docs;
    try {
      // YAML::LoadAll loops forever on some malformed input in yaml-cpp 0.7 (e.g. " ,", found
      // by fuzz_policy_yaml); Load parses one document, and a bounded pass looks for a second.
      docs.push_back(YAML::Load(std::string(text)));
    } catch (const YAML::Exception& e) {
      Diagnostic d;
      d.file = file_;
      if (!e.mark.is_null()) {
        d.line = e.mark.line + 1;
        d.col = e.mark.column + 1;
      }
      d.message = "YAML syntax: " + e.msg;
      diags_.push_back(d);
      to_character_columns(text, diags_);
      result.diagnostics = std::move(diags_);
      return result;
    }
    if (docs.empty() || docs[0].IsNull()) {
      error(YAML::Node(), "", "the policy is empty");
    } else {
      if (YAML::Mark second; has_second_document(text, second)) {
        Diagnostic d;
        d.file = file_;
        d.line = second.line + 1;
        d.col = second.column + 1;
        d.message = "one policy per file: found a second YAML document";
        diags_.push_back(d);
      }
      try {
        compile(docs[0], text);
      } catch (const YAML::Exception& e) {  // defensive: the checks above should prevent it
        error(YAML::Node(), "", std::string("internal: unexpected YAML shape: ") + e.what());
      }
    }
    to_character_columns(text, diags_);
    std::stable_sort(diags_.begin(), diags_.end(), [](const Diagnostic& a, const Diagnostic& b) {
      return std::tie(a.line, a.col) < std::tie(b.line, b.col);
    });
    result.diagnostics = std::move(diags_);
    if (result.ok()) result.image = std::move(image_);
    return result;
  }

 private:
  void error(const YAML::Node& n, const std::string& path, std::string msg) {
    add(n, path, std::move(msg), DiagSeverity::kError);
  }
  void warn(const YAML::Node& n, const std::string& path, std::string msg) {
    add(n, path, std::move(msg), DiagSeverity::kWarning);
  }
  void add(const YAML::Node& n, const std::string& path, std::string msg, DiagSeverity sev) {
    Diagnostic d = n.IsDefined() ? diag_at(n, path, std::move(msg), sev) : Diagnostic{};
    if (!n.IsDefined()) {
      d.severity = sev;
      d.path = path;
      d.message = std::move(msg);
    }
    d.file = file_;
    // One error per position: a value the structural check rejected is not reported again.
    if (sev == DiagSeverity::kError && d.line > 0 &&
        std::any_of(diags_.begin(), diags_.end(), [&](const Diagnostic& x) {
          return x.severity == DiagSeverity::kError && x.line == d.line && x.col == d.col &&
                 x.path == d.path;
        }))
      return;
    diags_.push_back(std::move(d));
  }
  bool has_errors() const {
    return std::any_of(diags_.begin(), diags_.end(),
                       [](const Diagnostic& d) { return d.severity == DiagSeverity::kError; });
  }
  static std::string str(const YAML::Node& n) { return n && n.IsScalar() ? n.Scalar() : ""; }
  static bool is_str(const YAML::Node& n) { return n && n.IsScalar() && !is_plain_non_string(n); }

  void compile(const YAML::Node& root, std::string_view text) {
    check_structure(root, policy_spec(), "", diags_);
    for (auto& d : diags_) d.file = file_;
    image_ = std::make_shared<api::PolicyImage>();
    image_->generation = opt_.generation;
    image_->source_digest = fnv1a64(text);
    image_->source_name = file_;
    if (!root.IsMap()) return;
    compile_school(root["school"]);
    compile_zones(root["zones"]);
    compile_schedules(root["schedules"]);
    compile_apps(root["apps"]);
    compile_rules(root["rules"]);
    compile_bandwidth_section(root["bandwidth"]);
    const YAML::Node def = root["default"];
    image_->default_action = action_of(is_str(def) ? str(def) : default_string("default"));
    const YAML::Node insp = root["inspection"];
    image_->inspection.max_packets = static_cast<uint16_t>(default_int("inspection.max-packets"));
    image_->inspection.while_inspecting = default_string("inspection.while-inspecting") == "drop"
                                              ? api::WhileInspecting::kDrop
                                              : api::WhileInspecting::kPass;
    if (insp && insp.IsMap()) {
      const YAML::Node mp = insp["max-packets"];
      uint32_t v = 0;
      if (mp && mp.IsScalar() && parse_uint(mp.Scalar(), 255, v) && v > 0)
        image_->inspection.max_packets = static_cast<uint16_t>(v);
      const YAML::Node wi = insp["while-inspecting"];
      std::string w = is_str(wi) ? str(wi) : default_string("inspection.while-inspecting");
      image_->inspection.while_inspecting =
          w == "drop" ? api::WhileInspecting::kDrop : api::WhileInspecting::kPass;
    }
    report_unused();
    if (!has_errors()) check_shadowing();
  }

  static api::Action action_of(const std::string& s) {
    if (s == "deny") return api::Action::kDeny;
    if (s == "log") return api::Action::kLog;
    return api::Action::kAllow;
  }

  // ---- school ---------------------------------------------------------------------------
  void compile_school(const YAML::Node& school) {
    if (!school || !school.IsMap()) return;
    image_->school_id = str(school["id"]);
    image_->school_name = str(school["name"]);
    image_->school_district = str(school["district"]);
    const YAML::Node tzn = school["timezone"];
    if (tzn && !is_str(tzn)) return;  // structural error already reported
    const std::string tz = tzn ? str(tzn) : default_string("school.timezone");
    std::string err;
    if (!load_timezone(opt_.zoneinfo_dir, tz, opt_.tz_last_year, image_->timezone, err)) {
      std::string msg;
      if (err.rfind("no such timezone", 0) == 0 || err == "bad timezone name")
        msg = "unknown timezone '" + tz + "'" +
              suggestion_suffix(tz, list_timezones(opt_.zoneinfo_dir));
      else
        msg = "cannot use timezone '" + tz + "': " + err;
      error(tzn ? tzn : school, tzn ? "school.timezone" : "school", msg);
    }
  }

  // ---- zones ------------------------------------------------------------------------------
  struct VlanDecl {
    U16Range range;
    size_t zone;
    YAML::Node node;
    std::string path;
  };
  void compile_zones(const YAML::Node& zones) {
    if (!zones || !zones.IsMap()) return;
    std::vector<VlanDecl> vlans;
    std::map<std::string, std::pair<size_t, YAML::Node>> subnets;  // canonical text -> zone
    for (auto it = zones.begin(); it != zones.end(); ++it) {
      const std::string name = str(it->first);
      if (zone_ids_.count(name)) continue;  // duplicate: reported structurally
      const size_t id = image_->zones.size();
      zone_ids_[name] = id;
      zone_nodes_.push_back(it->first);
      zone_used_.push_back(false);
      api::Zone z;
      z.name = name;
      const std::string zpath = path_join("zones", name);
      const YAML::Node body = it->second;
      if (body.IsMap()) {
        const YAML::Node vl = body["vlans"];
        if (vl && vl.IsSequence()) {
          for (size_t i = 0; i < vl.size(); ++i) {
            if (!vl[i].IsScalar()) continue;
            U16Range r;
            std::string err;
            const std::string p = path_index(path_join(zpath, "vlans"), i);
            if (!parse_range(vl[i].Scalar(), 1, 4094, r, err)) {
              error(vl[i], p, "VLAN " + err);
              continue;
            }
            z.vlans.push_back(r);
            vlans.push_back({r, id, vl[i], p});
          }
        }
        const YAML::Node sn = body["subnets"];
        if (sn && sn.IsSequence()) {
          for (size_t i = 0; i < sn.size(); ++i) {
            if (!sn[i].IsScalar()) continue;
            const std::string p = path_index(path_join(zpath, "subnets"), i);
            Ipv4Prefix v4;
            Ipv6Prefix v6;
            std::string err;
            const int fam = parse_prefix(sn[i].Scalar(), v4, v6, err);
            if (fam == 0) {
              error(sn[i], p, err);
              continue;
            }
            fam == 4 ? z.v4.push_back(v4) : z.v6.push_back(v6);
            const std::string canon = canonical_prefix(fam, v4, v6);
            auto [pos, fresh] = subnets.emplace(canon, std::make_pair(id, sn[i]));
            if (!fresh) {
              const std::string other = image_->zones.size() > pos->second.first
                                            ? image_->zones[pos->second.first].name
                                            : name;
              error(sn[i], p,
                    "subnet " + canon + " is already in zone '" + other + "' (line " +
                        std::to_string(pos->second.second.Mark().line + 1) + ")");
            }
          }
        }
        if (!vl && !sn) error(it->first, zpath, "zone '" + name + "' has no vlans and no subnets");
      }
      image_->zones.push_back(std::move(z));
    }
    // Overlapping VLANs (between zones or within one).
    for (size_t j = 0; j < vlans.size(); ++j) {
      for (size_t i = 0; i < j; ++i) {
        const auto& a = vlans[i];
        const auto& b = vlans[j];
        if (b.range.lo > a.range.hi || a.range.lo > b.range.hi) continue;
        const std::string where = a.zone == b.zone ? "another entry of the same zone"
                                                   : "zone '" + image_->zones[a.zone].name + "'";
        error(b.node, b.path,
              "VLANs " + range_text(b.range) + " overlap VLANs " + range_text(a.range) + " of " +
                  where + " (line " + std::to_string(a.node.Mark().line + 1) + ")");
        break;
      }
    }
    if (image_->zones.size() >= api::kNoZone) error(zones, "zones", "too many zones");
  }

  static std::string canonical_prefix(int fam, const Ipv4Prefix& v4, const Ipv6Prefix& v6) {
    char buf[INET6_ADDRSTRLEN];
    if (fam == 4) {
      in_addr a{htonl(v4.addr)};
      inet_ntop(AF_INET, &a, buf, sizeof buf);
      return std::string(buf) + "/" + std::to_string(v4.len);
    }
    inet_ntop(AF_INET6, v6.addr.data(), buf, sizeof buf);
    return std::string(buf) + "/" + std::to_string(v6.len);
  }

  // ---- schedules --------------------------------------------------------------------------
  void compile_schedules(const YAML::Node& schedules) {
    if (!schedules || !schedules.IsMap()) return;
    for (auto it = schedules.begin(); it != schedules.end(); ++it) {
      const std::string name = str(it->first);
      if (schedule_ids_.count(name)) continue;
      schedule_ids_[name] = image_->schedules.size();
      schedule_nodes_.push_back(it->first);
      schedule_used_.push_back(false);
      api::Schedule s;
      s.name = name;
      const std::string spath = path_join("schedules", name);
      const YAML::Node body = it->second;
      if (body.IsMap()) compile_schedule_body(body, spath, it->first, s);
      image_->schedules.push_back(std::move(s));
    }
    if (image_->schedules.size() > 64)
      error(schedules, "schedules",
            "at most 64 schedules per policy (found " + std::to_string(image_->schedules.size()) +
                ")");
  }

  void compile_schedule_body(const YAML::Node& body, const std::string& spath,
                             const YAML::Node& key, api::Schedule& s) {
    static const std::map<std::string, uint8_t> kDays = {
        {"mon", 1},  {"tue", 2},  {"wed", 4},       {"thu", 8},      {"fri", 16},
        {"sat", 32}, {"sun", 64}, {"weekdays", 31}, {"weekend", 96}, {"daily", 127}};
    const YAML::Node days = body["days"];
    if (days && days.IsSequence()) {
      s.days_mask = 0;
      for (size_t i = 0; i < days.size(); ++i) {
        auto d = kDays.find(str(days[i]));
        if (d == kDays.end()) continue;  // structural error already
        if (s.days_mask & d->second)
          warn(days[i], path_index(path_join(spath, "days"), i),
               "day '" + d->first + "' is listed twice");
        s.days_mask |= d->second;
      }
      if (s.days_mask == 0) s.days_mask = 0x7f;  // only invalid entries: already reported
    }
    const YAML::Node times = body["times"];
    if (times && times.IsSequence()) {
      for (size_t i = 0; i < times.size(); ++i) {
        const std::string p = path_index(path_join(spath, "times"), i);
        const std::string t = str(times[i]);
        const size_t dash = t.find('-');
        if (dash == std::string::npos) continue;  // structural error already
        int a = 0, b = 0;
        std::string err;
        if (!parse_hhmm(t.substr(0, dash), false, a, err) ||
            !parse_hhmm(t.substr(dash + 1), true, b, err)) {
          error(times[i], p, err);
          continue;
        }
        if (a == b) {
          error(times[i], p, "time window '" + t + "' is empty (start equals end)");
          continue;
        }
        if (b == 0) b = 1440;  // "22:00-00:00" means until midnight
        s.windows.push_back({static_cast<uint16_t>(a), static_cast<uint16_t>(b)});
      }
    }
    compile_dates(body["dates"], path_join(spath, "dates"), s.dates);
    compile_dates(body["except-dates"], path_join(spath, "except-dates"), s.except_dates);
    if (!days && !times && !body["dates"])
      warn(key, spec_path_or(spath),
           "schedule '" + s.name + "' has no days, times or dates: it is always active");
    // Impossible combinations: a date list none of whose days the schedule runs on.
    if (!s.dates.empty()) {
      bool any = false;
      for (const auto& r : s.dates) {
        for (int64_t d = r.first; d <= r.last && d - r.first < 4000 && !any; ++d)
          any = api::schedule_day_ok(s, d);
        if (any) break;
      }
      if (!any)
        error(body["dates"], path_join(spath, "dates"),
              "schedule '" + s.name +
                  "' is never active: none of its dates falls on its days (or all are "
                  "except-dates)");
    }
  }
  static std::string spec_path_or(const std::string& p) { return p; }

  void compile_dates(const YAML::Node& list, const std::string& path,
                     std::vector<api::DayRange>& out) {
    if (!list || !list.IsSequence()) return;
    for (size_t i = 0; i < list.size(); ++i) {
      const std::string p = path_index(path, i);
      const std::string t = str(list[i]);
      const size_t dots = t.find("..");
      int32_t a = 0, b = 0;
      std::string err;
      if (!parse_date(t.substr(0, dots), a, err) ||
          (dots != std::string::npos && !parse_date(t.substr(dots + 2), b, err))) {
        if (t.size() >= 10) error(list[i], p, err);  // shorter: structural error already
        continue;
      }
      if (dots == std::string::npos) b = a;
      if (b < a) {
        error(list[i], p, "date range '" + t + "' ends before it starts");
        continue;
      }
      out.push_back({a, b});
    }
  }

  // ---- apps -------------------------------------------------------------------------------
  void compile_apps(const YAML::Node& apps) {
    if (!apps || !apps.IsMap()) return;
    const NdpiCatalog& cat = NdpiCatalog::instance();
    for (auto it = apps.begin(); it != apps.end(); ++it) {
      const std::string name = str(it->first);
      if (app_ids_.count(name)) continue;
      app_ids_[name] = image_->apps.size();
      app_nodes_.push_back(it->first);
      app_used_.push_back(false);
      api::AppMatch a;
      a.name = name;
      const std::string apath = path_join("apps", name);
      const YAML::Node body = it->second;
      if (body.IsMap()) {
        const YAML::Node protos = body["protocols"];
        if (protos && protos.IsSequence()) {
          for (size_t i = 0; i < protos.size(); ++i) {
            const std::string p = str(protos[i]);
            if (!is_str(protos[i])) continue;
            if (auto id = cat.protocol_id(p)) {
              a.protocols.push_back(*id);
            } else {
              std::string msg =
                  "unknown protocol '" + p + "'" + suggestion_suffix(p, cat.protocol_names());
              if (cat.category_id(p))
                msg += "; '" + p + "' is an nDPI category: list it under categories";
              error(protos[i], path_index(path_join(apath, "protocols"), i), msg);
            }
          }
        }
        const YAML::Node cats = body["categories"];
        if (cats && cats.IsSequence()) {
          for (size_t i = 0; i < cats.size(); ++i) {
            const std::string c = str(cats[i]);
            if (!is_str(cats[i])) continue;
            if (auto id = cat.category_id(c)) {
              a.categories.push_back(*id);
            } else {
              std::string msg =
                  "unknown category '" + c + "'" + suggestion_suffix(c, cat.category_names());
              if (cat.protocol_id(c))
                msg += "; '" + c + "' is an nDPI protocol: list it under protocols";
              error(cats[i], path_index(path_join(apath, "categories"), i), msg);
            }
          }
        }
        const YAML::Node hosts = body["hosts"];
        if (hosts && hosts.IsSequence()) {
          for (size_t i = 0; i < hosts.size(); ++i) {
            std::string h = str(hosts[i]);
            if (!is_str(hosts[i]) || h.empty()) continue;
            std::transform(h.begin(), h.end(), h.begin(),
                           [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
            api::HostPattern hp;
            hp.wildcard = h.rfind("*.", 0) == 0;
            hp.name = hp.wildcard ? h.substr(2) : h;
            if (hp.name.find("..") != std::string::npos || hp.name.find('.') == std::string::npos) {
              error(hosts[i], path_index(path_join(apath, "hosts"), i),
                    "'" + str(hosts[i]) + "' is not a host name with a domain (e.g. *.example.cn)");
              continue;
            }
            a.hosts.push_back(hp);
          }
        }
        if (!body["protocols"] && !body["categories"] && !body["hosts"])
          error(it->first, apath, "app group '" + name + "' has no protocols, categories or hosts");
      }
      std::sort(a.protocols.begin(), a.protocols.end());
      a.protocols.erase(std::unique(a.protocols.begin(), a.protocols.end()), a.protocols.end());
      std::sort(a.categories.begin(), a.categories.end());
      a.categories.erase(std::unique(a.categories.begin(), a.categories.end()), a.categories.end());
      image_->apps.push_back(std::move(a));
    }
  }

  // ---- rules ------------------------------------------------------------------------------
  template <class Ids>
  std::vector<uint16_t> resolve(const YAML::Node& n, const std::string& path, const Ids& ids,
                                std::vector<bool>& used, const char* what) {
    std::vector<uint16_t> out;
    for_each_item(n, path, [&](const YAML::Node& item, const std::string& p) {
      if (!is_str(item)) return;
      const std::string name = item.Scalar();
      auto it = ids.find(name);
      if (it == ids.end()) {
        std::vector<std::string> names;
        for (const auto& [k, v] : ids) names.push_back(k);
        error(
            item, p,
            std::string("undefined ") + what + " '" + name + "'" + suggestion_suffix(name, names));
        return;
      }
      used[it->second] = true;
      out.push_back(static_cast<uint16_t>(it->second));
    });
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

  void compile_addresses(const YAML::Node& n, const std::string& path, std::vector<Ipv4Prefix>& v4s,
                         std::vector<Ipv6Prefix>& v6s, bool& any_family) {
    if (!n) return;
    any_family = false;
    for_each_item(n, path, [&](const YAML::Node& item, const std::string& p) {
      if (!item.IsScalar()) return;
      Ipv4Prefix v4;
      Ipv6Prefix v6;
      std::string err;
      const int fam = parse_prefix(item.Scalar(), v4, v6, err);
      if (fam == 0) return error(item, p, err);
      fam == 4 ? v4s.push_back(v4) : v6s.push_back(v6);
    });
  }

  void compile_ports(const YAML::Node& n, const std::string& path, std::vector<U16Range>& out) {
    for_each_item(n, path, [&](const YAML::Node& item, const std::string& p) {
      if (!item.IsScalar()) return;
      U16Range r;
      std::string err;
      if (!parse_range(item.Scalar(), 0, 65535, r, err)) return error(item, p, "port " + err);
      out.push_back(r);
    });
  }

  void compile_rules(const YAML::Node& rules) {
    if (!rules || !rules.IsSequence()) return;
    std::map<std::string, size_t> names;
    for (size_t i = 0; i < rules.size(); ++i) {
      const YAML::Node rnode = rules[i];
      const std::string rpath = path_index("rules", i);
      if (!rnode.IsMap()) continue;
      const Fields r(rnode);
      api::Rule rule;
      rule.name = str(r["name"]);
      rule.line = static_cast<uint32_t>(rnode.Mark().line + 1);
      if (!rule.name.empty()) {
        auto [pos, fresh] = names.emplace(rule.name, i);
        if (!fresh)
          error(r["name"], path_join(rpath, "name"),
                "duplicate rule name '" + rule.name + "' (first used by rules[" +
                    std::to_string(pos->second) + "])");
      }
      rule.from_zones = resolve(r["from"], path_join(rpath, "from"), zone_ids_, zone_used_, "zone");
      rule.to_zones = resolve(r["to"], path_join(rpath, "to"), zone_ids_, zone_used_, "zone");
      compile_addresses(r["src"], path_join(rpath, "src"), rule.src_v4, rule.src_v6,
                        rule.src_any_family);
      compile_addresses(r["dst"], path_join(rpath, "dst"), rule.dst_v4, rule.dst_v6,
                        rule.dst_any_family);
      compile_ports(r["src-ports"], path_join(rpath, "src-ports"), rule.src_ports);
      compile_ports(r["dst-ports"], path_join(rpath, "dst-ports"), rule.dst_ports);
      static const std::map<std::string, uint8_t> kProto = {
          {"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmpv6", 58}};
      for_each_item(r["protocol"], path_join(rpath, "protocol"),
                    [&](const YAML::Node& item, const std::string&) {
                      auto p = kProto.find(str(item));
                      if (p != kProto.end()) rule.l4_protocols.push_back(p->second);
                    });
      std::sort(rule.l4_protocols.begin(), rule.l4_protocols.end());
      rule.l4_protocols.erase(std::unique(rule.l4_protocols.begin(), rule.l4_protocols.end()),
                              rule.l4_protocols.end());
      const bool has_ports = r["src-ports"] || r["dst-ports"];
      if (has_ports) {
        if (rule.l4_protocols.empty()) {
          rule.l4_protocols = {6, 17};
        } else if (std::none_of(rule.l4_protocols.begin(), rule.l4_protocols.end(),
                                [](uint8_t p) { return p == 6 || p == 17; })) {
          error(r["protocol"], path_join(rpath, "protocol"), "ports need protocol tcp or udp");
        }
      }
      const YAML::Node app = r["app"], to_app = r["to-app"];
      if (app && to_app)
        error(to_app, path_join(rpath, "to-app"), "use either app or to-app in one rule, not both");
      if (app) {
        rule.apps = resolve(app, path_join(rpath, "app"), app_ids_, app_used_, "app group");
      } else if (to_app) {
        rule.apps = resolve(to_app, path_join(rpath, "to-app"), app_ids_, app_used_, "app group");
        rule.app_direction = api::AppDirection::kToApp;
      }
      rule.except_apps = resolve(r["except-app"], path_join(rpath, "except-app"), app_ids_,
                                 app_used_, "app group");
      for (uint16_t e : rule.except_apps)
        if (std::find(rule.apps.begin(), rule.apps.end(), e) != rule.apps.end())
          error(r["except-app"], path_join(rpath, "except-app"),
                "app group '" + image_->apps[e].name + "' is both matched and excepted");
      const YAML::Node when = r["when"];
      if (when && is_str(when)) {
        auto ids =
            resolve(when, path_join(rpath, "when"), schedule_ids_, schedule_used_, "schedule");
        if (!ids.empty()) rule.schedule = ids[0];
      }
      rule.action = action_of(str(r["action"]));
      const YAML::Node reset = r["reset"];
      if (reset && str(reset) == "true") {
        if (rule.action != api::Action::kDeny)
          error(reset, path_join(rpath, "reset"), "reset is only valid with action: deny");
        else if (!rule.l4_protocols.empty() &&
                 !std::binary_search(rule.l4_protocols.begin(), rule.l4_protocols.end(), 6))
          error(reset, path_join(rpath, "reset"), "reset needs TCP, but the rule excludes tcp");
        rule.tcp_reset = true;
      }
      static const std::map<std::string, api::Severity> kSev = {
          {"info", api::Severity::kInfo},
          {"low", api::Severity::kLow},
          {"medium", api::Severity::kMedium},
          {"high", api::Severity::kHigh},
          {"critical", api::Severity::kCritical}};
      if (auto s = kSev.find(str(r["alert"])); s != kSev.end()) rule.alert = s->second;
      image_->rules.push_back(std::move(rule));
      rule_sources_.push_back({rnode, rpath});
    }
  }

  void compile_bandwidth_section(const YAML::Node& bw) {
    BandwidthContext ctx;
    ctx.image = image_.get();
    ctx.zones = {&zone_ids_, &zone_used_};
    ctx.schedules = {&schedule_ids_, &schedule_used_};
    ctx.apps = {&app_ids_, &app_used_};
    ctx.report = [this](const YAML::Node& n, const std::string& path, std::string msg,
                        DiagSeverity sev) { add(n, path, std::move(msg), sev); };
    compile_bandwidth(bw, ctx);
  }

  void report_unused() {
    auto each = [&](const std::vector<YAML::Node>& nodes, const std::vector<bool>& used,
                    const char* section, const char* what) {
      for (size_t i = 0; i < nodes.size(); ++i)
        if (!used[i])
          warn(nodes[i], path_join(section, nodes[i].Scalar()),
               std::string(what) + " '" + nodes[i].Scalar() + "' is not used by any rule");
    };
    each(zone_nodes_, zone_used_, "zones", "zone");
    each(schedule_nodes_, schedule_used_, "schedules", "schedule");
    each(app_nodes_, app_used_, "apps", "app group");
  }

  // ---- shadowing ----------------------------------------------------------------------------
  // Rule b is unreachable if one earlier rule a matches every flow b matches. The test is
  // per dimension and conservative (it never claims shadowing that is not there).
  static bool ids_cover(const std::vector<uint16_t>& a, const std::vector<uint16_t>& b) {
    if (a.empty()) return true;
    if (b.empty()) return false;
    return std::includes(a.begin(), a.end(), b.begin(), b.end());
  }
  static bool protos_cover(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
    if (a.empty()) return true;
    if (b.empty()) return false;
    return std::includes(a.begin(), a.end(), b.begin(), b.end());
  }
  static bool ports_cover(const std::vector<U16Range>& a, const std::vector<U16Range>& b) {
    if (a.empty()) return true;
    if (b.empty()) return false;
    std::vector<U16Range> s = a;
    std::sort(s.begin(), s.end(), [](auto x, auto y) { return x.lo < y.lo; });
    for (const auto& r : b) {
      uint32_t need = r.lo;
      for (const auto& x : s)
        if (x.lo <= need && x.hi >= need) need = uint32_t{x.hi} + 1;
      if (need <= r.hi) return false;
    }
    return true;
  }
  static bool addrs_cover(const std::vector<Ipv4Prefix>& a4, const std::vector<Ipv6Prefix>& a6,
                          bool a_any, const std::vector<Ipv4Prefix>& b4,
                          const std::vector<Ipv6Prefix>& b6, bool b_any) {
    if (a_any && a4.empty() && a6.empty()) return true;
    if (b_any && b4.empty() && b6.empty()) return false;
    for (const auto& p : b4)
      if (std::none_of(a4.begin(), a4.end(), [&](const auto& q) { return v4_contains(q, p); }))
        return false;
    for (const auto& p : b6)
      if (std::none_of(a6.begin(), a6.end(), [&](const auto& q) { return v6_contains(q, p); }))
        return false;
    return true;
  }
  api::AppMatch merged(const std::vector<uint16_t>& ids) const {
    api::AppMatch m;
    for (uint16_t id : ids) {
      const auto& a = image_->apps[id];
      m.protocols.insert(m.protocols.end(), a.protocols.begin(), a.protocols.end());
      m.categories.insert(m.categories.end(), a.categories.begin(), a.categories.end());
      m.hosts.insert(m.hosts.end(), a.hosts.begin(), a.hosts.end());
    }
    std::sort(m.protocols.begin(), m.protocols.end());
    std::sort(m.categories.begin(), m.categories.end());
    return m;
  }
  static bool host_covers(const api::HostPattern& a, const api::HostPattern& b) {
    if (!a.wildcard) return !b.wildcard && a.name == b.name;
    // *.x covers y.x and *.y.x
    return api::host_matches(a, b.name);
  }
  static bool app_content_covers(const api::AppMatch& a, const api::AppMatch& b) {
    if (!std::includes(a.protocols.begin(), a.protocols.end(), b.protocols.begin(),
                       b.protocols.end()))
      return false;
    if (!std::includes(a.categories.begin(), a.categories.end(), b.categories.begin(),
                       b.categories.end()))
      return false;
    for (const auto& h : b.hosts)
      if (std::none_of(a.hosts.begin(), a.hosts.end(),
                       [&](const auto& x) { return host_covers(x, h); }))
        return false;
    return true;
  }
  bool covers(const api::Rule& a, const api::Rule& b) const {
    if (!ids_cover(a.from_zones, b.from_zones) || !ids_cover(a.to_zones, b.to_zones)) return false;
    if (!addrs_cover(a.src_v4, a.src_v6, a.src_any_family, b.src_v4, b.src_v6, b.src_any_family))
      return false;
    if (!addrs_cover(a.dst_v4, a.dst_v6, a.dst_any_family, b.dst_v4, b.dst_v6, b.dst_any_family))
      return false;
    if (!ports_cover(a.src_ports, b.src_ports) || !ports_cover(a.dst_ports, b.dst_ports))
      return false;
    if (!protos_cover(a.l4_protocols, b.l4_protocols)) return false;
    if (a.schedule != api::kNoSchedule && a.schedule != b.schedule) return false;
    // b with `app` also matches with client and server swapped; a covers those flows only if
    // it does too, or if its L3/L4 conditions are the same both ways round.
    const bool b_both_ways = !b.apps.empty() && b.app_direction == api::AppDirection::kAnyDirection;
    const bool a_both_ways = !a.apps.empty() && a.app_direction == api::AppDirection::kAnyDirection;
    const bool a_symmetric = a.from_zones.empty() && a.to_zones.empty() && a.src_any_family &&
                             a.src_v4.empty() && a.src_v6.empty() && a.dst_any_family &&
                             a.dst_v4.empty() && a.dst_v6.empty() && a.src_ports.empty() &&
                             a.dst_ports.empty();
    if (b_both_ways && !a_both_ways && !a_symmetric) return false;
    if (!a.apps.empty()) {
      if (b.apps.empty()) return false;
      if (a.app_direction == api::AppDirection::kToApp &&
          b.app_direction != api::AppDirection::kToApp)
        return false;
      if (!app_content_covers(merged(a.apps), merged(b.apps))) return false;
    }
    if (!a.except_apps.empty()) {
      if (b.except_apps.empty()) return false;
      if (!app_content_covers(merged(b.except_apps), merged(a.except_apps))) return false;
    }
    return true;
  }

  // A necessary condition for covers(), as bit operations: zone sets hashed into 64-bit masks
  // (B ⊆ A implies mask(B) ⊆ mask(A)). Keeps the pairwise checks cheap.
  // Addresses too: the smallest IPv4 prefix holding all of a side's IPv4 prefixes (b's prefixes
  // inside a's imply b's covering prefix inside a's).
  struct AddrSig {
    bool any = true;   // no address condition on this side
    bool v4 = false;   // has IPv4 prefixes
    Ipv4Prefix hull;   // covering prefix of them
  };
  struct ZoneSig {
    uint64_t from = 0, to = 0;
    bool from_any = true, to_any = true;
    AddrSig src, dst;
  };
  static AddrSig addr_signature(const std::vector<Ipv4Prefix>& v4,
                                const std::vector<Ipv6Prefix>& v6, bool any_family) {
    AddrSig s;
    s.any = any_family && v4.empty() && v6.empty();
    s.v4 = !v4.empty();
    if (s.v4) {
      s.hull = v4[0];
      for (const auto& p : v4)
        while (!v4_contains(s.hull, p)) {
          s.hull.len = static_cast<uint8_t>(s.hull.len - 1);
          s.hull.addr &= s.hull.len ? ~uint32_t{0} << (32 - s.hull.len) : 0;
        }
    }
    return s;
  }
  static bool addr_may_cover(const AddrSig& a, const AddrSig& b) {
    if (a.any) return true;
    if (b.any) return false;
    return !b.v4 || (a.v4 && v4_contains(a.hull, b.hull));
  }
  static ZoneSig signature(const api::Rule& r) {
    ZoneSig s;
    for (uint16_t z : r.from_zones) s.from |= uint64_t{1} << (z % 64);
    for (uint16_t z : r.to_zones) s.to |= uint64_t{1} << (z % 64);
    s.from_any = r.from_zones.empty();
    s.to_any = r.to_zones.empty();
    s.src = addr_signature(r.src_v4, r.src_v6, r.src_any_family);
    s.dst = addr_signature(r.dst_v4, r.dst_v6, r.dst_any_family);
    return s;
  }
  static bool may_cover(const ZoneSig& a, const ZoneSig& b) {
    return (a.from_any || (!b.from_any && (b.from & ~a.from) == 0)) &&
           (a.to_any || (!b.to_any && (b.to & ~a.to) == 0)) && addr_may_cover(a.src, b.src) &&
           addr_may_cover(a.dst, b.dst);
  }

  // Candidate coverers of a rule by one address side, so that the shadow check does not compare
  // every pair of a 10,000-rule policy: rules without a condition on that side, and rules whose
  // IPv4 hull contains the rule's hull (found by looking the hull up at each of its prefix
  // lengths). A superset of the rules that may_cover() accepts on that side; IPv6-only sides
  // never cover an IPv4 side, so they are not indexed.
  struct SideIndex {
    std::vector<uint32_t> any;
    std::unordered_map<uint64_t, std::vector<uint32_t>> by_hull;
    static uint64_t key(uint32_t addr, unsigned len) {
      const uint32_t mask = len ? ~uint32_t{0} << (32 - len) : 0;
      return (uint64_t{addr & mask} << 8) | len;
    }
    void add(const AddrSig& s, uint32_t i) {
      if (s.any)
        any.push_back(i);
      else if (s.v4)
        by_hull[key(s.hull.addr, s.hull.len)].push_back(i);
    }
    void candidates(const AddrSig& b, std::vector<uint32_t>& out) const {
      out.insert(out.end(), any.begin(), any.end());
      for (unsigned len = 0; len <= b.hull.len; ++len)
        if (auto it = by_hull.find(key(b.hull.addr, len)); it != by_hull.end())
          out.insert(out.end(), it->second.begin(), it->second.end());
    }
  };

  void check_shadowing() {
    const auto& rules = image_->rules;
    std::vector<ZoneSig> sigs;
    sigs.reserve(rules.size());
    for (const auto& r : rules) sigs.push_back(signature(r));
    SideIndex src_index, dst_index;
    std::vector<uint32_t> cand;
    // True when rule i (before j) matches every flow rule j would: reported once, for the first.
    auto shadowed_by = [&](size_t i, size_t j) {
      if (!may_cover(sigs[i], sigs[j]) || !covers(rules[i], rules[j])) return false;
      const auto& src = rule_sources_[j];
      error(src.node, src.path,
            "rule '" + rules[j].name + "' can never match: rule '" + rules[i].name + "' (line " +
                std::to_string(rules[i].line) + ") comes first and matches every flow it would");
      return true;
    };
    for (size_t j = 0; j < rules.size(); ++j) {
      const ZoneSig& b = sigs[j];
      cand.clear();
      if (!b.dst.any && b.dst.v4) {
        dst_index.candidates(b.dst, cand);
      } else if (!b.src.any && b.src.v4) {
        src_index.candidates(b.src, cand);
      } else {
        for (uint32_t i = 0; i < j; ++i) cand.push_back(i);
      }
      std::sort(cand.begin(), cand.end());
      for (uint32_t i : cand)
        if (shadowed_by(i, j)) break;
      src_index.add(b.src, static_cast<uint32_t>(j));
      dst_index.add(b.dst, static_cast<uint32_t>(j));
    }
  }

  std::string file_;
  const CompileOptions& opt_;
  std::vector<Diagnostic> diags_;
  std::shared_ptr<api::PolicyImage> image_;
  std::map<std::string, size_t> zone_ids_, schedule_ids_, app_ids_;
  std::vector<YAML::Node> zone_nodes_, schedule_nodes_, app_nodes_;
  std::vector<bool> zone_used_, schedule_used_, app_used_;
  std::vector<RuleSource> rule_sources_;
};

}  // namespace

CompileResult compile_policy(std::string_view yaml_text, std::string_view file_name,
                             const CompileOptions& options) {
  Compiler c{std::string(file_name), options};
  return c.run(yaml_text);
}

CompileResult compile_policy_file(const std::string& path, const CompileOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    CompileResult r;
    Diagnostic d;
    d.file = path;
    d.message = "cannot open file: " + std::string(std::strerror(errno));
    r.diagnostics.push_back(d);
    return r;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return compile_policy(text, path, options);
}

}  // namespace cg::policy

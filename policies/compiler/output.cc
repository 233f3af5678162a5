// Text and JSON renderings of diagnostics and compiled images (cgctl, controld API).
#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "policies/compiler/policy.h"
#include "policies/compiler/tzif.h"

namespace cg::policy {

namespace {
using ojson = nlohmann::ordered_json;

const char* severity_name(DiagSeverity s) {
  return s == DiagSeverity::kError ? "error" : "warning";
}
const char* action_name(api::Action a) {
  switch (a) {
    case api::Action::kDeny:
      return "deny";
    case api::Action::kLog:
      return "log";
    default:
      return "allow";
  }
}
const char* alert_name(api::Severity s) {
  static const char* k[] = {"none", "info", "low", "medium", "high", "critical"};
  return k[static_cast<int>(s)];
}
std::string v4_text(const api::Ipv4Prefix& p) {
  in_addr a{htonl(p.addr)};
  char buf[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(p.len);
}
std::string v6_text(const api::Ipv6Prefix& p) {
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, p.addr.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(p.len);
}
ojson ranges(const std::vector<api::U16Range>& v) {
  ojson a = ojson::array();
  for (const auto& r : v)
    a.push_back(r.lo == r.hi ? std::to_string(r.lo)
                             : std::to_string(r.lo) + "-" + std::to_string(r.hi));
  return a;
}
std::string hhmm(int m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%02d:%02d", m / 60, m % 60);
  return buf;
}
std::string date_text(int64_t day) {
  int64_t y;
  unsigned m, d;
  civil_from_days(day, y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(y), m, d);
  return buf;
}
ojson day_ranges(const std::vector<api::DayRange>& v) {
  ojson a = ojson::array();
  for (const auto& r : v)
    a.push_back(r.first == r.last ? date_text(r.first)
                                  : date_text(r.first) + ".." + date_text(r.last));
  return a;
}
template <class T>
ojson names_of(const std::vector<uint16_t>& ids, const std::vector<T>& table) {
  ojson a = ojson::array();
  for (uint16_t i : ids) a.push_back(table[i].name);
  return a;
}
}  // namespace

std::string format_diagnostic(const Diagnostic& d) {
  std::string s = d.file + ":";
  if (d.line > 0) s += std::to_string(d.line) + ":" + std::to_string(d.col) + ":";
  s += std::string(" ") + severity_name(d.severity) + ": ";
  if (!d.path.empty()) s += d.path + ": ";
  return s + d.message;
}

std::string diagnostics_json(const std::vector<std::pair<std::string, CompileResult>>& files) {
  ojson j;
  ojson arr = ojson::array();
  int errors = 0, warnings = 0;
  for (const auto& [name, r] : files) {
    ojson f;
    f["file"] = name;
    f["valid"] = r.ok();
    f["errors"] = r.error_count();
    f["warnings"] = r.warning_count();
    ojson ds = ojson::array();
    for (const auto& d : r.diagnostics) {
      ojson x;
      x["severity"] = severity_name(d.severity);
      x["file"] = d.file;
      x["line"] = d.line;
      x["column"] = d.col;
      x["path"] = d.path;
      x["message"] = d.message;
      ds.push_back(x);
    }
    f["diagnostics"] = ds;
    if (r.image) {
      f["rules"] = r.image->rules.size();
      f["source_digest"] = r.image->source_digest;
    }
    errors += r.error_count();
    warnings += r.warning_count();
    arr.push_back(f);
  }
  j["valid"] = errors == 0;
  j["files"] = arr;
  j["summary"] = {{"files", files.size()}, {"errors", errors}, {"warnings", warnings}};
  return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

std::string image_summary_json(const api::PolicyImage& im) {
  ojson j;
  j["format"] = im.format;
  j["generation"] = im.generation;
  j["source"] = im.source_name;
  char digest[17];
  std::snprintf(digest, sizeof digest, "%016llx",
                static_cast<unsigned long long>(im.source_digest));
  j["source_digest"] = digest;
  j["school"] = {{"id", im.school_id}, {"name", im.school_name}, {"district", im.school_district}};
  j["timezone"] = {{"name", im.timezone.name},
                   {"transitions", im.timezone.starts.size()},
                   {"valid_until", im.timezone.valid_until}};
  ojson zones = ojson::array();
  for (size_t i = 0; i < im.zones.size(); ++i) {
    const auto& z = im.zones[i];
    ojson s = ojson::array();
    for (const auto& p : z.v4) s.push_back(v4_text(p));
    for (const auto& p : z.v6) s.push_back(v6_text(p));
    zones.push_back({{"id", i}, {"name", z.name}, {"vlans", ranges(z.vlans)}, {"subnets", s}});
  }
  j["zones"] = zones;
  ojson scheds = ojson::array();
  for (size_t i = 0; i < im.schedules.size(); ++i) {
    const auto& s = im.schedules[i];
    ojson w = ojson::array();
    for (const auto& t : s.windows) w.push_back(hhmm(t.start_min) + "-" + hhmm(t.end_min));
    scheds.push_back({{"id", i},
                      {"name", s.name},
                      {"days_mask", s.days_mask},
                      {"windows", w},
                      {"dates", day_ranges(s.dates)},
                      {"except_dates", day_ranges(s.except_dates)}});
  }
  j["schedules"] = scheds;
  ojson apps = ojson::array();
  for (size_t i = 0; i < im.apps.size(); ++i) {
    const auto& a = im.apps[i];
    ojson hosts = ojson::array();
    for (const auto& h : a.hosts) hosts.push_back((h.wildcard ? "*." : "") + h.name);
    apps.push_back({{"id", i},
                    {"name", a.name},
                    {"ndpi_protocols", a.protocols},
                    {"ndpi_categories", a.categories},
                    {"hosts", hosts}});
  }
  j["apps"] = apps;
  ojson rules = ojson::array();
  for (size_t i = 0; i < im.rules.size(); ++i) {
    const auto& r = im.rules[i];
    ojson x;
    x["id"] = i;
    x["name"] = r.name;
    x["line"] = r.line;
    x["from_zones"] = names_of(r.from_zones, im.zones);
    x["to_zones"] = names_of(r.to_zones, im.zones);
    ojson src = ojson::array(), dst = ojson::array();
    for (const auto& p : r.src_v4) src.push_back(v4_text(p));
    for (const auto& p : r.src_v6) src.push_back(v6_text(p));
    for (const auto& p : r.dst_v4) dst.push_back(v4_text(p));
    for (const auto& p : r.dst_v6) dst.push_back(v6_text(p));
    x["src"] = src;
    x["dst"] = dst;
    x["src_ports"] = ranges(r.src_ports);
    x["dst_ports"] = ranges(r.dst_ports);
    x["l4_protocols"] = r.l4_protocols;
    x["schedule"] = r.schedule == api::kNoSchedule ? ojson() : ojson(im.schedules[r.schedule].name);
    x["apps"] = names_of(r.apps, im.apps);
    x["app_direction"] = r.app_direction == api::AppDirection::kToApp ? "to-app" : "any";
    x["except_apps"] = names_of(r.except_apps, im.apps);
    x["action"] = action_name(r.action);
    x["tcp_reset"] = r.tcp_reset;
    x["alert"] = alert_name(r.alert);
    rules.push_back(x);
  }
  j["rules"] = rules;
  j["default_action"] = action_name(im.default_action);
  j["inspection"] = {
      {"max_packets", im.inspection.max_packets},
      {"while_inspecting",
       im.inspection.while_inspecting == api::WhileInspecting::kDrop ? "drop" : "pass"}};
  if (im.bandwidth.enabled) {
    const api::QosImage& q = im.bandwidth;
    ojson bw;
    bw["uplink_bps"] = {{"up", q.uplink_bps[0]}, {"down", q.uplink_bps[1]}};
    if (q.burst_ms == api::kQosAutoBurst)
      bw["burst_ms"] = "auto";
    else
      bw["burst_ms"] = q.burst_ms;
    ojson qz = ojson::array();
    for (const auto& z : q.zones) {
      qz.push_back({{"zone", im.zones[z.zone].name},
                    {"rate_bps", z.rate_bps},
                    {"guaranteed_bps", z.guaranteed_bps},
                    {"per", z.per_vlan ? "vlan" : "zone"}});
      if (z.per_host())
        qz.back()["per_host"] = {{"fair", z.host_fair}, {"cap_bps", z.host_cap_bps}};
    }
    bw["zones"] = qz;
    bw["classrooms"] = q.classrooms.size();  // incl. the unzoned one
    ojson classes = ojson::array();
    for (const auto& c : q.classes) {
      ojson class_zones = ojson::array();
      for (uint16_t z : c.zones) class_zones.push_back(im.zones[q.zones[z].zone].name);
      classes.push_back(
          {{"name", c.name},
           {"line", c.line},
           {"apps", names_of(c.apps, im.apps)},
           {"zones", class_zones},
           {"schedule",
            c.schedule == api::kNoSchedule ? ojson() : ojson(im.schedules[c.schedule].name)},
           {"priority", c.priority},
           {"guaranteed_bps", c.guaranteed_bps},
           {"cap_bps", c.cap_bps}});
    }
    bw["classes"] = classes;
    j["bandwidth"] = bw;
  }
  return j.dump(2, ' ', false, ojson::error_handler_t::replace) + "\n";
}

}  // namespace cg::policy

#include "dataplane/export/event_json.h"

#include <ndpi/ndpi_api.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "dataplane/export/community_id.h"
#include "dataplane/export/flow_record.h"

namespace cg::exporter {
namespace {

constexpr uint32_t kSidBase = 9100000;  // campusguard's signature id range

struct KindInfo {
  const char* detector;
  const char* signature;
  const char* category;
  uint32_t sid;
};

constexpr KindInfo kKinds[kEventKindCount] = {
    {"port_scan", "CG SCAN vertical port scan", "scan", kSidBase + 1},
    {"host_sweep", "CG SCAN horizontal host sweep", "scan", kSidBase + 2},
    {"syn_flood", "CG DOS TCP SYN flood", "flood", kSidBase + 3},
    {"udp_flood", "CG DOS UDP flood", "flood", kSidBase + 4},
    {"blocklist_ip", "CG BLOCKLIST address", "blocklist", kSidBase + 5},
    {"blocklist_domain", "CG BLOCKLIST domain", "blocklist", kSidBase + 6},
    {"flow_risk", "CG RISK", "flow-risk", kSidBase + 100},
    {"policy", "CG POLICY", "policy", kSidBase + 100000},
    {"overflow", "", "", 0},
    {"quarantine", "CG QUARANTINE host", "quarantine", kSidBase + 7},
};

const char* match_on_name(MatchOn m) {
  switch (m) {
    case MatchOn::kIp:
      return "ip";
    case MatchOn::kDnsQuery:
      return "dns_query";
    case MatchOn::kTlsSni:
      return "tls_sni";
    case MatchOn::kHttpHost:
      return "http_host";
    case MatchOn::kHostname:
      return "hostname";
    case MatchOn::kNone:
      break;
  }
  return "";
}

const char* severity_name(uint8_t s) {
  switch (static_cast<api::Severity>(s)) {
    case api::Severity::kCritical:
      return "critical";
    case api::Severity::kHigh:
      return "high";
    case api::Severity::kMedium:
      return "medium";
    case api::Severity::kLow:
      return "low";
    default:
      return "info";
  }
}

uint16_t zone_of(const api::PolicyImage& im, const std::array<uint8_t, 16>& a, uint16_t vlan,
                 bool inside) {
  if (inside && vlan)
    for (size_t z = 0; z < im.zones.size(); ++z)
      if (api::in_ranges(im.zones[z].vlans, vlan)) return static_cast<uint16_t>(z);
  const bool v4 = flow::is_ipv4_mapped(a);
  int best_len = -1;
  uint16_t best = api::kNoZone;
  for (size_t z = 0; z < im.zones.size(); ++z) {
    if (v4) {
      const uint32_t x =
          uint32_t{a[12]} << 24 | uint32_t{a[13]} << 16 | uint32_t{a[14]} << 8 | a[15];
      for (const auto& p : im.zones[z].v4)
        if (p.len > best_len && api::v4_in({p}, x)) {
          best_len = p.len;
          best = static_cast<uint16_t>(z);
        }
    } else {
      for (const auto& p : im.zones[z].v6)
        if (p.len > best_len && api::v6_in({p}, a)) {
          best_len = p.len;
          best = static_cast<uint16_t>(z);
        }
    }
  }
  return best;
}

}  // namespace

const char* detector_name(EventKind k) {
  return kKinds[static_cast<size_t>(k)].detector;
}

int eve_severity(uint8_t s) {
  switch (static_cast<api::Severity>(s)) {
    case api::Severity::kCritical:
      return 1;
    case api::Severity::kHigh:
      return 2;
    case api::Severity::kMedium:
      return 3;
    case api::Severity::kLow:
      return 4;
    default:
      return 5;
  }
}

std::string eve_timestamp(uint64_t ts_ns) {
  const time_t secs = static_cast<time_t>(ts_ns / 1'000'000'000ull);
  const unsigned usec = static_cast<unsigned>((ts_ns / 1000) % 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06u+0000", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
  return buf;
}

std::string zone_name(const api::PolicyImage& im, const std::array<uint8_t, 16>& addr,
                      uint16_t vlan, bool inside) {
  const uint16_t z = zone_of(im, addr, vlan, inside);
  return z == api::kNoZone ? std::string() : im.zones[z].name;
}

Event overflow_event(uint64_t ts_ns, const char* where, uint64_t lost, int worker) {
  Event ev;
  ev.ts_ns = ts_ns;
  ev.kind = EventKind::kOverflow;
  ev.lost = lost;
  ev.worker = static_cast<int16_t>(worker);
  ev.set_name(where);
  return ev;
}

nlohmann::json to_json(const Event& ev, const EventContext& ctx) {
  nlohmann::json j;
  j["timestamp"] = eve_timestamp(ev.ts_ns);
  char id[48];
  if (ev.kind == EventKind::kOverflow)  // made by the event hub, numbered by it
    std::snprintf(id, sizeof(id), "%08x-hub-%" PRIu64, ctx.run_id, ev.seq);
  else
    std::snprintf(id, sizeof(id), "%08x-%d-%" PRIu64, ctx.run_id, static_cast<int>(ev.worker),
                  ev.seq);
  j["event_id"] = id;
  j["schema_version"] = kEventSchemaVersion;
  const std::string school = !ctx.school_id.empty() ? ctx.school_id
                             : ctx.image            ? ctx.image->school_id
                                                    : "";
  if (!school.empty()) j["school_id"] = school;
  if (ev.kind == EventKind::kOverflow) {
    j["event_type"] = "overflow";
    j["overflow"] = {{"where", std::string(ev.name)}, {"lost", ev.lost}};
    if (ev.worker >= 0) j["overflow"]["worker"] = ev.worker;
    return j;
  }
  const KindInfo& k = kKinds[static_cast<size_t>(ev.kind)];
  j["event_type"] = "alert";
  j["flow_id"] = ev.flow_id;
  j["community_id"] = community_id(ev.src, ev.dst, ev.proto, ev.src_port, ev.dst_port);
  j["src_ip"] = address_string(ev.src);
  j["src_port"] = ev.src_port;
  j["dest_ip"] = address_string(ev.dst);
  j["dest_port"] = ev.dst_port;
  const char* pn = proto_name(ev.proto);
  j["proto"] = *pn ? std::string(pn) : std::to_string(ev.proto);
  if (ev.app[0]) j["app_proto"] = std::string(ev.app);
  if (ev.host[0]) j["hostname"] = std::string(ev.host);
  if (ev.vlan) {
    j["vlan"] = nlohmann::json::array({ev.vlan});
    if (ev.vlan_inner) j["vlan"].push_back(ev.vlan_inner);
  }
  if (ctx.image) {
    const bool src_inside = !ev.src_outside;
    std::string z = zone_name(*ctx.image, src_inside ? ev.src : ev.dst, ev.vlan, true);
    if (!z.empty()) j["zone"] = z;
  }
  if (ev.worker >= 0) j["worker"] = ev.worker;
  j["detector"] = k.detector;

  nlohmann::json a;
  a["action"] = ev.blocked ? "blocked" : "allowed";
  std::string sig = k.signature;
  uint32_t sid = k.sid;
  if (ev.kind == EventKind::kFlowRisk) {
    sig += std::string(" ") + ev.name;
    for (int r = 1; r < NDPI_MAX_RISK; ++r)
      if (std::string(ev.name) == ndpi_risk2str(static_cast<ndpi_risk_enum>(r))) sid += r;
  } else if (ev.kind == EventKind::kPolicy) {
    sig += std::string(" ") + ev.name;
    sid += static_cast<uint32_t>(ev.rule + 1);
    j["rule"] = std::string(ev.name);
  }
  if (ev.suppressed) j["suppressed"] = ev.suppressed;
  a["signature"] = sig;
  a["signature_id"] = sid;
  a["category"] = k.category;
  a["severity"] = eve_severity(ev.severity);
  a["severity_name"] = severity_name(ev.severity);
  j["alert"] = std::move(a);

  switch (ev.kind) {
    case EventKind::kPortScan:
    case EventKind::kHostSweep:
    case EventKind::kSynFlood:
    case EventKind::kUdpFlood:
      j["detect"] = {{"count", ev.count},
                     {"threshold", ev.threshold},
                     {"window_s", static_cast<double>(ev.window_ms) / 1000.0}};
      break;
    case EventKind::kBlocklistIp:
    case EventKind::kBlocklistDomain:
      j["blocklist"] = {{"entry", std::string(ev.name)},
                        {"matched_on", match_on_name(ev.match_on)}};
      break;
    case EventKind::kQuarantine:
      j["quarantine"] = {{"entry", std::string(ev.name)}};
      break;
    case EventKind::kFlowRisk: {
      nlohmann::json names = nlohmann::json::array();
      for (int r = 1; r < NDPI_MAX_RISK; ++r)
        if (ev.risk & (uint64_t{1} << r))
          names.push_back(ndpi_risk2str(static_cast<ndpi_risk_enum>(r)));
      j["risk"] = {{"names", names}, {"top", std::string(ev.name)}};
      break;
    }
    default:
      break;
  }
  return j;
}

}  // namespace cg::exporter

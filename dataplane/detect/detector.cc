#include "dataplane/detect/detector.h"

#include <arpa/inet.h>
#include <ndpi/ndpi_api.h>

#include "dataplane/classify/classifier.h"
#include "dataplane/export/flow_record.h"

namespace cg::detect {
namespace {

constexpr std::string_view kCounterNames[kCounterCount] = {
    "detect_port_scans",
    "detect_host_sweeps",
    "detect_syn_floods",
    "detect_udp_floods",
    "detect_blocklist_ip_hits",
    "detect_blocklist_domain_hits",
    "detect_risk_events",
    "detect_policy_events",
    "detect_policy_events_suppressed",
    "detect_blocklist_events_suppressed",
    "detect_blocked_packets",
    "detect_scan_evictions",
    "detect_flood_evictions",
    "detect_rate_evictions",
    "detect_blocked_table_full",
    "events_emitted",
    "events_lost_ring_full",
    "detect_quarantine_events",
    "detect_quarantine_events_suppressed",
};

uint64_t mix(uint64_t x) {  // splitmix64 finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

uint64_t hash_bytes(const uint8_t* p, size_t n, uint64_t seed) {
  uint64_t h = seed;
  for (size_t i = 0; i < n; i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, n - i < 8 ? n - i : 8);
    h = mix(h ^ w);
  }
  return h;
}

uint64_t hash_pair(const PairKey& k) {
  return hash_bytes(k.other.data(), 16, hash_bytes(k.src.data(), 16, 0x51ed2701));
}

uint32_t ring_size(uint32_t n) {
  uint32_t s = 16;
  while (s < n) s <<= 1;
  return s;
}

bool is_mapped(const std::array<uint8_t, 16>& a) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(a.data(), kMapped, 12) == 0;
}

void addr_text(const std::array<uint8_t, 16>& a, char* out, size_t n) {
  if (is_mapped(a)) {
    inet_ntop(AF_INET, a.data() + 12, out, static_cast<socklen_t>(n));
  } else {
    inet_ntop(AF_INET6, a.data(), out, static_cast<socklen_t>(n));
  }
}

}  // namespace

std::string_view counter_name(Counter c) {
  return kCounterNames[static_cast<size_t>(c)];
}

uint8_t ndpi_severity(int risk) {
  if (risk <= 0 || risk >= NDPI_MAX_RISK) return 0;
  const ndpi_risk_info* info = ndpi_risk2severity(static_cast<ndpi_risk_enum>(risk));
  return info ? static_cast<uint8_t>(info->severity + 1) : 0;  // NDPI_RISK_LOW is 0
}

api::Severity severity_of_ndpi(uint8_t s) {
  switch (s) {
    case 1:
      return api::Severity::kLow;
    case 2:
      return api::Severity::kMedium;
    case 3:
      return api::Severity::kHigh;
    case 4:
      return api::Severity::kCritical;
    default:
      return api::Severity::kInfo;
  }
}

uint64_t risk_mask_of(const std::vector<std::string>& names, std::vector<std::string>* unknown) {
  uint64_t m = 0;
  for (const auto& n : names) {
    bool found = false;
    for (int r = 1; r < NDPI_MAX_RISK; ++r)
      if (n == ndpi_risk2str(static_cast<ndpi_risk_enum>(r))) {
        m |= uint64_t{1} << r;
        found = true;
      }
    if (!found && unknown) unknown->push_back(n);
  }
  return m;
}

Detector::Detector(const DetectConfig& cfg, int worker)
    : cfg_(cfg),
      worker_(worker),
      scans_(cfg.scan_table),
      sweeps_(cfg.scan_table),
      floods_(cfg.flood_table),
      rates_(cfg.rate_table),
      blocked_(ring_size(cfg.blocked_flows * 2), nullptr),
      ring_(ring_size(cfg.event_ring)) {
  const uint64_t ignore = risk_mask_of(cfg.risk_ignore, nullptr);
  for (int r = 1; r < NDPI_MAX_RISK; ++r)
    if (ndpi_severity(r) >= cfg.risk_min_severity && !(ignore & (uint64_t{1} << r)))
      risk_events_mask_ |= uint64_t{1} << r;
}

size_t Detector::memory_bytes() const {
  return scans_.memory_bytes() + sweeps_.memory_bytes() + floods_.memory_bytes() +
         rates_.memory_bytes() + blocked_.size() * sizeof(blocked_[0]) +
         ring_.capacity() * sizeof(exporter::Event);
}

uint64_t Detector::flow_id(const flow::FlowEntry& e) {
  return exporter::flow_id_of(e);
}

exporter::Event Detector::base(const flow::FlowEntry& e, exporter::EventKind kind,
                               uint64_t now_ns) const {
  exporter::Event ev;
  const bool lo = e.initiator_is_lo();
  ev.ts_ns = now_ns;
  ev.flow_id = flow_id(e);
  ev.src = lo ? e.key.lo_addr : e.key.hi_addr;
  ev.dst = lo ? e.key.hi_addr : e.key.lo_addr;
  ev.src_port = lo ? e.key.lo_port : e.key.hi_port;
  ev.dst_port = lo ? e.key.hi_port : e.key.lo_port;
  ev.proto = e.key.proto();
  ev.vlan = e.key.vlan_outer();
  ev.vlan_inner = e.key.vlan_inner();
  ev.src_outside = e.flags & flow::FlowEntry::kInitiatorOutside;
  ev.kind = kind;
  ev.worker = static_cast<int16_t>(worker_);
  return ev;
}

void Detector::emit(exporter::Event& ev) {
  ev.seq = ++seq_;
  if (evidence_ && ev.flow_id && ev.kind != exporter::EventKind::kOverflow)
    evidence_->snapshot(ev.flow_id, ev.seq);  // before the event: the reader sees it first
  inc(ring_.push(ev) ? Counter::kEventsEmitted : Counter::kEventsLost);
}

void Detector::fill_flow_names(exporter::Event& ev, const flow::FlowEntry& e,
                               const classify::Classifier* c) const {
  if (!c) return;
  const classify::FlowClass& fc = c->slot(e);
  ev.set_host(c->hostname(fc));
  if (!fc.done() && fc.master == 0 && fc.app == 0) return;  // nothing known yet
  ndpi_protocol p{fc.master, fc.app, static_cast<ndpi_protocol_category_t>(fc.category)};
  char buf[64];
  ev.set_app(ndpi_protocol2name(c->module(), p, buf, sizeof(buf)));
}

bool Detector::is_blocked(const flow::FlowEntry& e) const {
  const uint64_t mask = blocked_.size() - 1;
  for (uint64_t i = mix(reinterpret_cast<uintptr_t>(&e)) & mask;; i = (i + 1) & mask) {
    if (blocked_[i] == &e) return true;
    if (blocked_[i] == nullptr) return false;
  }
}

bool Detector::block(const flow::FlowEntry& e) {
  if (blocked_count_ >= cfg_.blocked_flows) {
    inc(Counter::kBlockedTableFull);
    return false;
  }
  const uint64_t mask = blocked_.size() - 1;
  for (uint64_t i = mix(reinterpret_cast<uintptr_t>(&e)) & mask;; i = (i + 1) & mask) {
    if (blocked_[i] == &e) return true;
    if (blocked_[i] == nullptr) {
      blocked_[i] = &e;
      ++blocked_count_;
      return true;
    }
  }
}

void Detector::on_flow_end(const flow::FlowEntry& e) {
  if (blocked_count_ == 0) return;
  const uint64_t mask = blocked_.size() - 1;
  uint64_t i = mix(reinterpret_cast<uintptr_t>(&e)) & mask;
  for (;; i = (i + 1) & mask) {
    if (blocked_[i] == nullptr) return;
    if (blocked_[i] == &e) break;
  }
  blocked_[i] = nullptr;
  --blocked_count_;
  // Backward-shift deletion keeps every remaining entry reachable from its home slot.
  for (uint64_t j = (i + 1) & mask; blocked_[j] != nullptr; j = (j + 1) & mask) {
    const uint64_t home = mix(reinterpret_cast<uintptr_t>(blocked_[j])) & mask;
    const bool between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
    if (!between) {
      blocked_[i] = blocked_[j];
      blocked_[j] = nullptr;
      i = j;
    }
  }
}

bool Detector::on_packet(const flow::FlowEntry& e, const packet::Parsed& p, bool is_new,
                         uint8_t port, uint64_t now_ns) {
  if (!cfg_.enabled) return true;
  if (blocked_count_ && is_blocked(e)) {
    inc(Counter::kBlockedPackets);
    return false;
  }
  using exporter::EventKind;
  if (is_new) {
    const Blocklist* bl = blocklist_.get();
    if (bl && (bl->match_addr(p.src) || bl->match_addr(p.dst))) {
      inc(Counter::kBlocklistIpHits);
      exporter::Event ev = base(e, EventKind::kBlocklistIp, now_ns);
      char buf[64];
      addr_text(bl->match_addr(p.src) ? p.src : p.dst, buf, sizeof(buf));
      ev.set_name(buf);
      ev.match_on = exporter::MatchOn::kIp;
      ev.severity = static_cast<uint8_t>(cfg_.blocklist_severity);
      ev.blocked = cfg_.blocklist_block && block(e);
      if (allow_event(ev.src, kBlocklistTag, now_ns, &ev.suppressed)) {
        emit(ev);
      } else {
        inc(Counter::kBlocklistEventsSuppressed);
      }
      if (ev.blocked) {
        inc(Counter::kBlockedPackets);
        return false;
      }
    }
    const bool ports = p.l4_proto == packet::ipproto::kTcp || p.l4_proto == packet::ipproto::kUdp;
    const bool echo = (p.l4_proto == packet::ipproto::kIcmp && p.icmp_type == 8) ||
                      (p.l4_proto == packet::ipproto::kIcmpv6 && p.icmp_type == 128);
    bool fresh, evicted;
    if (ports) {  // vertical: distinct ports of one host
      PairKey k{p.src, p.dst};
      DistinctEntry& d =
          scans_.find(k, hash_pair(k), now_ns, cfg_.scan_window_ns, &fresh, &evicted);
      if (evicted) inc(Counter::kScanEvictions);
      if (d.add(mix(p.dst_port ^ uint64_t{p.l4_proto} << 16)) >= cfg_.scan_ports && !d.alerted) {
        d.alerted = true;
        inc(Counter::kPortScans);
        exporter::Event ev = base(e, EventKind::kPortScan, now_ns);
        ev.count = d.distinct;
        ev.threshold = cfg_.scan_ports;
        ev.window_ms = static_cast<uint32_t>(cfg_.scan_window_ns / 1'000'000);
        ev.severity = static_cast<uint8_t>(api::Severity::kMedium);
        emit(ev);
      }
    }
    if (ports || echo) {  // horizontal: distinct hosts on one port (or echo requests)
      PairKey k{p.src, {}};
      k.other[0] = p.l4_proto;
      k.other[1] = static_cast<uint8_t>(p.dst_port >> 8);
      k.other[2] = static_cast<uint8_t>(p.dst_port);
      DistinctEntry& d =
          sweeps_.find(k, hash_pair(k), now_ns, cfg_.scan_window_ns, &fresh, &evicted);
      if (evicted) inc(Counter::kScanEvictions);
      if (d.add(hash_bytes(p.dst.data(), 16, 7)) >= cfg_.sweep_hosts && !d.alerted) {
        d.alerted = true;
        inc(Counter::kHostSweeps);
        exporter::Event ev = base(e, EventKind::kHostSweep, now_ns);
        if (echo) {  // the Community ID of ICMP uses type / code as ports
          ev.src_port = p.icmp_type;
          ev.dst_port = p.icmp_code;
        }
        ev.count = d.distinct;
        ev.threshold = cfg_.sweep_hosts;
        ev.window_ms = static_cast<uint32_t>(cfg_.scan_window_ns / 1'000'000);
        ev.severity = static_cast<uint8_t>(api::Severity::kMedium);
        emit(ev);
      }
    }
  }
  const bool syn = p.l4_proto == packet::ipproto::kTcp && (p.tcp_flags & 0x12) == 0x02;
  const bool udp = p.l4_proto == packet::ipproto::kUdp;
  if (syn || udp) {  // floods toward one host
    bool fresh, evicted;
    FloodEntry& f = floods_.find(p.dst, hash_bytes(p.dst.data(), 16, 11), now_ns,
                                 cfg_.flood_window_ns, &fresh, &evicted);
    if (evicted) inc(Counter::kFloodEvictions);
    uint32_t n = syn ? ++f.syn : ++f.udp;
    bool& alerted = syn ? f.syn_alerted : f.udp_alerted;
    const uint32_t thr = syn ? cfg_.syn_flood_packets : cfg_.udp_flood_packets;
    if (n >= thr && !alerted) {
      alerted = true;
      inc(syn ? Counter::kSynFloods : Counter::kUdpFloods);
      exporter::Event ev = base(e, syn ? EventKind::kSynFlood : EventKind::kUdpFlood, now_ns);
      // The victim is the packet's destination; the source is the sender of the packet that
      // crossed the threshold (floods often spoof it).
      ev.src = p.src;
      ev.dst = p.dst;
      ev.src_port = p.src_port;
      ev.dst_port = p.dst_port;
      ev.src_outside = port == 1;
      ev.count = n;
      ev.threshold = thr;
      ev.window_ms = static_cast<uint32_t>(cfg_.flood_window_ns / 1'000'000);
      ev.severity = static_cast<uint8_t>(api::Severity::kHigh);
      emit(ev);
    }
  }
  return true;
}

bool Detector::check_domain(const flow::FlowEntry& e, const classify::Classifier& c,
                            const char* host, uint64_t now_ns) {
  const Blocklist* bl = blocklist_.get();
  if (!bl || !host[0] || (blocked_count_ && is_blocked(e))) return true;
  const char* hit = bl->match_domain(host);
  if (!hit) return true;
  const classify::FlowClass& fc = c.slot(e);
  inc(Counter::kBlocklistDomainHits);
  exporter::Event ev = base(e, exporter::EventKind::kBlocklistDomain, now_ns);
  fill_flow_names(ev, e, &c);
  ev.set_host(host);
  ev.set_name(hit);
  const uint16_t m = fc.master ? fc.master : fc.app;
  using exporter::MatchOn;
  ev.match_on = m == NDPI_PROTOCOL_DNS                              ? MatchOn::kDnsQuery
                : m == NDPI_PROTOCOL_TLS || m == NDPI_PROTOCOL_QUIC ? MatchOn::kTlsSni
                : m == NDPI_PROTOCOL_HTTP                           ? MatchOn::kHttpHost
                                                                    : MatchOn::kHostname;
  ev.severity = static_cast<uint8_t>(cfg_.blocklist_severity);
  ev.blocked = cfg_.blocklist_block && block(e);
  if (allow_event(ev.src, kBlocklistTag, now_ns, &ev.suppressed)) {
    emit(ev);
  } else {
    inc(Counter::kBlocklistEventsSuppressed);
  }
  return !ev.blocked;
}

bool Detector::on_inspected(const flow::FlowEntry& e, const classify::Classifier& c,
                            uint64_t now_ns) {
  // Only when blocking: a blocked flow is not inspected again, so this runs once per hit. In
  // alert-only mode the name is checked once, when classification completes.
  if (!cfg_.enabled || !cfg_.blocklist_block || !blocklist_) return true;
  return check_domain(e, c, c.inspecting_hostname(e), now_ns);
}

bool Detector::on_classified(const flow::FlowEntry& e, const classify::Classifier& c,
                             uint64_t now_ns) {
  if (!cfg_.enabled) return true;
  const classify::FlowClass& fc = c.slot(e);
  const bool pass = check_domain(e, c, c.hostname(fc), now_ns);
  if (const uint64_t bits = fc.risk & risk_events_mask_) {
    inc(Counter::kRiskEvents);
    exporter::Event ev = base(e, exporter::EventKind::kFlowRisk, now_ns);
    fill_flow_names(ev, e, &c);
    ev.risk = bits;
    uint8_t worst = 0;
    for (int r = 1; r < NDPI_MAX_RISK; ++r)
      if ((bits & (uint64_t{1} << r)) && ndpi_severity(r) > worst) {
        worst = ndpi_severity(r);
        ev.set_name(ndpi_risk2str(static_cast<ndpi_risk_enum>(r)));
      }
    ev.severity = static_cast<uint8_t>(severity_of_ndpi(worst));
    ev.blocked = !pass;
    emit(ev);
  }
  return pass;
}

bool Detector::allow_event(const std::array<uint8_t, 16>& src, int32_t tag, uint64_t now_ns,
                           uint32_t* carried) {
  RateKey k{src, tag};
  bool fresh, evicted;
  RateEntry& re = rates_.find(k, hash_bytes(src.data(), 16, static_cast<uint64_t>(tag) + 3), now_ns,
                              cfg_.policy_window_ns, &fresh, &evicted);
  if (evicted) inc(Counter::kRateEvictions);
  if (re.emitted >= cfg_.policy_events_per_source) {
    ++re.suppressed;
    return false;
  }
  ++re.emitted;
  *carried = re.carry;
  re.carry = 0;
  return true;
}

void Detector::on_quarantine(const packet::Parsed& p, bool src_hit, uint8_t port,
                             uint64_t now_ns) {
  const std::array<uint8_t, 16>& who = src_hit ? p.src : p.dst;
  exporter::Event ev;
  if (!allow_event(who, kQuarantineTag, now_ns, &ev.suppressed)) {
    inc(Counter::kQuarantineEventsSuppressed);
    return;
  }
  ev.ts_ns = now_ns;
  ev.src = p.src;
  ev.dst = p.dst;
  ev.src_port = p.src_port;
  ev.dst_port = p.dst_port;
  ev.proto = p.l4_proto;
  ev.vlan = p.vlan_outer;
  ev.vlan_inner = p.vlan_inner;
  ev.src_outside = port == 1;
  ev.kind = exporter::EventKind::kQuarantine;
  ev.worker = static_cast<int16_t>(worker_);
  ev.severity = static_cast<uint8_t>(api::Severity::kHigh);
  ev.blocked = true;
  ev.match_on = exporter::MatchOn::kIp;
  char buf[64];
  addr_text(who, buf, sizeof(buf));
  ev.set_name(buf);
  inc(Counter::kQuarantineEvents);
  emit(ev);
}

void Detector::on_verdict(const flow::FlowEntry& e, const classify::Classifier* c,
                          const api::PolicyImage& im, const enforce::FlowVerdict& before,
                          const enforce::FlowVerdict& after, uint64_t now_ns) {
  using V = enforce::FlowVerdict;
  if (!cfg_.enabled || !(after.flags & V::kJudged) || (after.flags & V::kPending)) return;
  if (before.rule == after.rule &&
      !((before.flags ^ after.flags) & (V::kJudged | V::kDeny | V::kPending)))
    return;  // same decision as before (a re-judgement after an epoch change)
  const bool denied = after.flags & V::kDeny;
  const int32_t rule = static_cast<int32_t>(after.rule) - 1;
  const api::Rule* r =
      rule >= 0 && static_cast<size_t>(rule) < im.rules.size() ? &im.rules[rule] : nullptr;
  const bool alerting = r && (r->alert != api::Severity::kNone || r->action == api::Action::kLog);
  if (!denied && !alerting) return;
  uint32_t carried = 0;
  if (!allow_event(e.initiator_is_lo() ? e.key.lo_addr : e.key.hi_addr, rule, now_ns, &carried)) {
    inc(Counter::kPolicyEventsSuppressed);
    return;
  }
  inc(Counter::kPolicyEvents);
  exporter::Event ev = base(e, exporter::EventKind::kPolicy, now_ns);
  fill_flow_names(ev, e, c);
  ev.set_name(r ? r->name.c_str() : "default");
  ev.rule = rule;
  ev.blocked = denied;
  ev.severity = static_cast<uint8_t>(r && r->alert != api::Severity::kNone ? r->alert
                                     : denied                              ? api::Severity::kLow
                                                                           : api::Severity::kInfo);
  ev.suppressed = carried;
  emit(ev);
}

}  // namespace cg::detect

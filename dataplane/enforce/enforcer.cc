#include "dataplane/enforce/enforcer.h"

#include <cctype>
#include <cstring>

namespace cg::enforce {
namespace {
constexpr std::string_view kCounterNames[kCounterCount] = {
    "policy_flows_judged", "policy_flows_denied", "policy_packets_denied",
    "policy_packets_dropped_while_inspecting"};

// One prefix, no allocation (api::v6_in takes a list).
bool v6_prefix_match(const api::Ipv6Prefix& p, const std::array<uint8_t, 16>& a) {
  unsigned full = p.len / 8, rest = p.len % 8;
  if (std::memcmp(a.data(), p.addr.data(), full) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff00u >> rest);
  return (a[full] & mask) == (p.addr[full] & mask);
}

uint32_t v4_of(const std::array<uint8_t, 16>& a) {
  return static_cast<uint32_t>(a[12]) << 24 | static_cast<uint32_t>(a[13]) << 16 |
         static_cast<uint32_t>(a[14]) << 8 | a[15];
}
}  // namespace

std::string_view counter_name(Counter c) { return kCounterNames[static_cast<size_t>(c)]; }

bool Enforcer::attach(flow::ExtRegistry& registry) {
  offset_ = registry.add("verdict", sizeof(FlowVerdict), 2, nullptr, nullptr);
  return offset_ >= 0;
}

void Enforcer::set_image(std::shared_ptr<const api::PolicyImage> image) {
  auto b = image ? std::make_unique<PolicyBinding>(std::move(image)) : nullptr;
  install(b.get());
  owned_ = std::move(b);
}

void Enforcer::install(PolicyBinding* b) noexcept {
  binding_ = b;
  image_ = b ? b->image.get() : nullptr;
  schedule_minute_ = -1;  // recompute the schedule mask for the new image
  ++epoch_;               // every flow is judged again on its next packet
}

void Enforcer::refresh_schedules(uint64_t now_ns) {
  // Schedules have minute granularity: recompute the mask once per minute of packet time.
  int64_t utc = (static_cast<int64_t>(now_ns) + clock_offset_ns_) / 1'000'000'000;
  if (utc / 60 == schedule_minute_) return;
  schedule_minute_ = utc / 60;
  uint64_t mask = api::active_schedule_mask(*image_, utc);
  if (mask != schedule_mask_) {
    schedule_mask_ = mask;
    ++epoch_;  // a rule switched on or off: judge flows again
  }
}

uint16_t Enforcer::zone_of(const std::array<uint8_t, 16>& addr, uint16_t vlan,
                           bool inside) const {
  const auto& zones = image_->zones;
  if (inside && vlan != 0) {
    for (size_t z = 0; z < zones.size(); ++z)
      for (const auto& r : zones[z].vlans)
        if (vlan >= r.lo && vlan <= r.hi) return static_cast<uint16_t>(z);
  }
  uint16_t best = api::kNoZone;
  int best_len = -1;
  bool v4 = flow::is_ipv4_mapped(addr);
  for (size_t z = 0; z < zones.size(); ++z) {
    if (v4) {
      uint32_t a = v4_of(addr);
      for (const auto& p : zones[z].v4) {
        uint32_t mask = p.len == 0 ? 0 : ~uint32_t{0} << (32 - p.len);
        if ((a & mask) == p.addr && p.len > best_len) {
          best = static_cast<uint16_t>(z);
          best_len = p.len;
        }
      }
    } else {
      for (const auto& p : zones[z].v6) {
        if (p.len > best_len && v6_prefix_match(p, addr)) {
          best = static_cast<uint16_t>(z);
          best_len = p.len;
        }
      }
    }
  }
  return best;
}

api::FlowFacts Enforcer::facts(const flow::FlowEntry& e, const classify::Classifier* c,
                               char* host_buf) const {
  api::FlowFacts f;
  bool lo_first = e.initiator_is_lo();
  const auto& client = lo_first ? e.key.lo_addr : e.key.hi_addr;
  const auto& server = lo_first ? e.key.hi_addr : e.key.lo_addr;
  f.client_port = lo_first ? e.key.lo_port : e.key.hi_port;
  f.server_port = lo_first ? e.key.hi_port : e.key.lo_port;
  f.l4_protocol = e.key.proto();
  f.ipv6 = !flow::is_ipv4_mapped(client);
  if (f.ipv6) {
    f.client_v6 = client;
    f.server_v6 = server;
  } else {
    f.client_v4 = v4_of(client);
    f.server_v4 = v4_of(server);
  }
  // The initiator arrived on the inside port (or in a replay, which has no sides).
  bool client_inside = !(e.flags & flow::FlowEntry::kInitiatorOutside);
  uint16_t vlan = e.key.vlan_inner() ? e.key.vlan_inner() : e.key.vlan_outer();
  f.client_zone = zone_of(client, vlan, client_inside);
  f.server_zone = zone_of(server, vlan, !client_inside);
  if (c) {
    const auto& cls = c->slot(e);
    uint32_t budget = image_->inspection.max_packets;
    f.app_known = cls.done() || (cls.flags & classify::FlowClass::kNoState) ||
                  (budget && e.packets[0] + e.packets[1] >= budget);
    f.master_protocol = cls.master;
    f.app_protocol = cls.app;
    f.category = cls.category;
    const char* h = c->hostname(cls);
    size_t n = 0;
    for (; h[n] && n < 79; ++n)
      host_buf[n] = static_cast<char>(std::tolower(static_cast<unsigned char>(h[n])));
    f.host = std::string_view(host_buf, n);
  } else {
    f.app_known = true;  // no classifier: app rules can never match; judge on L3/L4 alone
  }
  return f;
}

FlowVerdict& Enforcer::decide(flow::FlowEntry& e, const classify::Classifier* c,
                              uint64_t now_ns) {
  refresh_schedules(now_ns);
  auto& v = *flow::ExtRegistry::get<FlowVerdict>(e, offset_);
  bool stale = !(v.flags & FlowVerdict::kJudged) || v.epoch != static_cast<uint8_t>(epoch_) ||
               (v.flags & FlowVerdict::kPending);
  if (!stale) return v;
  char host[80];
  const api::FlowFacts f = facts(e, c, host);
  api::Verdict r = binding_->acl ? binding_->acl->evaluate(f, schedule_mask_)
                                 : api::evaluate(*image_, f, schedule_mask_);
  bool first = !(v.flags & FlowVerdict::kJudged);
  uint16_t rule = static_cast<uint16_t>(r.rule + 1);
  bool changed = first || rule != v.rule || (v.flags & FlowVerdict::kPending) != 0;
  v.rule = rule;
  v.epoch = static_cast<uint8_t>(epoch_);
  v.flags = FlowVerdict::kJudged | (r.action == api::Action::kDeny ? FlowVerdict::kDeny : 0) |
            (r.pending ? FlowVerdict::kPending : 0) | (r.tcp_reset ? FlowVerdict::kReset : 0);
  if (changed && !r.pending) {
    inc(Counter::kFlowsJudged);
    if (r.action == api::Action::kDeny) inc(Counter::kFlowsDenied);
    counters_of(rule).flows += 1;
  }
  return v;
}

bool Enforcer::judge(flow::FlowEntry& e, const classify::Classifier* c, uint32_t bytes,
                     uint64_t now_ns) {
  if (!image_) return true;
  FlowVerdict& v = decide(e, c, now_ns);
  bool deny = v.flags & FlowVerdict::kDeny;
  if (!(v.flags & FlowVerdict::kPending)) {
    RuleCounters& rc = counters_of(v.rule);
    rc.packets += 1;
    rc.bytes += bytes;
  }
  if (deny) {
    inc((v.flags & FlowVerdict::kPending) ? Counter::kPacketsPendingDropped
                                          : Counter::kPacketsDenied);
  }
  return !deny;
}

void Enforcer::settle(flow::FlowEntry& e, const classify::Classifier* c, uint64_t now_ns) {
  if (image_ && (slot(e).flags & FlowVerdict::kPending)) decide(e, c, now_ns);
}

std::string Enforcer::verdict_name(const FlowVerdict& v) const {
  if (!(v.flags & FlowVerdict::kJudged)) return "none";
  return (v.flags & FlowVerdict::kDeny) ? "deny" : "allow";
}

std::string Enforcer::rule_name(const FlowVerdict& v) const {
  if (!image_ || v.rule == 0 || v.rule > image_->rules.size()) return "default";
  return image_->rules[v.rule - 1].name;
}

}  // namespace cg::enforce

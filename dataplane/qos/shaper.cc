#include "dataplane/qos/shaper.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>

namespace cg::qos {
namespace {
constexpr std::string_view kCounterNames[kCounterCount] = {
    "qos_packets_passed", "qos_bytes_passed",   "qos_packets_dropped",
    "qos_bytes_dropped",  "qos_flows_assigned", "qos_flows_reassigned"};
constexpr uint16_t kNone16 = 0xffff;

bool v6_prefix_match(const api::Ipv6Prefix& p, const std::array<uint8_t, 16>& a) {
  const unsigned full = p.len / 8, rest = p.len % 8;
  if (std::memcmp(a.data(), p.addr.data(), full) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff00u >> rest);
  return (a[full] & mask) == (p.addr[full] & mask);
}

uint32_t v4_of(const std::array<uint8_t, 16>& a) {
  return static_cast<uint32_t>(a[12]) << 24 | static_cast<uint32_t>(a[13]) << 16 |
         static_cast<uint32_t>(a[14]) << 8 | a[15];
}
}  // namespace

std::string_view counter_name(Counter c) {
  return kCounterNames[static_cast<size_t>(c)];
}

bool Shaper::attach(flow::ExtRegistry& registry) {
  offset_ = registry.add("qos", sizeof(FlowQos), 1, nullptr, nullptr);
  return offset_ >= 0;
}

std::unique_ptr<Plan> prepare(std::shared_ptr<const api::PolicyImage> image) {
  auto plan = std::make_unique<Plan>();
  plan->image = std::move(image);
  if (!plan->image || !plan->image->bandwidth.enabled) return plan;
  const api::PolicyImage& im = *plan->image;
  const api::QosImage& q = im.bandwidth;
  plan->vlan_zone.assign(4096, api::kNoZone);
  plan->vlan_room.assign(4096, kNone16);
  plan->zone_qz.assign(im.zones.size(), api::kNoQosZone);
  plan->qz_room.assign(q.zones.size(), kNone16);
  for (size_t z = 0; z < im.zones.size(); ++z)
    for (const auto& r : im.zones[z].vlans)
      for (uint32_t v = r.lo; v <= r.hi && v < 4096; ++v)
        plan->vlan_zone[v] = static_cast<uint16_t>(z);
  for (size_t i = 0; i < q.zones.size(); ++i)
    if (q.zones[i].zone < plan->zone_qz.size())
      plan->zone_qz[q.zones[i].zone] = static_cast<uint16_t>(i);
  plan->unzoned_room = q.classrooms.empty() ? 0 : static_cast<uint32_t>(q.classrooms.size() - 1);
  for (size_t r = 0; r < q.classrooms.size(); ++r) {
    const api::QosClassroom& c = q.classrooms[r];
    if (c.qos_zone == api::kNoQosZone || c.qos_zone >= q.zones.size()) continue;
    if (c.vlan != 0 && c.vlan < 4096)
      plan->vlan_room[c.vlan] = static_cast<uint16_t>(r);
    else
      plan->qz_room[c.qos_zone] = static_cast<uint16_t>(r);
  }
  plan->policer = std::make_unique<Policer>(q);
  return plan;
}

void Shaper::set_image(std::shared_ptr<const api::PolicyImage> image) {
  std::unique_ptr<Plan> next = prepare(std::move(image));
  install(next.get());
  owned_ = std::move(next);
}

void Shaper::install(Plan* plan) noexcept {
  plan_ = plan;
  ++epoch_;  // every flow is assigned again on its next packet
  schedule_minute_ = -1;
}

uint16_t Shaper::zone_of(const std::array<uint8_t, 16>& addr, uint16_t vlan) const {
  if (vlan != 0 && vlan < plan_->vlan_zone.size() && plan_->vlan_zone[vlan] != api::kNoZone)
    return plan_->vlan_zone[vlan];
  const auto& zones = plan_->image->zones;
  uint16_t best = api::kNoZone;
  int best_len = -1;
  const bool v4 = flow::is_ipv4_mapped(addr);
  const uint32_t a4 = v4_of(addr);
  for (size_t z = 0; z < zones.size(); ++z) {
    if (v4) {
      for (const auto& p : zones[z].v4) {
        const uint32_t mask = p.len == 0 ? 0 : ~uint32_t{0} << (32 - p.len);
        if ((a4 & mask) == p.addr && p.len > best_len) {
          best = static_cast<uint16_t>(z);
          best_len = p.len;
        }
      }
    } else {
      for (const auto& p : zones[z].v6)
        if (p.len > best_len && v6_prefix_match(p, addr)) {
          best = static_cast<uint16_t>(z);
          best_len = p.len;
        }
    }
  }
  return best;
}

uint32_t Shaper::classroom_of(const std::array<uint8_t, 16>& addr, uint16_t vlan) const {
  if (!enabled()) return 0;
  const Plan& p = *plan_;
  const uint16_t z = zone_of(addr, vlan);
  if (z == api::kNoZone || z >= p.zone_qz.size()) return p.unzoned_room;
  const uint16_t qz = p.zone_qz[z];
  if (qz == api::kNoQosZone) return p.unzoned_room;
  if (vlan != 0 && vlan < p.vlan_room.size() && p.vlan_room[vlan] != kNone16 &&
      p.image->bandwidth.classrooms[p.vlan_room[vlan]].qos_zone == qz)
    return p.vlan_room[vlan];
  return p.qz_room[qz] != kNone16 ? p.qz_room[qz] : p.unzoned_room;
}

void Shaper::refresh_schedules(uint64_t now_ns) {
  const auto utc = (static_cast<int64_t>(now_ns) + clock_offset_ns_) / 1'000'000'000;
  if (utc / 60 == schedule_minute_) return;
  schedule_minute_ = utc / 60;
  const uint64_t mask = api::active_schedule_mask(*plan_->image, utc);
  if (mask != schedule_mask_) {
    schedule_mask_ = mask;
    ++epoch_;  // a class switched on or off: assign flows again
  }
}

bool Shaper::stale(const flow::FlowEntry& e) const {
  const FlowQos& s = slot(e);
  return !(s.flags() & FlowQos::kAssigned) || (s.flags() & FlowQos::kPending) ||
         s.epoch() != (epoch_ & 0x3f);
}

const FlowQos& Shaper::assign(flow::FlowEntry& e, const AppFacts& f, uint64_t now_ns) {
  FlowQos& s = *flow::ExtRegistry::get<FlowQos>(e, offset_);
  if (!enabled()) return s;
  refresh_schedules(now_ns);
  if (!stale(e)) return s;
  const uint16_t vlan = e.key.vlan_inner() ? e.key.vlan_inner() : e.key.vlan_outer();
  const uint32_t room = classroom_of(inside_address(e), vlan);
  const api::PolicyImage& im = *plan_->image;
  const api::QosImage& q = im.bandwidth;
  const uint16_t qz = q.classrooms.empty() ? api::kNoQosZone : q.classrooms[room].qos_zone;
  uint32_t cls = static_cast<uint32_t>(q.default_class());
  bool pending = false;
  for (size_t i = 0; i < q.classes.size(); ++i) {
    const api::QosClass& k = q.classes[i];
    if (!k.zones.empty() && !std::binary_search(k.zones.begin(), k.zones.end(), qz)) continue;
    if (k.schedule != api::kNoSchedule &&
        (k.schedule >= 64 || !(schedule_mask_ & (uint64_t{1} << k.schedule))))
      continue;
    if (!k.apps.empty()) {
      if (!f.known) {
        pending = true;  // could still match: provisional class below, decided later
        continue;
      }
      bool hit = false;
      for (uint16_t a : k.apps)
        if (a < im.apps.size() &&
            api::app_matches(im.apps[a], f.master, f.app, f.category, f.host)) {
          hit = true;
          break;
        }
      if (!hit) continue;
    }
    cls = static_cast<uint32_t>(i);
    break;
  }
  const bool was_final = (s.flags() & FlowQos::kAssigned) && !(s.flags() & FlowQos::kPending);
  if (!pending) {
    if (!was_final) {
      inc(Counter::kFlowsAssigned);  // new, or provisional until the app was known
    } else if (s.cls() != cls || s.room() != room) {
      inc(Counter::kFlowsReassigned);
    }
  }
  s.set(room, cls, FlowQos::kAssigned | (pending ? FlowQos::kPending : 0), epoch_);
  return s;
}

bool Shaper::police(const flow::FlowEntry& e, bool from_initiator, uint32_t bytes,
                    uint64_t now_ns) {
  if (!enabled()) return true;
  const FlowQos& s = slot(e);
  DropReason why;
  Policer& p = *plan_->policer;
  const std::array<uint8_t, 16>* host = nullptr;
  if (p.hosts_enabled()) host = &inside_address(e);  // per-host limits (some zone has them)
  if (p.admit(direction(e, from_initiator), s.room(), s.cls(), bytes, now_ns, &why, host)) {
    inc(Counter::kPacketsPassed);
    inc(Counter::kBytesPassed, bytes);
    return true;
  }
  inc(Counter::kPacketsDropped);
  inc(Counter::kBytesDropped, bytes);
  return false;
}

bool Shaper::admit(flow::FlowEntry& e, const classify::Classifier* c, bool from_initiator,
                   uint32_t bytes, uint64_t now_ns) {
  if (!enabled()) return true;
  const int64_t minute = (static_cast<int64_t>(now_ns) + clock_offset_ns_) / 60'000'000'000;
  if (stale(e) || schedule_minute_ != minute) {
    AppFacts f;
    char host[80];
    if (c) {
      const auto& cls = c->slot(e);
      const uint32_t budget = plan_->image->inspection.max_packets;
      f.known = cls.done() || (cls.flags & classify::FlowClass::kNoState) ||
                (budget && e.packets[0] + e.packets[1] >= budget);
      f.master = cls.master;
      f.app = cls.app;
      f.category = cls.category;
      const char* h = c->hostname(cls);
      size_t n = 0;
      for (; h[n] && n < sizeof(host) - 1; ++n)
        host[n] = static_cast<char>(std::tolower(static_cast<unsigned char>(h[n])));
      f.host = std::string_view(host, n);
    }
    assign(e, f, now_ns);
  }
  return police(e, from_initiator, bytes, now_ns);
}

std::string Shaper::classroom_name(uint32_t room) const {
  if (!enabled()) return "unzoned";
  const api::PolicyImage& im = *plan_->image;
  const api::QosImage& q = im.bandwidth;
  if (room >= q.classrooms.size() || q.classrooms[room].qos_zone >= q.zones.size())
    return "unzoned";
  const api::QosClassroom& c = q.classrooms[room];
  const std::string zone = im.zones[q.zones[c.qos_zone].zone].name;
  return c.vlan ? zone + "/vlan" + std::to_string(c.vlan) : zone;
}

std::string Shaper::class_name(uint32_t cls) const {
  if (!image() || cls >= image()->bandwidth.classes.size()) return "default";
  return image()->bandwidth.classes[cls].name;
}

}  // namespace cg::qos

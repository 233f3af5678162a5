#include "dataplane/qos/report.h"

#include <arpa/inet.h>

#include <algorithm>
#include <vector>

namespace cg::qos {
namespace {
void add(nlohmann::json& o, const NodeStats& s, const char* dir) {
  const std::string b = std::string("bytes_") + dir, r = std::string("rate_bps_") + dir;
  o[b] = o.value(b, uint64_t{0}) + s.bytes;
  o[r] = o.value(r, uint64_t{0}) + s.rate_bps;
  o["packets"] = o.value("packets", uint64_t{0}) + s.packets;
  o["dropped_packets"] = o.value("dropped_packets", uint64_t{0}) + s.drop_packets;
  o["dropped_bytes"] = o.value("dropped_bytes", uint64_t{0}) + s.drop_bytes;
}
std::string address_text(const std::array<uint8_t, 16>& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::equal(a.begin(), a.begin() + 12, kMapped))
    inet_ntop(AF_INET, a.data() + 12, buf, sizeof(buf));
  else
    inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
  return buf;
}

uint64_t bps_of(uint64_t rate_fixed_value) {  // 32.32 bytes/ns -> bits/s
  return static_cast<uint64_t>(
      (static_cast<unsigned __int128>(rate_fixed_value) * 8'000'000'000ull) >> kRateShift);
}

// Per host: the slots that saw a packet in the last kHostIdleNs (active hosts per classroom),
// and the busiest kMaxHostsListed of them with their shares, caps and drops.
nlohmann::json hosts_json(const Shaper& shaper, const Policer& p, uint64_t now_ns) {
  std::vector<uint32_t> active;
  std::vector<uint32_t> per_room(p.classrooms(), 0);
  for (uint32_t h = 0; h < kHostSlots; ++h) {
    const HostStats& s = p.host_stats(h);
    const uint64_t seen = ld(s.seen_ns);
    if (seen == 0 || (now_ns > seen && now_ns - seen >= kHostIdleNs)) continue;
    active.push_back(h);
    const uint32_t room = ld(s.room);
    if (room < per_room.size()) ++per_room[room];
  }
  auto offered = [&](uint32_t h) {
    const HostStats& s = p.host_stats(h);
    return ld(s.offered[0]) + ld(s.offered[1]);
  };
  constexpr size_t kMaxHostsListed = 64;
  const size_t listed = std::min(active.size(), kMaxHostsListed);
  std::partial_sort(active.begin(), active.begin() + static_cast<std::ptrdiff_t>(listed),
                    active.end(), [&](uint32_t a, uint32_t b) { return offered(a) > offered(b); });
  nlohmann::json rooms = nlohmann::json::array(), list = nlohmann::json::array();
  for (uint32_t r = 0; r < p.classrooms(); ++r)
    if (p.room_per_host(r))
      rooms.push_back({{"name", shaper.classroom_name(r)},
                       {"active_hosts", per_room[r]},
                       {"fair", p.room_host_fair(r)},
                       {"cap_bps", p.room_host_cap_bps(r)}});
  for (size_t i = 0; i < listed; ++i) {
    const uint32_t h = active[i];
    const HostStats& s = p.host_stats(h);
    const uint32_t room = ld(s.room);
    auto share = [&](Dir d) { return bps_of(ld(p.host_bucket(h, d).rate)); };
    auto cap = [&](Dir d) {  // this worker's part of the cap, else the classroom's
      const uint64_t r = ld(p.host_bucket(h, d).cap_rate);
      return r ? bps_of(r) : p.room_host_cap_bps(room);
    };
    list.push_back({{"address", address_text(s.addr)},
                    {"slot", h},
                    {"classroom", shaper.classroom_name(room)},
                    {"offered_bytes_up", ld(s.offered[0])},
                    {"offered_bytes_down", ld(s.offered[1])},
                    {"dropped_packets_up", ld(s.drop_packets[0])},
                    {"dropped_packets_down", ld(s.drop_packets[1])},
                    {"share_bps_up", share(Dir::kUp)},
                    {"share_bps_down", share(Dir::kDown)},
                    {"cap_bps_up", cap(Dir::kUp)},
                    {"cap_bps_down", cap(Dir::kDown)}});
  }
  return {{"slots", kHostSlots}, {"active", active.size()}, {"classrooms", rooms}, {"list", list}};
}
}  // namespace

nlohmann::json report_json(const Shaper& shaper, uint64_t now_ns) {
  const Policer* p = shaper.policer();
  if (!p) return nullptr;
  nlohmann::json classes = nlohmann::json::array(), rooms = nlohmann::json::array();
  for (uint32_t c = 0; c < p->classes(); ++c) {
    nlohmann::json o = {{"name", shaper.class_name(c)}};
    for (uint32_t r = 0; r < p->classrooms(); ++r) {
      add(o, p->class_stats(Dir::kUp, r, c, now_ns), "up");
      add(o, p->class_stats(Dir::kDown, r, c, now_ns), "down");
    }
    classes.push_back(std::move(o));
  }
  for (uint32_t r = 0; r < p->classrooms(); ++r) {
    nlohmann::json o = {{"name", shaper.classroom_name(r)}};
    add(o, p->classroom_stats(Dir::kUp, r, now_ns), "up");
    add(o, p->classroom_stats(Dir::kDown, r, now_ns), "down");
    if (o["packets"] != 0 || o["dropped_packets"] != 0) rooms.push_back(std::move(o));
  }
  nlohmann::json uplink = nlohmann::json::object();
  add(uplink, p->uplink_stats(Dir::kUp, now_ns), "up");
  add(uplink, p->uplink_stats(Dir::kDown, now_ns), "down");
  nlohmann::json counters = nlohmann::json::object();
  for (size_t i = 0; i < kCounterCount; ++i)
    counters[std::string(counter_name(static_cast<Counter>(i)))] = shaper.counters()[i];
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    const auto why = static_cast<DropReason>(i);
    counters[std::string(drop_reason_name(why))] = p->drops(why);
  }
  nlohmann::json out = {
      {"classes", classes}, {"classrooms", rooms}, {"uplink", uplink}, {"counters", counters}};
  if (p->hosts_enabled()) {
    counters["qos_host_claims"] = p->host_claims();
    counters["qos_host_collisions"] = p->host_collisions();
    out["counters"] = counters;
    out["hosts"] = hosts_json(shaper, *p, now_ns);
  }
  return out;
}

}  // namespace cg::qos

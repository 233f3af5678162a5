#include "dataplane/qos/report.h"

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
  return {{"classes", classes}, {"classrooms", rooms}, {"uplink", uplink}, {"counters", counters}};
}

}  // namespace cg::qos

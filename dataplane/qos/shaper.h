// The QoS stage of the pipeline: puts every flow into a classroom and a traffic class of the
// policy's bandwidth plan (cached in a 3-byte flow extension slot) and runs each packet through
// the hierarchical Policer. One Shaper per worker; the image is installed at a burst boundary.
//
// A flow's class is (re)assigned when it is new, while a class that needs the app could match
// and the app is not known yet, when the image changes and when the set of active schedules
// changes (checked once per minute of packet time) — like the enforcer's verdict cache.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/api/policy_image.h"
#include "dataplane/classify/classifier.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/qos/policer.h"

namespace cg::qos {

// The application facts a class match needs (from the classifier, or a test).
struct AppFacts {
  bool known = true;  // nDPI finished (or gave up / the inspection budget ran out)
  uint16_t master = 0, app = 0, category = 0;
  std::string_view host;  // lower case
};

// The per-flow slot: 3 bytes, no alignment. room: 12 bits; class: 4 bits; flags.
struct FlowQos {
  uint8_t b[3];
  static constexpr uint8_t kAssigned = 0x01;
  static constexpr uint8_t kPending = 0x02;  // an app class could still match
  uint32_t room() const { return b[0] | static_cast<uint32_t>(b[1] & 0x0f) << 8; }
  uint32_t cls() const { return b[1] >> 4; }
  uint8_t flags() const { return b[2] & 0x03; }
  uint8_t epoch() const { return b[2] >> 2; }  // 6 bits
  void set(uint32_t room, uint32_t cls, uint8_t flags, uint32_t epoch) {
    b[0] = static_cast<uint8_t>(room);
    b[1] = static_cast<uint8_t>((room >> 8 & 0x0f) | cls << 4);
    b[2] = static_cast<uint8_t>((flags & 0x03) | (epoch & 0x3f) << 2);
  }
};
static_assert(sizeof(FlowQos) == 3);
static_assert(api::kMaxQosClassrooms <= 4096 && api::kMaxQosClasses + 1 <= 16);

enum class Counter : uint8_t {
  kPacketsPassed,
  kBytesPassed,
  kPacketsDropped,
  kBytesDropped,
  kFlowsAssigned,    // first final assignment of a flow
  kFlowsReassigned,  // a final class changed (app known, schedule, new image)
  kCount
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);
std::string_view counter_name(Counter c);

// Everything a worker needs for one image: lookup tables and the Policer (its buckets are
// the worker's state, so a plan is installed in exactly one worker). Built on the control
// thread (allocates); installing it is a pointer store.
struct Plan {
  std::shared_ptr<const api::PolicyImage> image;
  std::unique_ptr<Policer> policer;  // null: the image has no `bandwidth` section
  std::vector<uint16_t> vlan_zone;   // VLAN id -> zone id (kNoZone), 4096 entries
  std::vector<uint16_t> vlan_room;   // VLAN id -> classroom of a per-VLAN zone, or 0xffff
  std::vector<uint16_t> zone_qz;     // zone id -> QosImage zone (kNoQosZone)
  std::vector<uint16_t> qz_room;     // QosImage zone -> its whole-zone classroom (0xffff)
  uint32_t unzoned_room = 0;
};
// Builds the plan for `image` (null image: a plan that passes everything).
std::unique_ptr<Plan> prepare(std::shared_ptr<const api::PolicyImage> image);

class Shaper {
 public:
  // Registers the flow slot; call before the flow table is built.
  bool attach(flow::ExtRegistry& registry);
  // Installs a policy (null or without `bandwidth`: QoS off, every packet passes): prepare()
  // and install(), the Shaper owning the plan. Call at a burst boundary.
  void set_image(std::shared_ptr<const api::PolicyImage> image);
  // Live swap without allocation: `plan` (from prepare(), or null = off) stays owned by the
  // caller, who frees the previous one once this worker passed a quiescent state.
  void install(Plan* plan) noexcept;
  bool enabled() const { return plan_ && plan_->policer; }
  // Schedules are evaluated at packet time + offset (tests of timetables on live traffic).
  void set_clock_offset_ns(int64_t off) noexcept {
    clock_offset_ns_ = off;
    schedule_minute_ = -1;
  }

  // One packet of `e`: `from_initiator` is the packet's flow direction. True = pass.
  bool admit(flow::FlowEntry& e, const classify::Classifier* c, bool from_initiator, uint32_t bytes,
             uint64_t now_ns);
  // Assigns the flow's classroom and class from `facts` when its slot is stale.
  const FlowQos& assign(flow::FlowEntry& e, const AppFacts& facts, uint64_t now_ns);
  // Polices one packet of an assigned flow.
  bool police(const flow::FlowEntry& e, bool from_initiator, uint32_t bytes, uint64_t now_ns);

  const FlowQos& slot(const flow::FlowEntry& e) const {
    return *flow::ExtRegistry::get<FlowQos>(const_cast<flow::FlowEntry&>(e), offset_);
  }
  bool stale(const flow::FlowEntry& e) const;
  // Is the packet's source the flow's inside endpoint (up) or not (down)?
  static Dir direction(const flow::FlowEntry& e, bool from_initiator) {
    const bool client_inside = !(e.flags & flow::FlowEntry::kInitiatorOutside);
    return from_initiator == client_inside ? Dir::kUp : Dir::kDown;
  }
  // The flow's inside endpoint: the initiator unless its first packet came in on the outside.
  static const std::array<uint8_t, 16>& inside_address(const flow::FlowEntry& e) {
    const bool client_inside = !(e.flags & flow::FlowEntry::kInitiatorOutside);
    return client_inside == e.initiator_is_lo() ? e.key.lo_addr : e.key.hi_addr;
  }
  // The classroom index of an inside endpoint (address as in FlowKey, VLAN id or 0).
  uint32_t classroom_of(const std::array<uint8_t, 16>& addr, uint16_t vlan) const;

  const Policer* policer() const { return plan_ ? plan_->policer.get() : nullptr; }
  const api::PolicyImage* image() const { return plan_ ? plan_->image.get() : nullptr; }
  // "classrooms/vlan101", "teachers", "unzoned"; class names incl. "default".
  std::string classroom_name(uint32_t room) const;
  std::string class_name(uint32_t cls) const;
  uint64_t counter(Counter c) const { return counters_[static_cast<size_t>(c)]; }
  const std::array<uint64_t, kCounterCount>& counters() const { return counters_; }

 private:
  void refresh_schedules(uint64_t now_ns);
  void inc(Counter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }
  uint16_t zone_of(const std::array<uint8_t, 16>& addr, uint16_t vlan) const;

  std::unique_ptr<Plan> owned_;  // set_image's plan
  Plan* plan_ = nullptr;
  int offset_ = -1;
  uint32_t epoch_ = 1;
  uint64_t schedule_mask_ = 0;
  int64_t schedule_minute_ = -1;
  int64_t clock_offset_ns_ = 0;
  std::array<uint64_t, kCounterCount> counters_{};
};

}  // namespace cg::qos

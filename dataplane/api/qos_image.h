// QosImage: the compiled bandwidth plan of a school policy (the policy's `bandwidth:` section) —
// part of the contract between policies/compiler and dataplane/qos. Plain data like
// policy_image.h: no YAML, no exceptions; built once per accepted policy, never edited after.
//
// The tree, per direction (up = from the school's inside to the internet, down = back):
//
//   uplink (uplink_bps[dir])
//     └─ classroom i (classrooms[i]: a VLAN of a per-VLAN zone, or a whole zone; rate and
//        guarantee from zones[classrooms[i].qos_zone])
//          └─ class c (classes[c], first match; c == classes.size(): the implicit default)
//
// Optionally per host (QosZone::host_fair / host_cap_bps): every inside address of a classroom
// of such a zone also has a ceiling of its own, across its classes: `host_cap_bps` (fixed) and/or
// a fair share of the classroom's rate (max-min over the hosts' measured demand, recomputed off
// the fast path). See dataplane/qos/README.md "Per host".
//
// The last classroom is always the "unzoned" one (qos_zone == kNoQosZone): flows whose inside
// endpoint is in no zone listed under `bandwidth.zones`. Its rate is the uplink rate.
//
// Meaning of the numbers (all per direction, bits per second; 0 = not set):
//   rate        the ceiling of a node: the sum of its children never exceeds it over time.
//   guaranteed  traffic of the node within this rate passes even if siblings filled the
//               parent (the parent borrows it back from its later traffic); the compiler
//               guarantees that the children's guarantees fit in the parent's rate.
//   cap         a class's own ceiling inside every classroom (never exceeded).
//   priority    the class borrows spare bandwidth of its classroom before non-priority ones.
// Unused bandwidth is shared within a parent (a class without cap can use all of its
// classroom's rate when the others are idle).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cg::api {

inline constexpr uint32_t kQosImageFormat = 1;
inline constexpr uint16_t kNoQosZone = 0xffff;
inline constexpr size_t kMaxQosClasses = 15;                    // + the implicit default class
inline constexpr size_t kMaxQosClassrooms = 4096;               // incl. the unzoned one
inline constexpr uint64_t kMinQosRateBps = 8'000;               // 8 kbit/s
inline constexpr uint64_t kMaxQosRateBps = 400'000'000'000ull;  // 400 Gbit/s
// burst_ms = kQosAutoBurst: each bucket is max(20 ms, min(250 ms, 16 MiB)) of its rate, sized
// for TCP through a drop policer (dataplane/qos/README.md, "Bucket depth").
inline constexpr uint32_t kQosAutoBurst = 0;
inline constexpr uint32_t kMaxQosBurstMs = 1000;

// A zone listed under `bandwidth.zones`.
struct QosZone {
  uint16_t zone = 0;            // index into PolicyImage::zones
  uint64_t rate_bps = 0;        // per classroom of this zone
  uint64_t guaranteed_bps = 0;  // per classroom, under the uplink
  bool per_vlan = true;         // each VLAN of the zone is its own classroom
  bool host_fair = false;       // each active host gets a max-min fair share of its classroom
  uint64_t host_cap_bps = 0;    // ceiling of each host; 0 = none (<= rate_bps)
  bool per_host() const noexcept { return host_fair || host_cap_bps != 0; }
};

// One leaf-parent of the tree.
struct QosClassroom {
  uint16_t qos_zone = kNoQosZone;  // index into QosImage::zones; kNoQosZone = unzoned
  uint16_t vlan = 0;               // the classroom's VLAN; 0 = the whole zone
};

// A traffic class: a flow is in the first class whose conditions all hold, else in the default.
struct QosClass {
  std::string name;
  uint32_t line = 0;            // source line
  std::vector<uint16_t> apps;   // PolicyImage::apps ids (OR); empty = any traffic
  std::vector<uint16_t> zones;  // QosImage::zones ids the class exists in; empty = all
  uint16_t schedule = 0xffff;   // PolicyImage::schedules id; 0xffff = always
  bool priority = false;
  uint64_t guaranteed_bps = 0;  // per classroom
  uint64_t cap_bps = 0;         // per classroom; 0 = the classroom's rate
};

struct QosImage {
  uint32_t format = kQosImageFormat;
  bool enabled = false;      // the policy has a `bandwidth` section
  uint64_t uplink_bps[2]{};  // [0] up, [1] down
  uint32_t burst_ms = kQosAutoBurst;  // bucket depth in ms of each node's rate; 0 = automatic
  std::vector<QosZone> zones;
  std::vector<QosClassroom> classrooms;  // last = unzoned
  std::vector<QosClass> classes;

  size_t class_count() const noexcept { return classes.size() + 1; }  // incl. default
  size_t default_class() const noexcept { return classes.size(); }
};

}  // namespace cg::api

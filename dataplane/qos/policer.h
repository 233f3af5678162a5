// Hierarchical policer: school uplink -> classroom -> class, one token-bucket tree per direction.
// Built once from an api::QosImage (control thread: allocates), then used by one worker thread
// (no allocation, no locks, no exceptions). Per packet it touches exactly three nodes (class,
// classroom, uplink) found by index arithmetic: the cost does not depend on how many classrooms
// or classes exist. Time is the caller's `now_ns` (TSC time live, capture time in --replay, a
// fake clock in tests). See README.md for the semantics and the rte_sched comparison.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "dataplane/api/qos_image.h"

namespace cg::qos {

enum class Dir : uint8_t { kUp = 0, kDown = 1 };

// Why a packet was dropped; also which level of the tree refused it.
enum class DropReason : uint8_t { kClassCap = 0, kClassroomRate = 1, kUplinkRate = 2, kCount };
inline constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kCount);
std::string_view drop_reason_name(DropReason r);

// One token bucket. Tokens are 1/65536 bytes; `rate` is bytes per ns in 32.32 fixed point. A
// ceiling bucket may go into debt (down to -depth) when a guaranteed packet passes a full parent;
// it refills at `rate` up to `depth`.
inline constexpr int kTokenShift = 16;
inline constexpr int kRateShift = 32;
struct Bucket {
  int64_t tokens = 0;
  uint64_t rate = 0;      // 0 = bucket unused
  int64_t depth = 0;      // tokens
  uint64_t fill_ns = 0;   // time to refill from -depth to depth (elapsed beyond: full)
};

struct NodeStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t drop_packets = 0;  // dropped at this node (its cap / rate)
  uint64_t drop_bytes = 0;
  uint64_t rate_bps = 0;      // passed bits per second over the last completed window
};

// A node of the tree: ceiling (rate or cap) and optional guarantee, refilled lazily.
struct alignas(64) Node {
  Bucket ceil;
  Bucket assured;  // rate 0 = no guarantee
  uint64_t last_ns = 0;
  int64_t headroom = 0;  // fixed point bytes non-priority children must leave in `ceil`
  bool priority = false;  // (class nodes) borrows before non-priority siblings
  // statistics (same cache lines: the worker writes both anyway)
  NodeStats stats;
  uint64_t window_start_ns = 0;
  uint64_t window_bytes = 0;
};

class Policer {
 public:
  static constexpr uint64_t kRateWindowNs = 100'000'000;  // current-rate estimate window

  // Builds the tree for `image` (must be enabled). Control thread only.
  explicit Policer(const api::QosImage& image);

  // Decides one packet of `bytes` for class `cls` of classroom `room` in direction `dir` at
  // `now_ns` (monotonic). Returns true to pass; on false, *why says which level refused it.
  // Out-of-range room/cls are clamped to the unzoned classroom / default class.
  bool admit(Dir dir, uint32_t room, uint32_t cls, uint32_t bytes, uint64_t now_ns,
             DropReason* why);

  uint32_t classrooms() const { return rooms_; }
  uint32_t classes() const { return classes_; }
  const api::QosImage& image() const { return image_; }

  // Statistics (read on the worker thread or after it stopped). rate_bps is 0 for a node that
  // passed nothing for two windows before `now_ns`.
  NodeStats uplink_stats(Dir dir, uint64_t now_ns) const;
  NodeStats classroom_stats(Dir dir, uint32_t room, uint64_t now_ns) const;
  NodeStats class_stats(Dir dir, uint32_t room, uint32_t cls, uint64_t now_ns) const;
  uint64_t drops(DropReason r) const { return drops_[static_cast<size_t>(r)]; }
  uint64_t passed_packets() const { return passed_packets_; }
  uint64_t passed_bytes() const { return passed_bytes_; }

 private:
  Node& root(Dir d) { return nodes_[static_cast<size_t>(d) * per_dir_]; }
  Node& room_node(Dir d, uint32_t r) { return nodes_[static_cast<size_t>(d) * per_dir_ + 1 + r]; }
  Node& leaf(Dir d, uint32_t r, uint32_t c) {
    return nodes_[static_cast<size_t>(d) * per_dir_ + 1 + rooms_ + r * classes_ + c];
  }
  static NodeStats snapshot(const Node& n, uint64_t now_ns);

  api::QosImage image_;
  uint32_t rooms_ = 0;
  uint32_t classes_ = 0;
  size_t per_dir_ = 0;
  std::vector<Node> nodes_;
  std::array<uint64_t, kDropReasonCount> drops_{};
  uint64_t passed_packets_ = 0;
  uint64_t passed_bytes_ = 0;
};

// Bucket arithmetic, exposed for tests and the benchmark.
uint64_t rate_fixed(uint64_t bps);  // bits/s -> bytes/ns, 32.32
inline int64_t bytes_fixed(uint64_t bytes) { return static_cast<int64_t>(bytes) << kTokenShift; }
void init_bucket(Bucket* b, uint64_t bps, uint32_t burst_ms, uint32_t min_depth_bytes);
void refill(Bucket* b, uint64_t elapsed_ns);

}  // namespace cg::qos

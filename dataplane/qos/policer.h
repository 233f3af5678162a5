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
  uint64_t rate = 0;  // 0 = bucket unused
  int64_t depth = 0;  // tokens
};
// Idle longer than this refills any bucket completely (the slowest, 8 kbit/s with the minimum
// depth, needs 6 s from -depth); it also bounds the 128-bit refill product.
inline constexpr uint64_t kFullAfterNs = uint64_t{1} << 34;

struct NodeStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t drop_packets = 0;  // dropped at this node (its cap / rate)
  uint64_t drop_bytes = 0;
  uint64_t rate_bps = 0;  // passed bits per second over the last completed window
};

// A node of the tree: ceiling (rate or cap) and optional guarantee, refilled lazily. One cache
// line. Only class nodes (leaves) carry statistics, in the line next to the node; classroom and
// uplink figures are sums over their leaves (computed when read), so a packet touches four
// lines: its leaf pair plus the classroom and uplink nodes, which stay hot.
struct alignas(64) Node {
  Bucket ceil;
  Bucket assured;  // rate 0 = no guarantee
  uint64_t last_ns = 0;
  int64_t headroom = 0;  // tokens non-priority classes must leave in `ceil` when borrowing
};
static_assert(sizeof(Node) == 64);

struct alignas(64) NodeCounters {
  NodeStats stats;
  uint64_t window_start_ns = 0;
  uint64_t window_bytes = 0;
};

struct Leaf {
  Node node;
  NodeCounters counters;
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

  // Statistics (read on the worker thread or after it stopped). rate_bps is 0 for a class that
  // passed nothing for two windows before `now_ns`. Classroom and uplink statistics are the sums
  // of their classes' (O(classes) and O(classrooms x classes): control thread, not per packet).
  NodeStats uplink_stats(Dir dir, uint64_t now_ns) const;
  NodeStats classroom_stats(Dir dir, uint32_t room, uint64_t now_ns) const;
  NodeStats class_stats(Dir dir, uint32_t room, uint32_t cls, uint64_t now_ns) const;
  uint64_t drops(DropReason r) const { return drops_[static_cast<size_t>(r)]; }
  uint64_t passed_packets() const { return passed_packets_; }
  uint64_t passed_bytes() const { return passed_bytes_; }

  // ---- Sharing one tree between workers (Balancer, control thread) -------------------------
  // Every worker polices its flows with its own Policer of the same image; the Balancer gives
  // each worker a share of every node's rate, guarantee and depth (shares of a node sum to
  // kShareOne), by measured demand. Flat node index: [0, 2 * (1 + classrooms)) are the uplink
  // and classroom nodes (root(d), room_node(d, r)), then the leaves (leaf_node(d, r, c)).
  static constexpr int kShareShift = 16;
  static constexpr uint32_t kShareOne = uint32_t{1} << kShareShift;
  size_t node_count() const { return nodes_.size() + leaves_.size(); }
  size_t root(Dir d) const { return static_cast<size_t>(d) * (1 + rooms_); }
  size_t room_node(Dir d, uint32_t r) const { return root(d) + 1 + r; }
  size_t leaf_node(Dir d, uint32_t r, uint32_t c) const { return nodes_.size() + leaf(d, r, c); }
  // Bytes offered to a class so far (passed + dropped at any level); relaxed reads.
  uint64_t offered_bytes(Dir dir, uint32_t room, uint32_t cls) const;
  // This worker's share of node `node` (kShareOne = all of it): of its rates (`share`) and of
  // its bucket depths (`depth_share`); relaxed writes the worker's next packet sees. Tokens
  // above a smaller depth are trimmed by the next refill.
  void set_share(size_t node, uint32_t share, uint32_t depth_share);
  const Node& full(size_t node) const { return full_[node]; }

 private:
  size_t leaf(Dir d, uint32_t r, uint32_t c) const {
    return (static_cast<size_t>(d) * rooms_ + r) * classes_ + c;
  }
  Node& flat(size_t node);
  NodeStats snapshot(size_t leaf_index, uint64_t now_ns) const;

  api::QosImage image_;
  uint32_t rooms_ = 0;
  uint32_t classes_ = 0;
  std::vector<Node> nodes_;   // per direction: uplink, then classrooms
  std::vector<Leaf> leaves_;  // per direction and classroom: its classes
  std::vector<Node> full_;    // per flat node: the image's full buckets (for set_share)
  std::array<bool, api::kMaxQosClasses + 1> priority_{};  // per class
  std::array<uint64_t, kDropReasonCount> drops_{};
  uint64_t passed_packets_ = 0;
  uint64_t passed_bytes_ = 0;
};

// Bucket arithmetic, exposed for tests and the benchmark.
uint64_t rate_fixed(uint64_t bps);  // bits/s -> bytes/ns, 32.32
inline int64_t bytes_fixed(uint64_t bytes) {
  return static_cast<int64_t>(bytes) << kTokenShift;
}
// Bucket depth in bytes for a node of `bps` (burst_ms: QosImage::burst_ms, 0 = automatic).
uint64_t depth_bytes(uint64_t bps, uint32_t burst_ms);
void init_bucket(Bucket* b, uint64_t bps, uint32_t burst_ms);
void refill(Bucket* b, uint64_t elapsed_ns);

}  // namespace cg::qos

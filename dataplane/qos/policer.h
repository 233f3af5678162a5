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
#include <type_traits>
#include <vector>

#include "dataplane/api/qos_image.h"
#include "dataplane/flow/zero_pages.h"

namespace cg::qos {

// Rates, depths, headroom and the host statistics are written by one thread (the Balancer, or
// the worker) while another reads them: relaxed atomic word accesses (plain moves on x86 and
// arm64), used by the policer, the Balancer and the report.
template <class T>
inline T ld(const T& v) {
  return __atomic_load_n(&v, __ATOMIC_RELAXED);
}
template <class T>
inline void st(T& v, T x) {
  __atomic_store_n(&v, x, __ATOMIC_RELAXED);
}

enum class Dir : uint8_t { kUp = 0, kDown = 1 };

// Why a packet was dropped; also which level of the tree refused it.
enum class DropReason : uint8_t {
  kClassCap = 0,
  kClassroomRate = 1,
  kUplinkRate = 2,
  kHostRate = 3,  // the per-host cap, or above its fair share in a full classroom
  kCount
};
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

// ---- Per host (zones with `per-host`) ---------------------------------------------------------
// A fixed-size table per worker, indexed by a hash of the inside address: kHostSlots slots,
// direct-mapped. Two hosts whose addresses hash to the same slot while both are active SHARE
// its buckets (counted: qos_host_collisions). The table is only allocated when a zone has
// `per-host`; other classrooms never touch it.
inline constexpr uint32_t kHostSlotBits = 16;
inline constexpr uint32_t kHostSlots = uint32_t{1} << kHostSlotBits;  // 65536
// A slot whose host sent nothing for this long is free: the next address takes it over (full
// buckets) instead of sharing it.
inline constexpr uint64_t kHostIdleNs = 1'000'000'000;

// One host in one direction (one cache line): its cap (a ceiling, never exceeded) and its fair
// share (an assured rate: within it the host passes a full classroom, like a guaranteed class;
// above it, it borrows the classroom's spare tokens). Rates and depths are written by the
// Balancer (relaxed; rate 0 = not set: the cap is then the classroom's per-host cap, the share
// none); tokens and last_ns by the worker.
struct alignas(64) HostBucket {
  int64_t cap_tokens = 0;
  uint64_t cap_rate = 0;
  int64_t cap_depth = 0;
  int64_t tokens = 0;  // fair share
  uint64_t rate = 0;
  int64_t depth = 0;
  uint64_t last_ns = 0;
};
static_assert(sizeof(HostBucket) == 64);
// Who holds the slot and what it offered (the Balancer's demand); the worker writes, the
// control thread reads relaxed.
struct alignas(64) HostStats {
  std::array<uint8_t, 16> addr{};  // the last inside address seen (IPv4-mapped for IPv4)
  uint64_t seen_ns = 0;            // its last packet; 0 = never
  uint64_t offered[2]{};           // bytes offered (passed + dropped at any level), per dir
  uint64_t drop_packets[2]{};      // packets dropped at any level, per dir
  uint32_t room = 0;               // classroom of the last host seen
};
static_assert(sizeof(HostStats) == 64);
static_assert(std::is_trivially_copyable_v<HostBucket> && std::is_trivially_copyable_v<HostStats>);
uint32_t host_slot_of(const std::array<uint8_t, 16>& addr);

class Policer {
 public:
  static constexpr uint64_t kRateWindowNs = 100'000'000;  // current-rate estimate window

  // Builds the tree for `image` (must be enabled). Control thread only.
  explicit Policer(const api::QosImage& image);

  // Decides one packet of `bytes` for class `cls` of classroom `room` in direction `dir` at
  // `now_ns` (monotonic). Returns true to pass; on false, *why says which level refused it.
  // Out-of-range room/cls are clamped to the unzoned classroom / default class.
  // `host` is the flow's inside address (needed only for classrooms with per-host limits; null
  // = no host level for this packet).
  bool admit(Dir dir, uint32_t room, uint32_t cls, uint32_t bytes, uint64_t now_ns, DropReason* why,
             const std::array<uint8_t, 16>* host = nullptr);

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

  // ---- Per host ---------------------------------------------------------------------------
  bool hosts_enabled() const { return hosts_ != nullptr; }
  bool room_per_host(uint32_t room) const {
    return room < room_host_.size() && room_host_[room].on;
  }
  bool room_host_fair(uint32_t room) const {
    return room < room_host_.size() && room_host_[room].fair;
  }
  uint64_t room_host_cap_bps(uint32_t room) const {
    return room < room_host_.size() ? room_host_[room].cap_bps : 0;
  }
  // The classroom's full rate in bits/s (per direction, as built).
  uint64_t room_bps(Dir d, uint32_t room) const {
    return room < rooms_ ? room_bps_[static_cast<size_t>(d) * rooms_ + room] : 0;
  }
  const HostStats& host_stats(uint32_t slot) const { return host_stats_[slot]; }
  const HostBucket& host_bucket(uint32_t slot, Dir d) const {
    return hosts_[size_t{slot} * 2 + static_cast<size_t>(d)];
  }
  // This worker's fair share (`share_bps`, assured) and cap (`cap_bps`) of slot `slot` in `d`
  // (Balancer; 0 = unset: no share / the classroom's per-host cap), buckets of
  // depth_bytes(depth_bps) and of the cap's depth_bytes(cap_depth_bps); relaxed stores.
  void set_host(uint32_t slot, Dir d, uint64_t share_bps, uint64_t depth_bps, uint64_t cap_bps,
                uint64_t cap_depth_bps);
  // Slots that saw a packet since the last call, 64 per word (Balancer: relaxed exchange; the
  // worker sets a bit with a relaxed load + store only when it is clear — a race with the
  // exchange only ever adds spurious bits or delays one to the host's next packet).
  static constexpr size_t kTouchedWords = kHostSlots / 64;
  uint64_t take_touched(size_t word) {
    return __atomic_exchange_n(&host_touched_[word], uint64_t{0}, __ATOMIC_RELAXED);
  }
  uint64_t host_claims() const { return host_claims_; }
  uint64_t host_collisions() const { return host_collisions_; }

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
  // Per host: per classroom its mode and default bucket (the cap, or none), the table.
  struct RoomHost {
    bool on = false, fair = false;
    uint64_t cap_bps = 0;
    uint64_t cap_rate = 0;  // 32.32; 0 = no cap
    int64_t cap_depth = 0;  // tokens
  };
  std::vector<RoomHost> room_host_;  // per classroom; empty = no per-host zone
  std::vector<uint64_t> room_bps_;   // [dir][room] the classroom's rate, bits/s
  // One mapping (flow::ZeroPages: huge pages advised, hit at random) for both, or none.
  flow::ZeroPages host_mem_;
  HostBucket* hosts_ = nullptr;  // [slot][dir], kHostSlots x 2
  HostStats* host_stats_ = nullptr;  // [slot]
  std::vector<uint64_t> host_touched_;  // kTouchedWords
  uint32_t burst_ms_ = 0;
  uint64_t host_claims_ = 0;
  uint64_t host_collisions_ = 0;
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

#include "dataplane/qos/policer.h"

#include <algorithm>
#include <cstring>

namespace cg::qos {
namespace {
constexpr std::string_view kDropNames[kDropReasonCount] = {
    "qos_drop_class_cap", "qos_drop_classroom_rate", "qos_drop_uplink_rate", "qos_drop_host_rate"};
// Every bucket holds at least two full-size frames, whatever its rate and burst.
constexpr uint32_t kMinDepthBytes = 2 * 1518;
// The automatic depth (burst_ms == kQosAutoBurst), see README.md "Bucket depth".
constexpr uint64_t kAutoBurstMs = 20;
constexpr uint64_t kTcpBurstMs = 250;
constexpr uint64_t kTcpWindowBytes = uint64_t{16} << 20;

inline void advance(Node& n, uint64_t now_ns) {
  if (now_ns > n.last_ns) {
    const uint64_t elapsed = now_ns - n.last_ns;
    refill(&n.ceil, elapsed);
    refill(&n.assured, elapsed);
    n.last_ns = now_ns;
  }
}

inline bool green(const Node& n, int64_t len) {
  return ld(n.assured.rate) != 0 && n.assured.tokens >= len;
}

inline void charge(Node& n, int64_t len) {
  if (ld(n.ceil.rate)) n.ceil.tokens = std::max(n.ceil.tokens - len, -ld(n.ceil.depth));
  if (ld(n.assured.rate)) n.assured.tokens = std::max<int64_t>(n.assured.tokens - len, 0);
}

inline void count_pass(NodeCounters& k, uint32_t bytes, uint64_t now_ns) {
  k.stats.packets += 1;
  k.stats.bytes += bytes;
  const uint64_t w = now_ns - k.window_start_ns;
  if (now_ns >= k.window_start_ns && w >= Policer::kRateWindowNs) {
    k.stats.rate_bps = k.window_bytes * 8'000'000'000ull / w;
    k.window_start_ns = now_ns;
    k.window_bytes = 0;
  }
  k.window_bytes += bytes;
}

inline void count_drop(NodeCounters& k, uint32_t bytes) {
  k.stats.drop_packets += 1;
  k.stats.drop_bytes += bytes;
}
}  // namespace

std::string_view drop_reason_name(DropReason r) {
  return kDropNames[static_cast<size_t>(r)];
}

uint64_t rate_fixed(uint64_t bps) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(bps) << kRateShift) /
                               8'000'000'000ull);
}

uint64_t depth_bytes(uint64_t bps, uint32_t burst_ms) {
  const uint64_t per_s = bps / 8;
  if (burst_ms != api::kQosAutoBurst)
    return std::max<uint64_t>(per_s * burst_ms / 1000, kMinDepthBytes);
  const uint64_t tcp = std::min(per_s * kTcpBurstMs / 1000, kTcpWindowBytes);
  return std::max({per_s * kAutoBurstMs / 1000, tcp, uint64_t{kMinDepthBytes}});
}

void init_bucket(Bucket* b, uint64_t bps, uint32_t burst_ms) {
  *b = Bucket{};
  if (bps == 0) return;
  b->rate = std::max<uint64_t>(rate_fixed(bps), 1);
  b->depth = bytes_fixed(depth_bytes(bps, burst_ms));
  b->tokens = b->depth;  // a new tree starts with full buckets
}

void refill(Bucket* b, uint64_t elapsed_ns) {
  const uint64_t rate = ld(b->rate);
  if (rate == 0) return;
  const int64_t depth = ld(b->depth);
  if (elapsed_ns >= kFullAfterNs) {
    b->tokens = depth;
    return;
  }
  const auto add = static_cast<int64_t>((static_cast<unsigned __int128>(elapsed_ns) * rate) >>
                                        (kRateShift - kTokenShift));
  b->tokens = std::min(b->tokens + add, depth);
}

Policer::Policer(const api::QosImage& image) : image_(image) {
  rooms_ = static_cast<uint32_t>(std::max<size_t>(image.classrooms.size(), 1));
  classes_ = static_cast<uint32_t>(image.class_count());
  nodes_.assign(2 * (1 + static_cast<size_t>(rooms_)), Node{});
  leaves_.assign(2 * static_cast<size_t>(rooms_) * classes_, Leaf{});
  const bool any_priority = std::any_of(image.classes.begin(), image.classes.end(),
                                        [](const api::QosClass& c) { return c.priority; });
  const uint32_t burst = image.burst_ms;
  for (int d = 0; d < 2; ++d) {
    const Dir dir = static_cast<Dir>(d);
    const uint64_t uplink = image.uplink_bps[d];
    Node& t = nodes_[root(dir)];
    init_bucket(&t.ceil, uplink, burst);
    if (any_priority) t.headroom = t.ceil.depth / 8;
    for (uint32_t r = 0; r < rooms_; ++r) {
      uint64_t rate = uplink, guaranteed = 0;
      uint16_t qz = r < image.classrooms.size() ? image.classrooms[r].qos_zone : api::kNoQosZone;
      if (qz != api::kNoQosZone && qz < image.zones.size()) {
        rate = std::min(image.zones[qz].rate_bps, uplink);
        guaranteed = image.zones[qz].guaranteed_bps;
      }
      Node& m = nodes_[room_node(dir, r)];
      init_bucket(&m.ceil, rate, burst);
      init_bucket(&m.assured, guaranteed, burst);
      if (any_priority) m.headroom = m.ceil.depth / 8;
      for (uint32_t c = 0; c < classes_; ++c) {
        Node& l = leaves_[leaf(dir, r, c)].node;
        if (c < image.classes.size()) {
          const api::QosClass& k = image.classes[c];
          init_bucket(&l.ceil, k.cap_bps ? std::min(k.cap_bps, rate) : 0, burst);
          init_bucket(&l.assured, k.guaranteed_bps, burst);
          priority_[c] = k.priority;
        }
      }
    }
  }
  full_.reserve(node_count());
  for (const Node& n : nodes_) full_.push_back(n);
  for (const Leaf& l : leaves_) full_.push_back(l.node);
  // Per host: only when a zone asks for it (the table is 12 MiB per worker).
  burst_ms_ = burst;
  room_bps_.assign(2 * static_cast<size_t>(rooms_), 0);
  bool any_host = false;
  std::vector<RoomHost> rh(rooms_);
  for (uint32_t r = 0; r < rooms_; ++r) {
    const uint16_t qz =
        r < image.classrooms.size() ? image.classrooms[r].qos_zone : api::kNoQosZone;
    for (int d = 0; d < 2; ++d) {
      uint64_t rate = image.uplink_bps[d];
      if (qz != api::kNoQosZone && qz < image.zones.size())
        rate = std::min(image.zones[qz].rate_bps, rate);
      room_bps_[static_cast<size_t>(d) * rooms_ + r] = rate;
    }
    if (qz == api::kNoQosZone || qz >= image.zones.size() || !image.zones[qz].per_host()) continue;
    const api::QosZone& z = image.zones[qz];
    RoomHost& h = rh[r];
    h.on = any_host = true;
    h.fair = z.host_fair;
    h.cap_bps = z.host_cap_bps;
    if (z.host_cap_bps) {
      Bucket b;
      init_bucket(&b, z.host_cap_bps, burst);
      h.cap_rate = b.rate;
      h.cap_depth = b.depth;
    }
  }
  if (any_host) {
    room_host_ = std::move(rh);
    // All-zero bytes are HostBucket{} and HostStats{} (trivial; checked in policer.h).
    const size_t bucket_bytes = sizeof(HostBucket) * kHostSlots * 2;
    host_mem_ = flow::ZeroPages(bucket_bytes + sizeof(HostStats) * kHostSlots, true);
    hosts_ = reinterpret_cast<HostBucket*>(host_mem_.data());
    host_stats_ = reinterpret_cast<HostStats*>(host_mem_.data() + bucket_bytes);
    host_touched_.assign(kTouchedWords, 0);
  }
}

uint32_t host_slot_of(const std::array<uint8_t, 16>& addr) {
  uint64_t a, b;
  std::memcpy(&a, addr.data(), 8);
  std::memcpy(&b, addr.data() + 8, 8);
  auto mix = [](uint64_t x) {  // murmur3's fmix64: every input bit moves every output bit
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
  };
  return static_cast<uint32_t>(mix(a * 0x9e3779b97f4a7c15ull + mix(b)) >> (64 - kHostSlotBits));
}

void Policer::set_host(uint32_t slot, Dir d, uint64_t share_bps, uint64_t depth_bps,
                       uint64_t cap_bps, uint64_t cap_depth_bps) {
  if (slot >= kHostSlots || !hosts_) return;
  HostBucket& b = hosts_[size_t{slot} * 2 + static_cast<size_t>(d)];
  // Depth before rate: a worker that sees a rate never pairs it with a stale depth of 0.
  if (share_bps) {
    st(b.depth, bytes_fixed(depth_bytes(std::max(depth_bps, share_bps), burst_ms_)));
    st(b.rate, std::max<uint64_t>(rate_fixed(share_bps), 1));
  } else {
    st(b.rate, uint64_t{0});
  }
  if (cap_bps) {
    st(b.cap_depth, bytes_fixed(depth_bytes(std::max(cap_depth_bps, cap_bps), burst_ms_)));
    st(b.cap_rate, std::max<uint64_t>(rate_fixed(cap_bps), 1));
  } else {
    st(b.cap_rate, uint64_t{0});
  }
}

Node& Policer::flat(size_t i) {
  return i < nodes_.size() ? nodes_[i] : leaves_[i - nodes_.size()].node;
}

uint64_t Policer::offered_bytes(Dir dir, uint32_t room, uint32_t cls) const {
  const NodeStats& s = leaves_[leaf(dir, room, cls)].counters.stats;
  return ld(s.bytes) + ld(s.drop_bytes);
}

namespace {
void scale_bucket(Bucket& b, const Bucket& full, uint32_t share, uint32_t depth_share) {
  if (full.rate == 0) return;
  // rate >= 1: a rate of 0 would mean "no limit". Depth: at least two frames per worker.
  using Wide = unsigned __int128;
  const auto rate = static_cast<uint64_t>(Wide{full.rate} * share >> Policer::kShareShift);
  const auto depth =
      static_cast<int64_t>(static_cast<Wide>(full.depth) * depth_share >> Policer::kShareShift);
  st(b.rate, std::max<uint64_t>(rate, 1));
  st(b.depth, std::max<int64_t>(depth, bytes_fixed(kMinDepthBytes)));
}
}  // namespace

void Policer::set_share(size_t node, uint32_t share, uint32_t depth_share) {
  share = std::min<uint32_t>(share, kShareOne);
  depth_share = std::min<uint32_t>(depth_share, kShareOne);
  Node& n = flat(node);
  const Node& f = full_[node];
  scale_bucket(n.ceil, f.ceil, share, depth_share);
  scale_bucket(n.assured, f.assured, share, depth_share);
  if (f.headroom) st(n.headroom, std::max<int64_t>(ld(n.ceil.depth) / 8, 1));  // as built
}

bool Policer::admit(Dir dir, uint32_t room, uint32_t cls, uint32_t bytes, uint64_t now_ns,
                    DropReason* why, const std::array<uint8_t, 16>* host) {
  const uint32_t r = room < rooms_ ? room : rooms_ - 1;
  const uint32_t c = cls < classes_ ? cls : classes_ - 1;
  Leaf& leaf_slot = leaves_[leaf(dir, r, c)];
  Node& l = leaf_slot.node;
  Node& m = nodes_[room_node(dir, r)];
  Node& t = nodes_[root(dir)];
  const bool prio = priority_[c];
  advance(l, now_ns);
  advance(m, now_ns);
  advance(t, now_ns);
  const int64_t len = bytes_fixed(bytes);
  // Per host: the slot of the flow's inside address (claimed, or shared on a collision), its
  // buckets refilled: the cap (a ceiling like a class cap) and the fair share (assured).
  HostBucket* hb = nullptr;
  HostStats* hs = nullptr;
  uint64_t cap_rate = 0;
  bool host_green = false;
  if (host && r < room_host_.size() && room_host_[r].on) {
    const RoomHost& rh = room_host_[r];
    const uint32_t slot = host_slot_of(*host);
    hs = &host_stats_[slot];
    HostBucket* pair = &hosts_[size_t{slot} * 2];
    hb = &pair[static_cast<size_t>(dir)];
    if (hs->addr != *host) {
      if (hs->seen_ns && now_ns >= hs->seen_ns && now_ns - hs->seen_ns < kHostIdleNs) {
        ++host_collisions_;  // another active host holds the slot: they share it
      } else {
        ++host_claims_;  // a free (or idle) slot: the new host starts with full buckets
        for (int d = 0; d < 2; ++d) {
          HostBucket& b = pair[d];
          b.cap_tokens = ld(b.cap_rate) ? ld(b.cap_depth) : rh.cap_depth;
          b.tokens = ld(b.depth);
          b.last_ns = now_ns;
        }
      }
      hs->addr = *host;
    }
    hs->room = r;
    hs->seen_ns = now_ns;
    hs->offered[static_cast<size_t>(dir)] += bytes;
    uint64_t& touched = host_touched_[slot / 64];
    const uint64_t bit = uint64_t{1} << (slot % 64), seen = ld(touched);
    if (!(seen & bit)) st(touched, seen | bit);
    cap_rate = ld(hb->cap_rate);
    int64_t cap_depth = ld(hb->cap_depth);
    if (cap_rate == 0) {  // not balanced over workers: the classroom's per-host cap (or none)
      cap_rate = rh.cap_rate;
      cap_depth = rh.cap_depth;
    }
    const uint64_t share_rate = ld(hb->rate);
    const int64_t share_depth = ld(hb->depth);
    const uint64_t elapsed = now_ns > hb->last_ns ? now_ns - hb->last_ns : 0;
    hb->last_ns = std::max(hb->last_ns, now_ns);
    auto fill = [elapsed](int64_t& tokens, uint64_t rate, int64_t depth) {
      if (elapsed >= kFullAfterNs) {
        tokens = depth;
        return;
      }
      const auto add = static_cast<int64_t>((static_cast<unsigned __int128>(elapsed) * rate) >>
                                            (kRateShift - kTokenShift));
      tokens = std::min(tokens + add, depth);  // also trims tokens above a smaller new depth
    };
    if (cap_rate) fill(hb->cap_tokens, cap_rate, cap_depth);
    if (share_rate) {
      fill(hb->tokens, share_rate, share_depth);
      host_green = hb->tokens >= len;
    }
  }
  DropReason reason = DropReason::kClassCap;
  bool pass;
  if (ld(l.ceil.rate) && l.ceil.tokens < len) {
    pass = false;  // the class's cap: never exceeded
  } else if (cap_rate && hb->cap_tokens < len) {
    pass = false;  // the host's cap: never exceeded
    reason = DropReason::kHostRate;
  } else if (green(l, len)) {
    pass = true;  // within the class's guarantee: parents go into debt if they must
  } else if (!host_green && m.ceil.tokens < len + (prio ? 0 : ld(m.headroom))) {
    // The classroom is full (within its fair share a host passes it, like a guarantee). In a
    // fair-share classroom that means the host is above its share.
    pass = false;
    reason = hs && room_host_[r].fair ? DropReason::kHostRate : DropReason::kClassroomRate;
  } else if (green(m, len)) {
    pass = true;  // within the classroom's guarantee under the uplink
  } else if (t.ceil.tokens < len + (prio ? 0 : ld(t.headroom))) {
    pass = false;
    reason = DropReason::kUplinkRate;
  } else {
    pass = true;  // borrowed from the classroom and the uplink
  }
  if (!pass) {
    drops_[static_cast<size_t>(reason)] += 1;
    count_drop(leaf_slot.counters, bytes);
    if (hs) hs->drop_packets[static_cast<size_t>(dir)] += 1;
    if (why) *why = reason;
    return false;
  }
  if (hb) {
    if (cap_rate) hb->cap_tokens -= len;
    if (ld(hb->rate)) hb->tokens = std::max<int64_t>(hb->tokens - len, 0);
  }
  charge(l, len);
  charge(m, len);
  charge(t, len);
  count_pass(leaf_slot.counters, bytes, now_ns);
  passed_packets_ += 1;
  passed_bytes_ += bytes;
  return true;
}

NodeStats Policer::snapshot(size_t i, uint64_t now_ns) const {
  const NodeCounters& k = leaves_[i].counters;
  NodeStats s = k.stats;
  if (now_ns > k.window_start_ns + 2 * kRateWindowNs) s.rate_bps = 0;
  return s;
}

namespace {
void accumulate(NodeStats& sum, const NodeStats& s) {
  sum.packets += s.packets;
  sum.bytes += s.bytes;
  sum.drop_packets += s.drop_packets;
  sum.drop_bytes += s.drop_bytes;
  sum.rate_bps += s.rate_bps;
}
}  // namespace

NodeStats Policer::uplink_stats(Dir dir, uint64_t now_ns) const {
  NodeStats sum;
  for (uint32_t r = 0; r < rooms_; ++r)
    for (uint32_t c = 0; c < classes_; ++c) accumulate(sum, snapshot(leaf(dir, r, c), now_ns));
  return sum;
}

NodeStats Policer::classroom_stats(Dir dir, uint32_t room, uint64_t now_ns) const {
  NodeStats sum;
  if (room >= rooms_) return sum;
  for (uint32_t c = 0; c < classes_; ++c) accumulate(sum, snapshot(leaf(dir, room, c), now_ns));
  return sum;
}

NodeStats Policer::class_stats(Dir dir, uint32_t room, uint32_t cls, uint64_t now_ns) const {
  if (room >= rooms_ || cls >= classes_) return {};
  return snapshot(leaf(dir, room, cls), now_ns);
}

}  // namespace cg::qos

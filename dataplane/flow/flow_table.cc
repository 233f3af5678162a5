#include "dataplane/flow/flow_table.h"

#include <bit>
#include <cstdlib>

namespace cg::flow {
namespace {

constexpr std::string_view kTableCounterNames[kTableCounterCount] = {
    "flow_lookups",          "flow_hits",          "flows_created",
    "flows_expired_idle",    "flows_expired_tcp_closed",
    "flows_evicted_embryonic", "flows_evicted_idle", "flows_reused",
    "flow_table_full_forward", "flow_table_full_drop", "flow_cuckoo_moves",
};
constexpr std::string_view kEndReasonNames[] = {"idle", "tcp_closed", "evicted", "reused",
                                                "shutdown"};

// How many entries the clock hand inspects when a full table has no candidate in the key's
// own buckets (rare: the buckets are at most half full on average).
constexpr uint32_t kVictimScan = 64;

inline void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }

}  // namespace

std::string_view table_counter_name(TableCounter c) {
  return kTableCounterNames[static_cast<size_t>(c)];
}
std::string_view end_reason_name(EndReason r) { return kEndReasonNames[static_cast<size_t>(r)]; }

bool FlowEntry::embryonic() const {
  if (key.proto() == packet::ipproto::kTcp)
    return tcp_state == TcpState::kSynSent || tcp_state == TcpState::kSynAckSeen;
  return packets[1] == 0 && packets[0] <= 1;
}

int ExtRegistry::add(std::string_view name, size_t size, size_t align, ReleaseFn release,
                     void* ctx) {
  if (align == 0 || (align & (align - 1)) != 0 || align > 8) return -1;
  size_t off = (used_ + align - 1) & ~(align - 1);
  if (off + size > kExtBytes) return -1;
  slots_.push_back(Slot{std::string(name), static_cast<uint16_t>(off),
                        static_cast<uint16_t>(size), release, ctx});
  used_ = off + size;
  return static_cast<int>(off);
}

void ExtRegistry::release_all(FlowEntry& e) const {
  for (const auto& s : slots_)
    if (s.release) s.release(e.ext + s.offset, s.ctx);
}

FlowTable::FlowTable(const TableConfig& cfg, const ExtRegistry* ext) : cfg_(cfg), ext_(ext) {
  capacity_ = cfg.capacity < 16 ? 16 : cfg.capacity;
  // Two slots of bucket space per flow: buckets stay about half full, so the two-choice insert
  // practically never finds both buckets full before the entry pool is.
  uint32_t nbuckets = std::bit_ceil((capacity_ + 3) / 4);
  if (nbuckets < 2) nbuckets = 2;
  bucket_mask_ = nbuckets - 1;
  size_t bucket_bytes = sizeof(Bucket) * nbuckets;
  size_t entry_bytes = sizeof(FlowEntry) * (static_cast<size_t>(capacity_) + 1);
  size_t free_bytes = sizeof(uint32_t) * capacity_;
  // Zero is the empty state of buckets and entries (both are trivial types).
  pages_ = ZeroPages(bucket_bytes + entry_bytes + free_bytes, cfg.prefault);
  uint8_t* base = pages_.data();
  buckets_ = reinterpret_cast<Bucket*>(base);
  entries_ = reinterpret_cast<FlowEntry*>(base + bucket_bytes);
  free_ = reinterpret_cast<uint32_t*>(base + bucket_bytes + entry_bytes);
  for (uint32_t i = 0; i < capacity_; ++i) free_[i] = capacity_ - i;  // pop 1 first
  free_top_ = capacity_;
}

FlowTable::~FlowTable() = default;

size_t FlowTable::memory_bytes() const { return pages_.size(); }

uint64_t FlowTable::timeout_of(const FlowEntry& e) const {
  const Timeouts& t = cfg_.timeouts;
  switch (e.key.proto()) {
    case packet::ipproto::kTcp:
      switch (e.tcp_state) {
        case TcpState::kSynSent:
        case TcpState::kSynAckSeen: return t.tcp_embryonic;
        case TcpState::kClosing: return t.tcp_closing;
        case TcpState::kClosed: return t.tcp_closed;
        default: return t.tcp_established;
      }
    case packet::ipproto::kUdp: return t.udp;
    case packet::ipproto::kIcmp:
    case packet::ipproto::kIcmpv6: return t.icmp;
    default: return t.other;
  }
}

FlowEntry* FlowTable::search(const Bucket& b, const FlowKey& key, uint32_t hash) const {
  for (int s = 0; s < 8; ++s) {
    if (b.sig[s] == hash && b.idx[s] != 0) {
      FlowEntry* e = &entries_[b.idx[s]];
      if (e->key == key) return e;
    }
  }
  return nullptr;
}

FlowEntry* FlowTable::find(const FlowKey& key, uint32_t hash) const {
  FlowEntry* e = search(buckets_[bucket1(hash)], key, hash);
  return e ? e : search(buckets_[bucket2(hash)], key, hash);
}

uint32_t FlowTable::pick_victim(uint32_t b1, uint32_t b2) {
  // Candidates: the flows in the new key's two buckets; prefer embryonic, then oldest idle.
  uint32_t best = 0;
  bool best_emb = false;
  uint64_t best_seen = ~0ull;
  auto consider = [&](uint32_t idx) {
    const FlowEntry& e = entries_[idx];
    bool emb = e.embryonic();
    if ((emb && !best_emb) || (emb == best_emb && e.last_seen_ns < best_seen)) {
      best = idx;
      best_emb = emb;
      best_seen = e.last_seen_ns;
    }
  };
  for (uint32_t b : {b1, b2})
    for (int s = 0; s < 8; ++s)
      if (buckets_[b].idx[s]) consider(buckets_[b].idx[s]);
  if (best == 0) {
    // Both buckets empty while the pool is full: sample entries with a clock hand.
    for (uint32_t n = 0; n < kVictimScan; ++n) {
      if (entries_[victim_cursor_].flags & FlowEntry::kInUse) consider(victim_cursor_);
      victim_cursor_ = victim_cursor_ == capacity_ ? 1 : victim_cursor_ + 1;
    }
  }
  return best;
}

FlowEntry* FlowTable::insert(const FlowKey& key, uint32_t hash, bool src_is_lo,
                             uint64_t now_ns) {
  uint32_t b1 = bucket1(hash), b2 = bucket2(hash);
  auto free_slot = [&](uint32_t b) {
    for (int s = 0; s < 8; ++s)
      if (buckets_[b].idx[s] == 0) return s;
    return -1;
  };
  int s1 = free_slot(b1), s2 = free_slot(b2);
  if (free_top_ != 0 && s1 < 0 && s2 < 0) {
    // Both buckets full while the pool has room: move one resident to its other bucket (one
    // cuckoo step over 16 candidates) before resorting to eviction.
    for (uint32_t b : {b1, b2}) {
      for (int s = 0; s < 8 && s1 < 0 && s2 < 0; ++s) {
        uint32_t h = buckets_[b].sig[s];
        uint32_t other = bucket1(h) == b ? bucket2(h) : bucket1(h);
        int fs = free_slot(other);
        if (fs < 0) continue;
        buckets_[other].sig[fs] = h;
        buckets_[other].idx[fs] = buckets_[b].idx[s];
        buckets_[b].sig[s] = 0;
        buckets_[b].idx[s] = 0;
        inc(TableCounter::kCuckooMoves);
        if (b == b1) s1 = s; else s2 = s;
      }
    }
  }
  if (free_top_ == 0 || (s1 < 0 && s2 < 0)) {
    if (cfg_.on_full == OnFull::kForward) {
      inc(TableCounter::kFullForward);
      return nullptr;
    }
    if (cfg_.on_full == OnFull::kDrop) {
      inc(TableCounter::kFullDrop);
      return nullptr;
    }
    uint32_t victim = pick_victim(b1, b2);
    inc(entries_[victim].embryonic() ? TableCounter::kEvictedEmbryonic
                                     : TableCounter::kEvictedIdle);
    remove(victim, EndReason::kEvicted);
    s1 = free_slot(b1);
    s2 = free_slot(b2);
    if (s1 < 0 && s2 < 0) return nullptr;  // unreachable: the victim came from b1 or b2
  }
  // Primary bucket first: bursts prefetch only the primary, so flows placed there are found
  // in one cache line; the secondary takes the overflow of a full primary.
  uint32_t b = b1;
  int s = s1;
  if (s1 < 0) {
    b = b2;
    s = s2;
  }
  uint32_t idx = free_[--free_top_];
  if (idx > high_water_) high_water_ = idx;
  FlowEntry& e = entries_[idx];
  e = FlowEntry{};
  e.key = key;
  e.hash = hash;
  e.flags = FlowEntry::kInUse | (src_is_lo ? FlowEntry::kInitiatorIsLo : 0);
  e.first_seen_ns = now_ns;
  e.last_seen_ns = now_ns;
  buckets_[b].sig[s] = hash;
  buckets_[b].idx[s] = idx;
  ++size_;
  inc(TableCounter::kCreated);
  return &e;
}

void FlowTable::remove(uint32_t idx, EndReason why) {
  FlowEntry& e = entries_[idx];
  if (end_fn_) end_fn_(end_ctx_, e, why);
  if (ext_) ext_->release_all(e);
  for (uint32_t b : {bucket1(e.hash), bucket2(e.hash)}) {
    for (int s = 0; s < 8; ++s) {
      if (buckets_[b].idx[s] == idx) {
        buckets_[b].idx[s] = 0;
        buckets_[b].sig[s] = 0;
        goto found;
      }
    }
  }
found:
  e.flags = 0;
  free_[free_top_++] = idx;
  --size_;
}

FlowEntry* FlowTable::lookup_one(const FlowKey& key, uint32_t hash, bool src_is_lo,
                                 uint64_t now_ns, bool* created) {
  inc(TableCounter::kLookups);
  FlowEntry* e = find(key, hash);
  if (e) {
    inc(TableCounter::kHits);
    *created = false;
    return e;
  }
  *created = true;
  return insert(key, hash, src_is_lo, now_ns);
}

void FlowTable::lookup_burst(const FlowKey* keys, const uint32_t* hashes, const bool* src_is_lo,
                             uint32_t n, uint64_t now_ns, FlowEntry** out, uint8_t* created) {
  // Stage 1: primary buckets into cache. Stage 2: candidate entries into cache. Stage 3: verify
  // in order (a flow created by an earlier packet of the burst is found by later ones).
  uint32_t cand[64];
  for (uint32_t base = 0; base < n; base += 64) {
    uint32_t m = n - base < 64 ? n - base : 64;
    for (uint32_t i = 0; i < m; ++i) prefetch(&buckets_[bucket1(hashes[base + i])]);
    for (uint32_t i = 0; i < m; ++i) {
      const Bucket& b = buckets_[bucket1(hashes[base + i])];
      uint32_t h = hashes[base + i];
      cand[i] = 0;
      for (int s = 0; s < 8; ++s) {
        if (b.sig[s] == h && b.idx[s] != 0) {
          cand[i] = b.idx[s];
          // Both lines: the key is compared in line 0, the counters are updated in line 1.
          const auto* line = reinterpret_cast<const uint8_t*>(&entries_[cand[i]]);
          __builtin_prefetch(line, 1, 3);
          __builtin_prefetch(line + 64, 1, 3);
          break;
        }
      }
    }
    for (uint32_t i = 0; i < m; ++i) {
      uint32_t k = base + i;
      inc(TableCounter::kLookups);
      FlowEntry* e = nullptr;
      if (cand[i] && entries_[cand[i]].key == keys[k] &&
          (entries_[cand[i]].flags & FlowEntry::kInUse)) {
        e = &entries_[cand[i]];
      } else {
        e = find(keys[k], hashes[k]);
      }
      if (e) {
        inc(TableCounter::kHits);
        created[k] = 0;
        out[k] = e;
      } else {
        created[k] = 1;
        out[k] = insert(keys[k], hashes[k], src_is_lo[k], now_ns);
      }
    }
  }
}

FlowEntry* FlowTable::account(FlowEntry* e, bool src_is_lo, uint32_t bytes, uint8_t tcp_flags,
                              uint64_t now_ns) {
  int d = e->dir(src_is_lo);
  if (e->key.proto() == packet::ipproto::kTcp) {
    using namespace packet::tcpflag;
    bool syn_only = (tcp_flags & (kSyn | kAck | kRst)) == kSyn;
    if (syn_only && e->tcp_state == TcpState::kClosed && e->packets[0] + e->packets[1] > 0) {
      // A new connection on the tuple of a closed one: end the old flow, start a new one.
      FlowKey key = e->key;
      uint32_t hash = e->hash;
      inc(TableCounter::kReused);
      remove(static_cast<uint32_t>(e - entries_), EndReason::kReused);
      e = insert(key, hash, src_is_lo, now_ns);
      if (!e) return nullptr;
      d = 0;
    }
    switch (e->tcp_state) {
      case TcpState::kNone:
        if (e->packets[0] + e->packets[1] == 0) {
          e->tcp_state = syn_only ? TcpState::kSynSent : TcpState::kEstablished;
        }
        break;
      case TcpState::kSynSent:
        if (d == 1 && (tcp_flags & (kSyn | kAck)) == (kSyn | kAck)) {
          e->tcp_state = TcpState::kSynAckSeen;
        }
        break;
      case TcpState::kSynAckSeen:
        if (d == 0 && (tcp_flags & kAck)) e->tcp_state = TcpState::kEstablished;
        break;
      default:
        break;
    }
    if (tcp_flags & kRst) {
      e->tcp_state = TcpState::kClosed;
    } else if (tcp_flags & kFin) {
      e->fin_mask |= static_cast<uint8_t>(1u << d);
      e->tcp_state = e->fin_mask == 3 ? TcpState::kClosed : TcpState::kClosing;
    }
  }
  e->packets[d] += 1;
  e->bytes[d] += bytes;
  if (now_ns > e->last_seen_ns) e->last_seen_ns = now_ns;
  return e;
}

uint32_t FlowTable::expire(uint64_t now_ns) {
  if (last_sweep_ns_ == 0 || now_ns < last_sweep_ns_) {
    last_sweep_ns_ = now_ns;
    return 0;
  }
  if (high_water_ == 0) return 0;
  double share = static_cast<double>(now_ns - last_sweep_ns_) /
                     static_cast<double>(cfg_.sweep_period_ns) * high_water_ +
                 sweep_carry_;
  last_sweep_ns_ = now_ns;
  if (share > high_water_) share = high_water_;  // at most one whole table is owed
  uint32_t budget = share > cfg_.sweep_max_per_call ? cfg_.sweep_max_per_call
                                                     : static_cast<uint32_t>(share);
  sweep_carry_ = share - budget;
  uint32_t expired = 0;
  for (uint32_t n = 0; n < budget; ++n) {
    uint32_t i = sweep_cursor_ > high_water_ ? 1 : sweep_cursor_;
    sweep_cursor_ = i + 1;
    FlowEntry& e = entries_[i];
    if (!(e.flags & FlowEntry::kInUse)) continue;
    if (now_ns - e.last_seen_ns < timeout_of(e) || now_ns < e.last_seen_ns) continue;
    bool closed = e.tcp_state == TcpState::kClosed;
    inc(closed ? TableCounter::kExpiredTcpClosed : TableCounter::kExpiredIdle);
    remove(i, closed ? EndReason::kTcpClosed : EndReason::kIdle);
    ++expired;
  }
  return expired;
}

void FlowTable::flush(EndReason why) {
  for (uint32_t i = 1; i <= high_water_; ++i)
    if (entries_[i].flags & FlowEntry::kInUse) remove(i, why);
}

}  // namespace cg::flow

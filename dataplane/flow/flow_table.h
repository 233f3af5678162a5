// Per-worker bidirectional flow table: fixed capacity, 8-way buckets with two choices, bulk
// lookup with precomputed hashes and prefetch, TCP-aware expiry by incremental sweep, and a
// configured policy when full. No allocation after construction; one thread owns a table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/flow/flow_key.h"
#include "dataplane/flow/zero_pages.h"

namespace cg::flow {

enum class TcpState : uint8_t {
  kNone = 0,     // not TCP, or picked up mid-stream before any handshake was seen
  kSynSent,      // initiator's SYN seen
  kSynAckSeen,   // responder's SYN+ACK seen
  kEstablished,  // handshake done (or data seen in both directions)
  kClosing,      // one FIN seen
  kClosed,       // both FINs or an RST seen
};

inline constexpr size_t kExtBytes = 32;

// One flow. 128 bytes: line 0 holds what lookup and expiry read, line 1 the counters and the
// extension area (registered slots; the table never interprets them).
struct alignas(64) FlowEntry {
  FlowKey key;
  uint32_t hash;
  TcpState tcp_state;
  uint8_t flags;
  uint8_t fin_mask;  // bit d: a FIN was seen in direction d
  uint8_t reserved;
  uint64_t first_seen_ns;
  uint64_t last_seen_ns;
  // [0]: from the initiator (the side that sent the first packet), [1]: toward it
  uint64_t packets[2];
  uint64_t bytes[2];
  alignas(8) uint8_t ext[kExtBytes];

  static constexpr uint8_t kInUse = 0x01;
  static constexpr uint8_t kInitiatorIsLo = 0x02;
  static constexpr uint8_t kInitiatorOutside = 0x04;  // first packet came in on the outside port
  bool initiator_is_lo() const { return flags & kInitiatorIsLo; }
  // Direction index of a packet whose source is the key's lo end (src_is_lo) or not.
  int dir(bool src_is_lo) const { return src_is_lo == initiator_is_lo() ? 0 : 1; }
  bool embryonic() const;
};
static_assert(sizeof(FlowEntry) == 128, "flow entry must stay two cache lines");

// Extension slots: features (classification, verdict cache, QoS class) register a slot of the
// extension area before the table is built. `release` runs whenever a flow leaves the table.
class ExtRegistry {
 public:
  using ReleaseFn = void (*)(void* slot, void* ctx);
  struct Slot {
    std::string name;
    uint16_t offset;
    uint16_t size;
    ReleaseFn release;
    void* ctx;
  };
  // Returns the slot's offset in FlowEntry::ext, or -1 when the area has no room left.
  int add(std::string_view name, size_t size, size_t align, ReleaseFn release, void* ctx);
  const std::vector<Slot>& slots() const { return slots_; }
  void release_all(FlowEntry& e) const;
  template <class T>
  static T* get(FlowEntry& e, int offset) {
    return reinterpret_cast<T*>(e.ext + offset);
  }

 private:
  std::vector<Slot> slots_;
  size_t used_ = 0;
};

enum class OnFull : uint8_t {
  kEvict,    // evict an embryonic flow, else the oldest idle one among the candidates
  kForward,  // fail open: do not track the new flow, forward its packet
  kDrop,     // fail closed: do not track the new flow, drop its packet
};

struct Timeouts {  // nanoseconds of idleness before a flow expires
  uint64_t tcp_embryonic = 30'000'000'000ull;
  uint64_t tcp_established = 3600'000'000'000ull;
  uint64_t tcp_closing = 120'000'000'000ull;
  uint64_t tcp_closed = 10'000'000'000ull;
  uint64_t udp = 120'000'000'000ull;
  uint64_t icmp = 30'000'000'000ull;
  uint64_t other = 120'000'000'000ull;
};

struct TableConfig {
  uint32_t capacity = 1 << 16;  // flows
  Timeouts timeouts;
  OnFull on_full = OnFull::kEvict;
  uint64_t sweep_period_ns = 1'000'000'000ull;  // every entry is checked once per period
  // At most this many entries per expire() call: a worker that was off its core (or a replay
  // whose clock jumps an hour) owes a whole table, and checking a million entries at once
  // would stall the worker for milliseconds. What is owed carries over (at most one table).
  uint32_t sweep_max_per_call = 256;
  bool prefault = false;  // touch all memory at construction (live dataplane: no page faults)
};

enum class EndReason : uint8_t { kIdle, kTcpClosed, kEvicted, kReused, kShutdown };
std::string_view end_reason_name(EndReason r);

enum class TableCounter : uint8_t {
  kLookups,
  kHits,
  kCreated,
  kExpiredIdle,
  kExpiredTcpClosed,
  kEvictedEmbryonic,
  kEvictedIdle,
  kReused,
  kFullForward,
  kFullDrop,
  kCuckooMoves,
  kCount
};
inline constexpr size_t kTableCounterCount = static_cast<size_t>(TableCounter::kCount);
std::string_view table_counter_name(TableCounter c);

class FlowTable {
 public:
  using EndFn = void (*)(void* ctx, FlowEntry& e, EndReason why);

  FlowTable(const TableConfig& cfg, const ExtRegistry* ext);
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Called for every flow that leaves the table (before its extension slots are released).
  void set_end_callback(EndFn fn, void* ctx) {
    end_fn_ = fn;
    end_ctx_ = ctx;
  }

  // Finds or creates the flow of each key. out[i] is null only when the table is full and the
  // policy is kForward / kDrop (then full_action tells which). created[i] is 1 for new flows.
  // `src_is_lo[i]` sets the initiator side of new flows.
  void lookup_burst(const FlowKey* keys, const uint32_t* hashes, const bool* src_is_lo,
                    uint32_t n, uint64_t now_ns, FlowEntry** out, uint8_t* created);
  FlowEntry* lookup_one(const FlowKey& key, uint32_t hash, bool src_is_lo, uint64_t now_ns,
                        bool* created);
  // Lookup without creating (control-plane queries run on the owning thread).
  FlowEntry* find(const FlowKey& key, uint32_t hash) const;

  // Updates counters and TCP state for one packet of `e`; ends and recreates the flow when a
  // new SYN reuses the tuple of a closed connection (then returns the new entry).
  FlowEntry* account(FlowEntry* e, bool src_is_lo, uint32_t bytes, uint8_t tcp_flags,
                     uint64_t now_ns);

  // Expires idle flows: checks a slice of the table proportional to the time since the last
  // call (the whole table once per sweep_period), at most sweep_max_per_call entries; the rest
  // is owed to the next calls. Returns flows expired.
  uint32_t expire(uint64_t now_ns);
  // Ends every flow (shutdown / end of replay).
  void flush(EndReason why);

  uint32_t size() const { return size_; }
  const uint32_t& size_ref() const { return size_; }  // for relaxed reads from other threads
  uint32_t capacity() const { return capacity_; }
  OnFull on_full() const { return cfg_.on_full; }
  size_t memory_bytes() const;
  uint64_t counter(TableCounter c) const { return counters_[static_cast<size_t>(c)]; }
  const std::array<uint64_t, kTableCounterCount>& counters() const { return counters_; }
  uint64_t timeout_of(const FlowEntry& e) const;

  // Visits live flows with entry index in [from, from + count); returns the next index to
  // visit, or 0 when the table has been covered. Lets a worker answer a query in slices.
  template <class F>
  uint32_t visit(uint32_t from, uint32_t count, F&& f) const {
    if (from == 0) from = 1;
    uint32_t end = from + count > high_water_ + 1 ? high_water_ + 1 : from + count;
    for (uint32_t i = from; i < end; ++i)
      if (entries_[i].flags & FlowEntry::kInUse) f(entries_[i]);
    return end > high_water_ ? 0 : end;
  }

 private:
  struct alignas(64) Bucket {
    uint32_t sig[8];
    uint32_t idx[8];  // 1-based entry index, 0 = empty slot
  };
  static_assert(sizeof(Bucket) == 64);

  uint32_t bucket1(uint32_t h) const { return h & bucket_mask_; }
  uint32_t bucket2(uint32_t h) const {
    uint32_t b = ((h >> 16) | (h << 16)) * 0x2545f491u;
    b = (b >> 7) & bucket_mask_;
    return b == bucket1(h) ? (b ^ 1) & bucket_mask_ : b;
  }
  FlowEntry* search(const Bucket& b, const FlowKey& key, uint32_t hash) const;
  FlowEntry* insert(const FlowKey& key, uint32_t hash, bool src_is_lo, uint64_t now_ns);
  uint32_t pick_victim(uint32_t b1, uint32_t b2);
  void remove(uint32_t idx, EndReason why);
  void inc(TableCounter c) { ++counters_[static_cast<size_t>(c)]; }

  TableConfig cfg_;
  const ExtRegistry* ext_;
  uint32_t capacity_;
  uint32_t bucket_mask_;
  Bucket* buckets_ = nullptr;
  FlowEntry* entries_ = nullptr;  // [0] unused: index 0 means empty
  uint32_t* free_ = nullptr;      // stack of free entry indices
  uint32_t free_top_ = 0;
  uint32_t size_ = 0;
  // Highest entry index ever handed out. The free stack returns low indices first, so sweeps
  // and scans cover [1, high_water_] instead of the whole capacity.
  uint32_t high_water_ = 0;
  ZeroPages pages_;  // buckets, entries, free stack
  uint32_t sweep_cursor_ = 1;
  uint32_t victim_cursor_ = 1;
  uint64_t last_sweep_ns_ = 0;
  double sweep_carry_ = 0;
  EndFn end_fn_ = nullptr;
  void* end_ctx_ = nullptr;
  std::array<uint64_t, kTableCounterCount> counters_{};
};

}  // namespace cg::flow

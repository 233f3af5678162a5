// Per-worker security detectors: vertical port scan, horizontal sweep, SYN flood, UDP flood,
// IP / domain blocklists, nDPI flow risks, and the per-source rate limit of policy events.
// Every table is fixed-size and allocated at construction; nothing allocates per packet. Events
// go into the worker's bounded EventRing (exporter::EventRing); a full ring counts the loss.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/api/policy_image.h"
#include "dataplane/detect/blocklist.h"
#include "dataplane/enforce/enforcer.h"
#include "dataplane/export/event.h"
#include "dataplane/export/evidence.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/packet/parser.h"

namespace cg::classify {
class Classifier;
struct FlowClass;
}  // namespace cg::classify

namespace cg::detect {

// Thresholds and sizes; declared once with their defaults here, set from the `detect.*` keys of
// the dataplane configuration (dataplane/runtime/config.cc).
struct DetectConfig {
  bool enabled = true;
  uint32_t scan_ports = 20;                     // distinct ports of one host from one source ...
  uint32_t sweep_hosts = 20;                    // distinct hosts on one port from one source ...
  uint64_t scan_window_ns = 10'000'000'000ull;  // ... within this window
  uint32_t scan_table = 8192;          // tracked (source, host) and (source, port) pairs, each
  uint32_t syn_flood_packets = 2000;   // SYNs toward one host ...
  uint32_t udp_flood_packets = 50000;  // UDP packets toward one host ...
  uint64_t flood_window_ns = 1'000'000'000ull;  // ... within this window
  uint32_t flood_table = 4096;                  // tracked destination hosts
  std::vector<std::string> blocklist_files;
  bool blocklist_block = true;  // a hit drops the flow (false: alert only)
  api::Severity blocklist_severity = api::Severity::kHigh;
  uint8_t risk_min_severity = 2;  // nDPI ndpi_risk_severity: 1 low, 2 medium, 3 high, 4 severe
  std::vector<std::string> risk_ignore;  // nDPI risk names that never raise events
  // Event budget per (source, rule) for policy events and per source for blocklist hits.
  uint32_t policy_events_per_source = 10;
  uint64_t policy_window_ns = 60'000'000'000ull;
  uint32_t rate_table = 8192;      // tracked (source, rule) pairs
  uint32_t blocked_flows = 65536;  // flows blocked at once (blocklist hits) per worker
  uint32_t event_ring = 4096;      // events per worker ring (power of two)
  // Event stream on the control thread (live dataplane; dataplane/export/event_hub.h).
  uint32_t subscriber_buffer = 4u << 20;  // bytes waiting per events.subscribe connection
  uint64_t backlog_bytes = 16u << 20;     // recent event lines kept for resume (0 = off)
  std::string eve_file;                   // eve.json path, empty = none
  uint64_t eve_max_bytes = 64u << 20;     // rotate eve.json beyond this size
  uint32_t eve_keep = 5;                  // rotated files kept
};

enum class Counter : uint8_t {
  kPortScans,
  kHostSweeps,
  kSynFloods,
  kUdpFloods,
  kBlocklistIpHits,
  kBlocklistDomainHits,
  kRiskEvents,
  kPolicyEvents,
  kPolicyEventsSuppressed,
  kBlocklistEventsSuppressed,  // blocklist hits of one source beyond the budget (still blocked)
  kBlockedPackets,
  kScanEvictions,  // a tracked pair was evicted to make room (oldest window in its set)
  kFloodEvictions,
  kRateEvictions,
  kBlockedTableFull,  // a blocklisted flow could not be remembered: only its first packet dropped
  kEventsEmitted,
  kEventsLost,  // the event ring was full
  kQuarantineEvents,            // quarantine drops reported (one per address within the budget)
  kQuarantineEventsSuppressed,  // quarantine drops beyond the per-address event budget
  kCount
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);
std::string_view counter_name(Counter c);

// Parses nDPI risk names (as ndpi_risk2str prints them) into a bitmap; unknown names are
// returned in `unknown`.
uint64_t risk_mask_of(const std::vector<std::string>& names, std::vector<std::string>* unknown);
// nDPI's severity of one risk (1 low .. 4 severe) and the api::Severity it maps to.
uint8_t ndpi_severity(int risk);
api::Severity severity_of_ndpi(uint8_t ndpi_sev);

// A set-associative table of fixed-size entries (4 ways): a key lives in one set; a miss takes
// an empty way, else one whose window is over, else evicts the way with the oldest window.
template <class Entry>
class WindowTable {
 public:
  static constexpr uint32_t kWays = 4;
  explicit WindowTable(uint32_t entries) {
    uint32_t sets = 1;
    while (sets * kWays < entries) sets <<= 1;
    mask_ = sets - 1;
    e_.assign(static_cast<size_t>(sets) * kWays, Entry{});
  }
  // Returns the entry for key (fresh when `*fresh`); `evicted` is set when a live one was evicted.
  template <class Key>
  Entry& find(const Key& k, uint64_t h, uint64_t now, uint64_t window, bool* fresh, bool* evicted) {
    Entry* set = &e_[(h & mask_) * kWays];
    *evicted = false;
    for (uint32_t w = 0; w < kWays; ++w) {
      Entry& e = set[w];
      if (e.used && e.key == k) {
        *fresh = expired(e.start, now, window);
        if (*fresh) e.reset(k, now);
        return e;
      }
    }
    Entry* victim = nullptr;
    for (uint32_t w = 0; w < kWays && !victim; ++w)
      if (!set[w].used) victim = &set[w];
    for (uint32_t w = 0; w < kWays && !victim; ++w)
      if (expired(set[w].start, now, window)) victim = &set[w];
    if (!victim) {
      victim = &set[0];
      for (uint32_t w = 1; w < kWays; ++w)
        if (set[w].start < victim->start) victim = &set[w];
      *evicted = true;
    }
    victim->reset(k, now);
    *fresh = true;
    return *victim;
  }
  size_t memory_bytes() const { return e_.size() * sizeof(Entry); }
  // Out-of-order timestamps (now < start) never expire a window.
  static bool expired(uint64_t start, uint64_t now, uint64_t window) {
    return now > start && now - start >= window;
  }

 private:
  std::vector<Entry> e_;
  uint64_t mask_ = 0;
};

struct PairKey {  // (source, host) or (source, port + proto)
  std::array<uint8_t, 16> src;
  std::array<uint8_t, 16> other;
  bool operator==(const PairKey& o) const { return src == o.src && other == o.other; }
};

// Distinct-value tracking: a 512-bit bitmap of hashed values (linear counting; exact below a
// few dozen values, which is where the thresholds sit).
struct DistinctEntry {
  PairKey key;
  uint64_t start = 0;
  uint64_t bits[8] = {};
  uint16_t distinct = 0;
  bool used = false;
  bool alerted = false;
  void reset(const PairKey& k, uint64_t now) {
    key = k;
    start = now;
    std::fill(std::begin(bits), std::end(bits), 0);
    distinct = 0;
    used = true;
    alerted = false;
  }
  // Returns the distinct count after adding `v`.
  uint32_t add(uint64_t v) {
    const uint32_t b = static_cast<uint32_t>(v & 511);
    if (!(bits[b >> 6] & (uint64_t{1} << (b & 63)))) {
      bits[b >> 6] |= uint64_t{1} << (b & 63);
      ++distinct;
    }
    return distinct;
  }
};

struct FloodEntry {
  std::array<uint8_t, 16> key;
  uint64_t start = 0;
  uint32_t syn = 0;
  uint32_t udp = 0;
  bool used = false;
  bool syn_alerted = false;
  bool udp_alerted = false;
  void reset(const std::array<uint8_t, 16>& k, uint64_t now) {
    key = k;
    start = now;
    syn = udp = 0;
    used = true;
    syn_alerted = udp_alerted = false;
  }
};

struct RateKey {
  std::array<uint8_t, 16> src;
  int32_t rule;
  bool operator==(const RateKey& o) const { return src == o.src && rule == o.rule; }
};
struct RateEntry {
  RateKey key;
  uint64_t start = 0;
  uint32_t emitted = 0;
  uint32_t suppressed = 0;  // in the current window
  uint32_t carry = 0;       // suppressed in earlier windows, not yet reported
  bool used = false;
  void reset(const RateKey& k, uint64_t now) {
    carry = used && key == k ? carry + suppressed : 0;
    key = k;
    start = now;
    emitted = suppressed = 0;
    used = true;
  }
};

class Detector {
 public:
  Detector(const DetectConfig& cfg, int worker);
  Detector(const Detector&) = delete;
  Detector& operator=(const Detector&) = delete;

  bool enabled() const { return cfg_.enabled; }
  // The worker index that event ids carry (set once at init).
  void set_worker(int w) { worker_ = w; }
  // Installs a frozen blocklist (at a burst boundary; null = none). Flows already blocked stay.
  void set_blocklist(std::shared_ptr<const Blocklist> list) { blocklist_ = std::move(list); }
  const Blocklist* blocklist() const { return blocklist_.get(); }

  // One packet of tracked flow `e` (after the flow table accounted it). `is_new`: the packet
  // created the flow. Returns false when the packet must be dropped (blocklisted flow).
  bool on_packet(const flow::FlowEntry& e, const packet::Parsed& p, bool is_new, uint8_t port,
                 uint64_t now_ns);
  // A packet of a flow still under inspection went through nDPI: with blocking on, the hostname
  // seen so far (DNS query, TLS SNI, HTTP Host) is checked against the domain blocklist, so the
  // query / ClientHello / request itself is dropped. Returns false when the flow is now blocked.
  bool on_inspected(const flow::FlowEntry& e, const classify::Classifier& c, uint64_t now_ns);
  // The flow's classification just completed (hostname, risks known). `c` is non-null.
  // Returns false when the flow is now blocked (domain blocklist).
  bool on_classified(const flow::FlowEntry& e, const classify::Classifier& c, uint64_t now_ns);
  // The policy stage judged a packet of the flow: `before` / `after` are the verdict slot around
  // the judgement. A new final decision that denies, or whose rule alerts or logs, raises a
  // policy event (rate-limited per source and rule; suppressed repeats are counted and carried
  // into the next event of that source and rule).
  void on_verdict(const flow::FlowEntry& e, const classify::Classifier* c,
                  const api::PolicyImage& im, const enforce::FlowVerdict& before,
                  const enforce::FlowVerdict& after, uint64_t now_ns);
  // The flow leaves the table.
  void on_flow_end(const flow::FlowEntry& e);
  // The pipeline dropped a packet from / to a quarantined address (`src_hit`: the source is the
  // quarantined one). Raises a `quarantine` event, rate-limited per quarantined address like
  // policy events (policy_events_per_source per policy_window_ns; repeats carried).
  void on_quarantine(const packet::Parsed& p, bool src_hit, uint8_t port, uint64_t now_ns);

  // Evidence pcaps (dataplane/export/evidence.h; null = off): the first packets of each flow
  // are kept; an event for a flow hands them to the control thread before the event.
  void set_evidence(exporter::EvidenceStore* s) { evidence_ = s; }
  void record(const flow::FlowEntry& e, const uint8_t* data, uint32_t len, uint32_t wire_len,
              uint64_t now_ns) {
    if (evidence_) evidence_->on_packet(e, data, len, wire_len, now_ns);
  }
  const exporter::EvidenceStore* evidence() const { return evidence_; }

  exporter::EventRing& events() { return ring_; }
  uint64_t counter(Counter c) const { return counters_[static_cast<size_t>(c)]; }
  const std::array<uint64_t, kCounterCount>& counters() const { return counters_; }
  size_t memory_bytes() const;

  // Stable id of a flow for events and IPFIX (53 bits, JSON-safe).
  static uint64_t flow_id(const flow::FlowEntry& e);

 private:
  void inc(Counter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }
  exporter::Event base(const flow::FlowEntry& e, exporter::EventKind kind, uint64_t now_ns) const;
  void emit(exporter::Event& ev);
  void fill_flow_names(exporter::Event& ev, const flow::FlowEntry& e,
                       const classify::Classifier* c) const;
  bool block(const flow::FlowEntry& e);
  // Per-(source, tag) event budget per window (tag: policy rule index, or kBlocklistTag). False
  // when the event is suppressed; else `carried` = repeats suppressed since the last one.
  bool allow_event(const std::array<uint8_t, 16>& src, int32_t tag, uint64_t now_ns,
                   uint32_t* carried);
  static constexpr int32_t kBlocklistTag = -100;
  static constexpr int32_t kQuarantineTag = -101;
  bool check_domain(const flow::FlowEntry& e, const classify::Classifier& c, const char* host,
                    uint64_t now_ns);
  bool is_blocked(const flow::FlowEntry& e) const;

  DetectConfig cfg_;
  int worker_;
  uint64_t seq_ = 0;
  uint64_t risk_events_mask_ = 0;
  std::shared_ptr<const Blocklist> blocklist_;
  WindowTable<DistinctEntry> scans_;   // (src, dst) -> distinct dst ports
  WindowTable<DistinctEntry> sweeps_;  // (src, proto+port) -> distinct dst hosts
  WindowTable<FloodEntry> floods_;     // dst -> SYN / UDP packets
  WindowTable<RateEntry> rates_;       // (src, rule) -> policy events
  // Blocked flows: open addressing on the entry address (linear probing, backward-shift delete).
  std::vector<const flow::FlowEntry*> blocked_;
  uint32_t blocked_count_ = 0;
  exporter::EventRing ring_;
  exporter::EvidenceStore* evidence_ = nullptr;
  std::array<uint64_t, kCounterCount> counters_{};
};

}  // namespace cg::detect

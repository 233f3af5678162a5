// The per-worker packet pipeline: parse → flow → (later: classify → enforce → qos) → verdict.
// It sees packets as (pointer, length, port) so the DPDK worker loop and the --replay reader run
// exactly the same code. One Pipeline per worker thread; no locks, no allocation per packet.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <memory>

#include "dataplane/classify/classifier.h"
#include "dataplane/detect/detector.h"
#include "dataplane/enforce/enforcer.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/packet/parser.h"
#include "dataplane/qos/shaper.h"

namespace cg::pipeline {

enum class FrameAction : uint8_t { kForward, kDrop };

struct PipelineConfig {
  flow::TableConfig table;
  FrameAction non_ip = FrameAction::kForward;    // ARP, LLDP, STP, ... (a bridge passes them)
  FrameAction malformed = FrameAction::kDrop;    // every malformed frame is counted by reason
  packet::LinkType link = packet::LinkType::kEthernet;
  bool classify = true;  // nDPI application identification
  classify::ClassifierConfig classifier;
  detect::DetectConfig detect;  // scans, floods, blocklists, risks, policy events
};

struct PacketRef {
  const uint8_t* data;
  uint32_t len;          // bytes present at data
  uint32_t wire_len;     // length on the wire (> len when a capture cut the frame)
  uint64_t ts_ns;        // arrival time (capture timestamp in replay, TSC time live)
  uint8_t port;          // arrival port (0 = inside, 1 = outside)
};

// kReset: drop, and send TCP resets to both ends (a `deny` rule with `reset: true`; the caller
// builds them with packet::build_tcp_reset from the packet).
enum class Verdict : uint8_t { kForward, kDrop, kReset };

// Pipeline-level counters; every drop has a named reason.
enum class Counter : uint8_t {
  kPackets,
  kBytes,
  kForwarded,
  kIpPackets,
  kNonIpPackets,
  kDropMalformed,
  kDropNonIp,
  kDropFlowTableFull,
  kFragmentsMatched,
  kFragmentsUnmatched,
  kDropPolicy,
  kDropBlocklist,  // a blocklisted flow (detect.blocklist_action: block)
  kDropQos,        // over a bandwidth cap / rate (reason: the qos::Shaper's qos_drop_* counters)
  kDropQuarantine,  // from / to a quarantined address (quarantine.set), before the flow table
  kCount
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);
std::string_view counter_name(Counter c);

// Remembers the ports of fragmented datagrams from their first fragment so later fragments
// (which carry no L4 header) are accounted to the same flow. Direct-mapped and bounded: a
// colliding datagram overwrites the slot; later fragments that find nothing use port 0.
class FragmentPorts {
 public:
  static constexpr uint32_t kSlots = 4096;
  static constexpr uint64_t kLifetimeNs = 30'000'000'000ull;
  void remember(const packet::Parsed& p, uint64_t now_ns);
  bool recall(packet::Parsed* p, uint64_t now_ns) const;

 private:
  struct Slot {
    std::array<uint8_t, 16> src;
    std::array<uint8_t, 16> dst;
    uint32_t id;
    uint8_t proto;
    uint16_t src_port;
    uint16_t dst_port;
    uint64_t seen_ns;
  };
  static uint32_t index(const packet::Parsed& p);
  std::array<Slot, kSlots> slots_{};
};

class Pipeline {
 public:
  static constexpr uint32_t kMaxBurst = 64;

  // Builds the classifier (when enabled) and the flow table; throws std::runtime_error when nDPI
  // cannot be initialised (bad data file): construction happens at init, never on a worker.
  explicit Pipeline(const PipelineConfig& cfg);

  // Called for every flow that leaves the table, after classification was finalised.
  void set_end_callback(flow::FlowTable::EndFn fn, void* ctx) {
    end_fn_ = fn;
    end_ctx_ = ctx;
  }
  const classify::Classifier* classifier() const { return classifier_.get(); }
  // Installs a policy image at a burst boundary (null = no policy: everything passes).
  void set_policy(std::shared_ptr<const api::PolicyImage> image) {
    shaper_.set_image(image);  // QoS stage (dataplane/qos): the image's `bandwidth` section
    enforcer_.set_image(std::move(image));
  }
  // QoS: live install of a plan prepared with qos::prepare() (caller frees the old one after
  // this worker's quiescent state), and the stage's state for stats and --replay.
  void install_qos(qos::Plan* plan) noexcept { shaper_.install(plan); }
  const qos::Shaper& shaper() const { return shaper_; }
  // Live swap (no allocation): installs a binding the control thread prepared; see
  // enforce::Enforcer::install for the lifetime rule.
  void install_policy(enforce::PolicyBinding* b) noexcept { enforcer_.install(b); }
  void set_policy_clock_offset_ns(int64_t off) noexcept {
    enforcer_.set_clock_offset_ns(off);
    shaper_.set_clock_offset_ns(off);
  }
  const enforce::Enforcer& enforcer() const { return enforcer_; }
  // Detection stage: events land in detector().events(), the worker's bounded ring.
  detect::Detector& detector() { return detect_; }
  const detect::Detector& detector() const { return detect_; }
  void set_blocklist(std::shared_ptr<const detect::Blocklist> b) { detect_.set_blocklist(b); }
  // Quarantine (dataplane/runtime/quarantine.h): a frozen address / prefix set installed at a
  // burst boundary (null = none); the caller keeps it alive until this worker's quiescent state.
  // Packets from or to a member are dropped in both directions before the flow table.
  void install_quarantine(const detect::Blocklist* q) noexcept { quarantine_ = q; }

  // Judges n <= kMaxBurst packets; verdicts[i] says whether packet i leaves by the other port.
  void process(const PacketRef* pkts, uint32_t n, Verdict* verdicts);
  // Housekeeping between bursts (flow expiry). Cheap when called often.
  void tick(uint64_t now_ns) { table_.expire(now_ns); }

  flow::FlowTable& table() { return table_; }
  const flow::FlowTable& table() const { return table_; }
  const packet::Counters& decode_counters() const { return decode_; }
  uint64_t counter(Counter c) const { return counters_[static_cast<size_t>(c)]; }
  const std::array<uint64_t, kCounterCount>& counters() const { return counters_; }

 private:
  void inc(Counter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }

  static void on_flow_end(void* ctx, flow::FlowEntry& e, flow::EndReason why);
  static std::unique_ptr<classify::Classifier> make_classifier(const PipelineConfig& cfg,
                                                              flow::ExtRegistry& ext);

  PipelineConfig cfg_;
  flow::ExtRegistry ext_;
  std::unique_ptr<classify::Classifier> classifier_;
  enforce::Enforcer enforcer_;
  bool enforcer_attached_;
  qos::Shaper shaper_;
  bool shaper_attached_;
  detect::Detector detect_;
  flow::FlowTable table_;
  flow::FlowTable::EndFn end_fn_ = nullptr;
  void* end_ctx_ = nullptr;
  FragmentPorts frags_;
  const detect::Blocklist* quarantine_ = nullptr;
  packet::Counters decode_;
  std::array<uint64_t, kCounterCount> counters_{};
};

}  // namespace cg::pipeline

// nDPI adapter: one detection module per worker, one slot per flow. A flow is fed to nDPI until
// its application is known (and nDPI wants no extra packets) or a packet budget is spent, then
// ndpi_detection_giveup() decides (as ndpiReader does); the nDPI state is freed and the flow
// keeps master/app protocol, category, risk flags and its hostname (SNI / Host / DNS query).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/flow/flow_table.h"

struct ndpi_detection_module_struct;
struct ndpi_flow_struct;

namespace cg::classify {

struct ClassifierConfig {
  uint32_t max_tcp_packets = 80;  // ndpiReader's defaults
  uint32_t max_udp_packets = 16;
  uint32_t max_inspecting = 65536;  // flows under inspection at once (nDPI states)
  uint32_t max_hostnames = 65536;   // flows holding a hostname at once
  // Optional nDPI data files (custom protocols, categories, risky domains, JA3 / SHA1 lists).
  std::string protocols_file, categories_file, risky_domains_file, ja3_file, sha1_file;
};

// The per-flow slot (registered in the flow table's extension area).
struct FlowClass {
  uint64_t risk;            // ndpi_risk bitmap
  uint32_t state;           // nDPI state pool index + 1 while inspecting; 0 = none
  uint16_t master;
  uint16_t app;
  uint16_t category;
  uint8_t packets;          // packets fed to nDPI
  uint8_t flags;
  uint32_t host;            // hostname pool index + 1; 0 = none

  static constexpr uint8_t kDone = 0x01;
  static constexpr uint8_t kGuessed = 0x02;
  static constexpr uint8_t kNoState = 0x04;  // could not be inspected: state pool exhausted
  static constexpr uint8_t kAttributed = 0x08;  // its packets so far are in the app totals
  bool done() const { return flags & kDone; }
};
static_assert(sizeof(FlowClass) == 24, "leaves room in the extension area for the verdict");

enum class Counter : uint8_t {
  kPacketsInspected,
  kFlowsDetected,
  kFlowsGivenUp,
  kFlowsUnknown,
  kNoState,
  kNoHostSlot,
  kCount
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);
std::string_view counter_name(Counter c);

// Traffic per application (index: nDPI protocol id of the flow's app, else of its master; 0 =
// Unknown). Every packet of a flow is counted once, under the flow's final application: the
// packets a flow had before it was classified are added when classification completes (or when
// the flow ends unclassified), later packets one by one. Written by the worker only; readers on
// other threads use relaxed atomic loads (a total may lag by a burst, never tears on x86-64).
struct AppTotals {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t flows = 0;
};

// The names of a classification, for reports and the control plane.
struct Names {
  std::string app;       // ndpiReader's master.app form: "TLS.YouTube", "DNS", "Unknown"
  std::string category;  // "Media", "Web", ...
  std::string hostname;  // empty when none
  std::vector<std::string> risks;
};

class Classifier {
 public:
  static std::unique_ptr<Classifier> create(const ClassifierConfig& cfg, std::string* error);
  ~Classifier();
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;

  // Registers the per-flow slot; call once before the flow table is built. False if no room.
  bool attach(flow::ExtRegistry& registry);
  FlowClass& slot(flow::FlowEntry& e) const { return *flow::ExtRegistry::get<FlowClass>(e, offset_); }
  const FlowClass& slot(const flow::FlowEntry& e) const {
    return *flow::ExtRegistry::get<FlowClass>(const_cast<flow::FlowEntry&>(e), offset_);
  }

  // One packet of a flow (l3 = IP header, l3_len = bytes from it to the end of the frame).
  void process(flow::FlowEntry& e, const uint8_t* l3, uint32_t l3_len, uint64_t ts_ns);
  // Flow ends before a verdict: give up (nDPI may still guess by port / IP).
  void finish(flow::FlowEntry& e);
  // Every packet of a tracked flow, after the flow table counted it and before process():
  // counts it under the flow's application once the flow's earlier packets are attributed.
  void account(flow::FlowEntry& e, uint32_t wire_len) {
    FlowClass& c = slot(e);
    if (!(c.flags & FlowClass::kAttributed)) return;
    AppTotals& t = apps_[app_index(c)];
    ++t.packets;
    t.bytes += wire_len;
  }
  const std::vector<AppTotals>& app_totals() const { return apps_; }
  // nDPI's name of an app_totals() index ("Unknown" for 0).
  std::string app_name(size_t index) const;

  Names names(const FlowClass& c) const;
  const char* hostname(const FlowClass& c) const;
  // The hostname (DNS query / SNI / Host) nDPI has seen so far for a flow still under
  // inspection, "" when none or not inspecting (detect checks blocklists before nDPI is done).
  const char* inspecting_hostname(const flow::FlowEntry& e) const;
  uint64_t counter(Counter c) const { return counters_[static_cast<size_t>(c)]; }
  const std::array<uint64_t, kCounterCount>& counters() const { return counters_; }
  ndpi_detection_module_struct* module() const { return ndpi_; }

 private:
  explicit Classifier(const ClassifierConfig& cfg) : cfg_(cfg) {}
  void complete(FlowClass& c, bool give_up);
  ndpi_flow_struct* state_of(const FlowClass& c) {
    return reinterpret_cast<ndpi_flow_struct*>(states_.data() + (c.state - 1) * state_size_);
  }
  static void release(void* slot, void* ctx);
  void inc(Counter c) { ++counters_[static_cast<size_t>(c)]; }
  size_t app_index(const FlowClass& c) const {
    const size_t id = c.app ? c.app : c.master;
    return id < apps_.size() ? id : 0;
  }
  void attribute(const flow::FlowEntry& e, FlowClass& c);

  ClassifierConfig cfg_;
  ndpi_detection_module_struct* ndpi_ = nullptr;
  int offset_ = -1;
  size_t state_size_ = 0;
  // Fixed pools allocated at init: nDPI flow states and 80-byte hostname buffers.
  std::vector<uint8_t> states_;
  std::vector<uint32_t> free_states_;
  std::vector<std::array<char, 80>> hosts_;
  std::vector<uint32_t> free_hosts_;
  std::array<uint64_t, kCounterCount> counters_{};
  std::vector<AppTotals> apps_;  // one per nDPI protocol id (incl. custom ones), sized at init
};

// Per-app totals summed over classifiers (one per worker; null entries skipped), apps with
// traffic only, most bytes first. Any thread: reads with relaxed atomic loads.
struct NamedAppTotals {
  std::string app;
  AppTotals totals;
};
std::vector<NamedAppTotals> sum_app_totals(const std::vector<const Classifier*>& classifiers);

}  // namespace cg::classify

// Live IPFIX flow audit export (上网日志). Worker side: `FlowAudit` turns flows that end (idle
// expiry, TCP close, eviction, tuple reuse, shutdown flush) and long flows that pass the active
// timeout into FlowRecords in the worker's own bounded ring — no I/O, no allocation, never
// blocks. Control side: `FlowAuditDrain` empties every worker's ring into an IpfixExporter.
//
// Long flows: every `active_timeout` a flow gets an interim record (IPFIX flowEndReason 2,
// active timeout) with the packets and bytes since its previous record; the final record
// carries the rest, so a flow's records always sum to its counters. What was already exported
// is remembered in a fixed open-addressing table (`active_flows` entries of 64 bytes); when it
// is full a long flow simply gets no interim record (counted) and its final record carries all.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/export/export_config.h"
#include "dataplane/export/flow_record.h"
#include "dataplane/export/ipfix.h"
#include "dataplane/export/spsc_ring.h"

namespace cg::exporter {

enum class FlowAuditCounter : uint8_t {
  kRecordsQueued,         // records pushed into the worker ring (final and interim)
  kActiveRecords,         // interim (active timeout) records among them
  kRecordsLostRingFull,   // final records lost: the ring was full
  kActiveDeferred,        // interim records not queued (ring full): their counts go later
  kActiveTableFull,       // interim records skipped: the long-flow table was full
  kCount
};
inline constexpr size_t kFlowAuditCounterCount = static_cast<size_t>(FlowAuditCounter::kCount);
const char* flow_audit_counter_name(FlowAuditCounter c);

class FlowAudit {
 public:
  // Entries of the table checked for the active timeout per tick, and the tick period: a table
  // with H entries in use is covered every H / kScanSlice ms.
  static constexpr uint32_t kScanSlice = 256;
  static constexpr uint64_t kScanPeriodNs = 1'000'000;

  explicit FlowAudit(const FlowExportConfig& cfg);
  FlowAudit(const FlowAudit&) = delete;
  FlowAudit& operator=(const FlowAudit&) = delete;

  // Worker: flow `e` leaves the table (classification finalised, verdict settled).
  void on_flow_end(const flow::FlowEntry& e, flow::EndReason why, const classify::Classifier* c,
                   const enforce::Enforcer* p);
  // Worker, between bursts: checks a slice of the table for flows due an interim record.
  void tick(const flow::FlowTable& t, uint64_t now_ns, const classify::Classifier* c,
            const enforce::Enforcer* p);

  SpscRing<FlowRecord>& ring() { return ring_; }
  const std::array<uint64_t, kFlowAuditCounterCount>& counters() const { return counters_; }
  uint64_t counter(FlowAuditCounter c) const { return counters_[static_cast<size_t>(c)]; }
  size_t memory_bytes() const;

 private:
  struct Active {  // a long flow that had interim records: what they carried
    const flow::FlowEntry* e = nullptr;
    uint64_t flow_id = 0;
    uint64_t since_ns = 0;  // end of the last interim record
    uint64_t packets[2] = {};
    uint64_t bytes[2] = {};
  };
  static_assert(sizeof(Active) == 56);
  Active* find(const flow::FlowEntry* e, uint64_t flow_id);
  Active* insert(const flow::FlowEntry* e, uint64_t flow_id);
  void erase(Active* a);
  uint32_t slot_of(const flow::FlowEntry* e) const;
  void check_active(const flow::FlowEntry& e, uint64_t now_ns, const classify::Classifier* c,
                    const enforce::Enforcer* p);
  void inc(FlowAuditCounter c) { ++counters_[static_cast<size_t>(c)]; }

  uint64_t active_timeout_ns_;
  SpscRing<FlowRecord> ring_;
  std::vector<Active> active_;
  uint32_t active_mask_ = 0;
  uint32_t active_count_ = 0;
  uint32_t active_max_ = 0;  // load limit: 3/4 of the slots
  uint32_t cursor_ = 1;
  uint64_t last_scan_ns_ = 0;
  std::array<uint64_t, kFlowAuditCounterCount> counters_{};
};

// Control thread: drains the workers' rings into the exporter. Names (nDPI app) come from one
// worker's classifier (the protocol tables are identical and read-only); verdict, rule and zone
// from the active policy image.
class FlowAuditDrain {
 public:
  explicit FlowAuditDrain(std::unique_ptr<IpfixExporter> exporter)
      : exporter_(std::move(exporter)) {}
  void add(FlowAudit* audit) { audits_.push_back(audit); }
  // Exports what the rings hold (at most `max` records); sends the pending message when the
  // rings are empty or it is older than a second. Returns the records drained.
  size_t poll(uint64_t now_ns, const classify::Classifier* names, const api::PolicyImage* image,
              size_t max = 65536);
  // Exports one record directly (shutdown flush, after the workers have stopped).
  void export_record(const FlowRecord& r, uint64_t now_ns, const classify::Classifier* names,
                     const api::PolicyImage* image);
  void flush(uint64_t now_ns);
  const IpfixExporter& exporter() const { return *exporter_; }

 private:
  std::unique_ptr<IpfixExporter> exporter_;
  std::vector<FlowAudit*> audits_;
  std::array<FlowRecord, 256> batch_{};
  bool pending_ = false;
  uint64_t last_flush_ns_ = 0;
};

}  // namespace cg::exporter

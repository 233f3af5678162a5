#include "dataplane/export/flow_export.h"

#include "dataplane/export/event_json.h"

namespace cg::exporter {
namespace {
constexpr const char* kNames[kFlowAuditCounterCount] = {
    "ipfix_records_queued",        "ipfix_active_timeout_records", "ipfix_records_lost_ring_full",
    "ipfix_active_deferred_ring_full", "ipfix_active_table_full",
};
}  // namespace

const char* flow_audit_counter_name(FlowAuditCounter c) {
  return kNames[static_cast<size_t>(c)];
}

FlowAudit::FlowAudit(const FlowExportConfig& cfg)
    : active_timeout_ns_(cfg.active_timeout_ns), ring_(cfg.ring) {
  uint32_t slots = 16;
  while (slots * 3 / 4 < cfg.active_flows) slots <<= 1;
  active_.assign(slots, Active{});
  active_mask_ = slots - 1;
  active_max_ = slots * 3 / 4;
}

size_t FlowAudit::memory_bytes() const {
  return active_.size() * sizeof(Active) + ring_.capacity() * sizeof(FlowRecord);
}

uint32_t FlowAudit::slot_of(const flow::FlowEntry* e) const {
  uint64_t x = reinterpret_cast<uintptr_t>(e) >> 7;  // entries are 128-byte aligned
  x *= 0x9e3779b97f4a7c15ull;
  return static_cast<uint32_t>(x >> 32) & active_mask_;
}

FlowAudit::Active* FlowAudit::find(const flow::FlowEntry* e, uint64_t flow_id) {
  if (active_count_ == 0) return nullptr;
  for (uint32_t i = slot_of(e);; i = (i + 1) & active_mask_) {
    Active& a = active_[i];
    if (!a.e) return nullptr;
    if (a.e == e) return a.flow_id == flow_id ? &a : nullptr;
  }
}

FlowAudit::Active* FlowAudit::insert(const flow::FlowEntry* e, uint64_t flow_id) {
  uint32_t i = slot_of(e);
  for (; active_[i].e; i = (i + 1) & active_mask_) {
    if (active_[i].e == e) {  // a stale entry of an earlier flow in the same table slot
      active_[i] = Active{e, flow_id};
      return &active_[i];
    }
  }
  if (active_count_ >= active_max_) return nullptr;
  ++active_count_;
  active_[i] = Active{e, flow_id};
  return &active_[i];
}

// Backward-shift deletion keeps every probe sequence unbroken without tombstones.
void FlowAudit::erase(Active* a) {
  uint32_t hole = static_cast<uint32_t>(a - active_.data());
  for (uint32_t j = (hole + 1) & active_mask_; active_[j].e; j = (j + 1) & active_mask_) {
    const uint32_t home = slot_of(active_[j].e);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!stays) {
      active_[hole] = active_[j];
      hole = j;
    }
  }
  active_[hole] = Active{};
  --active_count_;
}

void FlowAudit::on_flow_end(const flow::FlowEntry& e, flow::EndReason why,
                            const classify::Classifier* c, const enforce::Enforcer* p) {
  FlowRecord r = FlowRecord::from(e, c, p);
  r.end_reason = static_cast<int8_t>(why);
  if (Active* a = find(&e, r.flow_id)) {
    for (int d = 0; d < 2; ++d) {
      r.packets[d] -= a->packets[d];
      r.bytes[d] -= a->bytes[d];
    }
    r.first_seen_ns = a->since_ns;
    erase(a);
  }
  if (ring_.push(r)) {
    inc(FlowAuditCounter::kRecordsQueued);
  } else {
    inc(FlowAuditCounter::kRecordsLostRingFull);
  }
}

void FlowAudit::check_active(const flow::FlowEntry& e, uint64_t now_ns,
                             const classify::Classifier* c, const enforce::Enforcer* p) {
  if (now_ns < e.first_seen_ns || now_ns - e.first_seen_ns < active_timeout_ns_) return;
  const uint64_t id = flow_id_of(e);
  Active* a = find(&e, id);
  const uint64_t since = a ? a->since_ns : e.first_seen_ns;
  if (now_ns - since < active_timeout_ns_) return;
  uint64_t done_p[2] = {a ? a->packets[0] : 0, a ? a->packets[1] : 0};
  uint64_t done_b[2] = {a ? a->bytes[0] : 0, a ? a->bytes[1] : 0};
  if (a && e.packets[0] == done_p[0] && e.packets[1] == done_p[1]) {
    a->since_ns = now_ns;  // idle for a whole period: nothing to report
    return;
  }
  const bool fresh = !a;
  if (fresh && !(a = insert(&e, id))) {
    inc(FlowAuditCounter::kActiveTableFull);
    return;
  }
  FlowRecord r = FlowRecord::from(e, c, p);
  r.interim = true;
  r.first_seen_ns = since;
  for (int d = 0; d < 2; ++d) {
    r.packets[d] -= done_p[d];
    r.bytes[d] -= done_b[d];
  }
  if (!ring_.push(r)) {  // try again next period; the counts stay with the flow
    inc(FlowAuditCounter::kActiveDeferred);
    if (fresh) erase(a);
    return;
  }
  inc(FlowAuditCounter::kRecordsQueued);
  inc(FlowAuditCounter::kActiveRecords);
  a->since_ns = now_ns;
  for (int d = 0; d < 2; ++d) {
    a->packets[d] = e.packets[d];
    a->bytes[d] = e.bytes[d];
  }
}

void FlowAudit::tick(const flow::FlowTable& t, uint64_t now_ns, const classify::Classifier* c,
                     const enforce::Enforcer* p) {
  if (now_ns - last_scan_ns_ < kScanPeriodNs) return;
  last_scan_ns_ = now_ns;
  cursor_ = t.visit(cursor_, kScanSlice,
                    [&](const flow::FlowEntry& e) { check_active(e, now_ns, c, p); });
}

// ---- control thread ------------------------------------------------------------------------

void FlowAuditDrain::export_record(const FlowRecord& r, uint64_t now_ns,
                                   const classify::Classifier* names,
                                   const api::PolicyImage* image) {
  std::string zone;
  if (image) zone = zone_name(*image, r.src_outside ? r.dst_addr : r.src_addr, r.vlan_outer, true);
  exporter_->export_flow(ipfix_flow(r, names, image, zone), now_ns / 1'000'000'000);
  pending_ = true;
}

size_t FlowAuditDrain::poll(uint64_t now_ns, const classify::Classifier* names,
                            const api::PolicyImage* image, size_t max) {
  size_t total = 0;
  for (FlowAudit* a : audits_) {
    while (total < max) {
      const uint32_t n = a->ring().pop(batch_.data(), static_cast<uint32_t>(batch_.size()));
      for (uint32_t i = 0; i < n; ++i) export_record(batch_[i], now_ns, names, image);
      total += n;
      if (n < batch_.size()) break;
    }
  }
  if (pending_ && (total == 0 || now_ns - last_flush_ns_ >= 1'000'000'000ull)) flush(now_ns);
  return total;
}

void FlowAuditDrain::flush(uint64_t now_ns) {
  exporter_->flush(now_ns / 1'000'000'000);
  pending_ = false;
  last_flush_ns_ = now_ns;
}

}  // namespace cg::exporter

#include "snmp/agentx/mib_view.h"

#include <algorithm>

namespace cg::agentx {
namespace {

// cgObjects = campusguardMIB.1; groups below it (see CAMPUSGUARD-MIB.txt).
constexpr uint32_t kObjects = 1;
constexpr uint32_t kAgent = 1, kHealth = 2, kTraffic = 3, kDrops = 4, kZones = 5, kFlows = 6,
                   kEvents = 7, kPolicy = 8;

constexpr int32_t kTrue = 1, kFalse = 2;  // SNMPv2-TC TruthValue

class Builder {
 public:
  Builder(const Oid& root) : base_(root) { base_.push_back(kObjects); }

  void add(std::initializer_list<uint32_t> sub, Value v, const Oid& index = {0}) {
    Oid o = base_;
    o.insert(o.end(), sub.begin(), sub.end());
    o.insert(o.end(), index.begin(), index.end());
    rows_.emplace_back(std::move(o), std::move(v));
  }
  void integer(std::initializer_list<uint32_t> sub, int32_t n, const Oid& index = {0}) {
    add(sub, {Value::Type::kInteger, static_cast<uint64_t>(n), {}}, index);
  }
  void gauge(std::initializer_list<uint32_t> sub, uint64_t n, const Oid& index = {0}) {
    add(sub, {Value::Type::kGauge32, std::min<uint64_t>(n, UINT32_MAX), {}}, index);
  }
  void counter32(std::initializer_list<uint32_t> sub, uint64_t n, const Oid& index = {0}) {
    add(sub, {Value::Type::kCounter32, n & UINT32_MAX, {}}, index);  // Counter32 wraps
  }
  void counter64(std::initializer_list<uint32_t> sub, uint64_t n, const Oid& index = {0}) {
    add(sub, {Value::Type::kCounter64, n, {}}, index);
  }
  void octets(std::initializer_list<uint32_t> sub, std::string s, const Oid& index = {0}) {
    if (s.size() > 255) s.resize(255);
    add(sub, {Value::Type::kOctets, 0, std::move(s)}, index);
  }
  std::vector<MibView::Row> take() { return std::move(rows_); }

 private:
  Oid base_;
  std::vector<MibView::Row> rows_;
};

// IMPLIED OCTET STRING index: one sub-identifier per byte, no length prefix.
bool name_index(const std::string& name, Oid* index) {
  if (name.empty() || name.size() > kMaxIndexName) return false;
  index->assign(name.begin(), name.end());
  for (auto& b : *index) b &= 0xff;  // chars may be signed
  return true;
}

}  // namespace

Oid mib_root(uint32_t enterprise) {
  return {1, 3, 6, 1, 4, 1, enterprise};
}

MibView::MibView(std::vector<Row> rows) : rows_(std::move(rows)) {
  std::stable_sort(rows_.begin(), rows_.end(),
                   [](const Row& a, const Row& b) { return a.first < b.first; });
  rows_.erase(std::unique(rows_.begin(), rows_.end(),
                          [](const Row& a, const Row& b) { return a.first == b.first; }),
              rows_.end());
}

const Value* MibView::get(const Oid& oid) const {
  auto it = std::lower_bound(rows_.begin(), rows_.end(), oid,
                             [](const Row& r, const Oid& o) { return r.first < o; });
  return it != rows_.end() && it->first == oid ? &it->second : nullptr;
}

const MibView::Row* MibView::next(const Oid& oid) const {
  auto it = std::upper_bound(rows_.begin(), rows_.end(), oid,
                             [](const Oid& o, const Row& r) { return o < r.first; });
  return it != rows_.end() ? &*it : nullptr;
}

MibView build_view(const Oid& root, const Snapshot& s, ViewStats* stats) {
  Builder b(root);
  ViewStats local;
  // cgAgent: always there.
  b.integer({kAgent, 1}, static_cast<int32_t>(s.status));
  b.octets({kAgent, 2}, s.error);
  b.gauge({kAgent, 3}, s.last_success);
  b.counter32({kAgent, 4}, s.refreshes);
  b.counter32({kAgent, 5}, s.refresh_failures);
  b.gauge({kAgent, 6}, s.refresh_interval_s);
  b.integer({kAgent, 7}, s.events.connected ? 1 : 2);
  b.counter32({kAgent, 8}, s.events.connects);

  // cgEvents: the agent's own counts of the event stream.
  for (size_t sev = 1; sev <= kSeverities; ++sev)
    b.counter64({kEvents, 1, 1, 2}, s.events.by_severity[sev - 1], {static_cast<uint32_t>(sev)});
  b.counter64({kEvents, 2}, s.events.missed);
  b.counter64({kEvents, 3}, s.events.malformed);

  if (s.status == SourceStatus::kOk) {
    const DataplaneData& d = s.dp;
    b.integer({kHealth, 1}, d.running ? 1 : 2);
    b.integer({kHealth, 2}, d.links_up ? kTrue : kFalse);
    b.gauge({kHealth, 3}, d.workers);
    b.gauge({kHealth, 4}, d.uptime_s);

    b.counter64({kTraffic, 1}, d.packets);
    b.counter64({kTraffic, 2}, d.bytes);
    b.counter64({kTraffic, 3}, d.forwarded);
    for (uint32_t p = 0; p < 2; ++p) {
      const PortCounters& pc = d.ports[p];
      const Oid idx = {p + 1};
      b.octets({kTraffic, 4, 1, 2}, pc.device, idx);
      b.counter64({kTraffic, 4, 1, 3}, pc.rx_packets, idx);
      b.counter64({kTraffic, 4, 1, 4}, pc.rx_bytes, idx);
      b.counter64({kTraffic, 4, 1, 5}, pc.tx_packets, idx);
      b.counter64({kTraffic, 4, 1, 6}, pc.tx_bytes, idx);
      b.counter64({kTraffic, 4, 1, 7}, pc.drop_tx_full, idx);
      b.integer({kTraffic, 4, 1, 8}, !pc.has_link ? 3 : pc.link_up ? 1 : 2, idx);
      b.gauge({kTraffic, 4, 1, 9}, pc.speed_mbps, idx);
    }

    for (const auto& [name, n] : d.drops) {
      Oid idx;
      if (!name_index(name, &idx)) {
        ++local.rows_skipped;
        continue;
      }
      b.octets({kDrops, 1, 1, 2}, name, idx);
      b.counter64({kDrops, 1, 1, 3}, n, idx);
    }

    for (const auto& [name, z] : d.zones) {
      Oid idx;
      if (!name_index(name, &idx)) {
        ++local.rows_skipped;
        continue;
      }
      b.octets({kZones, 1, 1, 2}, name, idx);
      b.counter64({kZones, 1, 1, 3}, z.packets, idx);
      b.counter64({kZones, 1, 1, 4}, z.bytes_up, idx);
      b.counter64({kZones, 1, 1, 5}, z.bytes_down, idx);
      b.counter64({kZones, 1, 1, 6}, z.dropped_packets, idx);
      b.counter64({kZones, 1, 1, 7}, z.dropped_bytes, idx);
      b.gauge({kZones, 1, 1, 8}, z.rate_bps_up / 1000, idx);
      b.gauge({kZones, 1, 1, 9}, z.rate_bps_down / 1000, idx);
    }

    b.gauge({kFlows, 1}, d.flows_active);
    b.counter64({kFlows, 2}, d.flows_created);

    b.gauge({kPolicy, 1}, d.policy_generation);
    b.octets({kPolicy, 2}, d.policy_sha256);
    b.octets({kPolicy, 3}, d.policy_origin);
    b.octets({kPolicy, 4}, d.policy_loaded_at);
    b.gauge({kPolicy, 5}, d.policy_rules);
    b.octets({kPolicy, 6}, d.policy_school);
    b.counter32({kPolicy, 7}, d.policy_applies);
    b.gauge({kPolicy, 8}, d.policy_revision);
  }
  b.gauge({kAgent, 9}, local.rows_skipped);
  if (stats) *stats = local;
  return MibView(b.take());
}

std::string oid_to_string(const Oid& oid) {
  std::string s;
  for (uint32_t x : oid) s += "." + std::to_string(x);
  return s;
}

}  // namespace cg::agentx

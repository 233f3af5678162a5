#include "snmp/poller/poller.h"

#include "snmp/mibs/oids.h"
#include "snmp/mibs/rows.h"

namespace cg::snmp {
namespace {

using nlohmann::json;
namespace m = mibs;

const Oid kIfInOctets = m::column_oid(m::kIfEntry, 10);
const Oid kIfInErrors = m::column_oid(m::kIfEntry, 14);
const Oid kIfOutOctets = m::column_oid(m::kIfEntry, 16);
const Oid kIfOutErrors = m::column_oid(m::kIfEntry, 20);
const Oid kIfHcInOctets = m::column_oid(m::kIfXEntry, 6);
const Oid kIfHcOutOctets = m::column_oid(m::kIfXEntry, 10);

const char* kOperNames[] = {"up",      "down",       "testing",       "unknown",
                            "dormant", "notPresent", "lowerLayerDown"};

std::string oper_name(const std::optional<int64_t>& s) {
  if (!s || *s < 1 || *s > 7) return "unknown";
  return kOperNames[*s - 1];
}

// Delta of a counter; nullopt when it went backwards (agent restart, 32-bit wrap is treated the
// same: one interval without a rate is better than a wrong one).
std::optional<uint64_t> delta(const std::optional<uint64_t>& before,
                              const std::optional<uint64_t>& after) {
  if (!before || !after || *after < *before) return std::nullopt;
  return *after - *before;
}

}  // namespace

Result<std::map<uint32_t, PortSample>> poll_interfaces(SnmpSession& session) {
  std::map<uint32_t, PortSample> out;
  struct Col {
    const Oid* oid;
    int field;
  };
  const Oid oper = m::column_oid(m::kIfEntry, m::kIfOperStatus);
  const Oid speed = m::column_oid(m::kIfEntry, m::kIfSpeed);
  const Oid high = m::column_oid(m::kIfXEntry, m::kIfHighSpeed);
  const Col cols[] = {{&oper, 0},           {&speed, 1},        {&high, 2},
                      {&kIfInOctets, 3},    {&kIfOutOctets, 4}, {&kIfHcInOctets, 5},
                      {&kIfHcOutOctets, 6}, {&kIfInErrors, 7},  {&kIfOutErrors, 8}};
  std::map<uint32_t, std::optional<uint64_t>> speed_bps, high_mbps;
  std::vector<Oid> roots;
  for (const Col& c : cols) roots.push_back(*c.oid);
  auto r = session.walk_columns(roots);  // one GETBULK stream for all nine columns
  if (!r.ok()) return r.status();
  for (const Col& c : cols) {
    for (const auto& [idx, v] : m::to_column(*r, *c.oid)) {
      if (idx.size() != 1 || idx[0] == 0 || idx[0] > 2147483647u) continue;
      PortSample& s = out[idx[0]];
      auto u = m::as_unsigned(v);
      switch (c.field) {
        case 0:
          s.oper_status = m::as_integer(v);
          break;
        case 1:
          speed_bps[idx[0]] = u;
          break;
        case 2:
          high_mbps[idx[0]] = u;
          break;
        case 3:
          if (!s.hc) s.in_octets = u;
          break;
        case 4:
          if (!s.hc) s.out_octets = u;
          break;
        case 5:
          if (u) s.in_octets = u, s.hc = true;
          break;
        case 6:
          if (u && s.hc) s.out_octets = u;
          break;
        case 7:
          s.in_errors = u;
          break;
        case 8:
          s.out_errors = u;
          break;
      }
    }
  }
  for (auto& [idx, s] : out) {
    auto h = high_mbps.find(idx);
    auto b = speed_bps.find(idx);
    if (h != high_mbps.end() && h->second && *h->second > 0)
      s.speed_mbps = h->second;
    else if (b != speed_bps.end() && b->second)
      s.speed_mbps = (*b->second + 500000) / 1000000;
  }
  return out;
}

Poller::Poller(const Topology& topology, PollerOptions options)
    : topology_(topology), options_(options) {}

std::vector<TopologyEvent> Poller::failed(const std::string& device_id, const Status& status,
                                          int64_t wall_time) {
  ++counters_.device_polls;
  ++counters_.device_failures;
  std::vector<TopologyEvent> out;
  if (!device_down_[device_id]) {
    device_down_[device_id] = true;
    out.push_back({wall_time,
                   "poll_failed",
                   {{"device", device_id}, {"error", error_code_name(status.code())}}});
  }
  counters_.events += out.size();
  return out;
}

std::vector<TopologyEvent> Poller::update(const std::string& device_id,
                                          const std::map<uint32_t, PortSample>& sample,
                                          int64_t now_ms, int64_t wall_time) {
  ++counters_.device_polls;
  std::vector<TopologyEvent> out;
  if (device_down_[device_id]) {
    device_down_[device_id] = false;
    out.push_back({wall_time, "poll_recovered", {{"device", device_id}}});
  }
  const Device* dev = topology_.device(device_id);
  auto port_name = [&](uint32_t idx) -> std::string {
    if (dev)
      for (const Port& p : dev->ports)
        if (p.if_index == idx) return p.name;
    return std::to_string(idx);
  };
  for (const auto& [idx, s] : sample) {
    auto key = std::make_pair(device_id, idx);
    auto prev_it = previous_.find(key);
    // First sample: compare with what discovery saw, so a change between discovery and the first
    // poll is not lost.
    std::optional<int64_t> before_oper;
    std::optional<uint64_t> before_speed;
    if (prev_it != previous_.end()) {
      before_oper = prev_it->second.sample.oper_status;
      before_speed = prev_it->second.sample.speed_mbps;
    } else if (dev) {
      for (const Port& p : dev->ports) {
        if (p.if_index != idx) continue;
        for (int k = 0; k < 7; ++k)
          if (p.oper_status == kOperNames[k]) before_oper = k + 1;
        before_speed = p.speed_mbps;
      }
    }
    std::string name = port_name(idx);
    json where = {{"device", device_id}, {"port", name}, {"if_index", idx}};
    if (before_oper && s.oper_status && *before_oper != *s.oper_status) {
      bool now_up = *s.oper_status == 1, was_up = *before_oper == 1;
      if (was_up != now_up) {
        json d = where;
        d["from"] = oper_name(before_oper);
        d["to"] = oper_name(s.oper_status);
        out.push_back({wall_time, now_up ? "link_up" : "link_down", d});
        // The port carries a link of the topology: say which one was lost / restored.
        for (const Link& l : topology_.links) {
          for (const auto& [mine, other] : {std::pair{&l.a, &l.b}, std::pair{&l.b, &l.a}}) {
            if (mine->device != device_id || mine->port != name) continue;
            out.push_back({wall_time,
                           now_up ? "link_restored" : "link_lost",
                           {{"a", {{"device", mine->device}, {"port", *mine->port}}},
                            {"b",
                             {{"device", other->device},
                              {"port", other->port ? json(*other->port) : json(nullptr)}}},
                            {"detected_by", "poll"}}});
          }
        }
      }
    }
    if (before_speed && s.speed_mbps && *before_speed != *s.speed_mbps && *before_speed > 0 &&
        *s.speed_mbps > 0) {
      json d = where;
      d["from_mbps"] = *before_speed;
      d["to_mbps"] = *s.speed_mbps;
      out.push_back({wall_time, "speed_changed", d});
    }
    if (prev_it != previous_.end()) {
      const PortSample& p = prev_it->second.sample;
      double dt = static_cast<double>(now_ms - prev_it->second.at_ms) / 1000.0;
      auto din = delta(p.in_octets, s.in_octets), dout = delta(p.out_octets, s.out_octets);
      auto dei = delta(p.in_errors, s.in_errors), deo = delta(p.out_errors, s.out_errors);
      if ((p.in_octets && s.in_octets && !din) || (p.out_octets && s.out_octets && !dout) ||
          (p.in_errors && s.in_errors && !dei) || (p.out_errors && s.out_errors && !deo))
        ++counters_.counter_discontinuities;
      if (dt > 0) {
        PortRates& r = rates_[key];
        r.in_bps = din ? static_cast<double>(*din) * 8 / dt : 0;
        r.out_bps = dout ? static_cast<double>(*dout) * 8 / dt : 0;
        r.errors_per_s = static_cast<double>(dei.value_or(0) + deo.value_or(0)) / dt;
        if (s.speed_mbps && *s.speed_mbps > 0)
          r.utilisation =
              std::max(r.in_bps, r.out_bps) / (static_cast<double>(*s.speed_mbps) * 1e6);
      }
      uint64_t errors = dei.value_or(0) + deo.value_or(0);
      if (errors >= options_.error_burst) {
        json d = where;
        d["errors"] = errors;
        d["in_errors"] = dei.value_or(0);
        d["out_errors"] = deo.value_or(0);
        d["seconds"] = dt;
        out.push_back({wall_time, "error_burst", d});
      }
    }
    previous_[key] = {s, now_ms};
  }
  counters_.events += out.size();
  return out;
}

}  // namespace cg::snmp

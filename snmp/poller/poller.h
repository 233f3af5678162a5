// Interface polling: status, speed and HC counters of every managed device at an interval;
// utilisation and error rates per port; link down / up, speed changes, error bursts and (for
// ports that carry a topology link) link-lost events.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "snmp/session/session.h"
#include "snmp/topology/model.h"

namespace cg::snmp {

struct PortSample {
  std::optional<int64_t> oper_status;             // 1 up, 2 down, ...
  std::optional<uint64_t> speed_mbps;             // ifHighSpeed, else ifSpeed / 10^6
  std::optional<uint64_t> in_octets, out_octets;  // ifHCIn/OutOctets, else ifIn/OutOctets
  bool hc = false;                                // the octets are 64-bit counters
  std::optional<uint64_t> in_errors, out_errors;
};

// One poll of one device: ifOperStatus, ifSpeed, ifInErrors, ifOutErrors, ifHighSpeed,
// ifHCInOctets, ifHCOutOctets (falling back to ifIn/OutOctets where HC is absent), as column
// walks. Fails only when the device does not answer at all.
Result<std::map<uint32_t, PortSample>> poll_interfaces(SnmpSession& session);

struct PortRates {
  double in_bps = 0, out_bps = 0;
  std::optional<double> utilisation;  // max(in, out) / speed, 0..1 (speed known)
  double errors_per_s = 0;
};

struct PollerOptions {
  uint64_t error_burst = 10;  // in + out errors between two polls that make an error_burst event
};

struct PollerCounters {
  uint64_t cycles = 0;
  uint64_t device_polls = 0;
  uint64_t device_failures = 0;          // device did not answer (a poll_failed event)
  uint64_t counter_discontinuities = 0;  // a counter went backwards (reset / wrap of 32-bit)
  uint64_t events = 0;
};

// Keeps the previous sample per (device, ifIndex) and turns new samples into events. Not
// thread-safe: one Poller per polling thread; the SNMP requests themselves may run
// concurrently (poll_interfaces on run_concurrently workers), results fed in afterwards.
class Poller {
 public:
  Poller(const Topology& topology, PollerOptions options);

  // A device's sample at `now_ms` (steady or wall milliseconds, only differences matter);
  // `wall_time` stamps the events (unix seconds).
  std::vector<TopologyEvent> update(const std::string& device_id,
                                    const std::map<uint32_t, PortSample>& sample, int64_t now_ms,
                                    int64_t wall_time);
  // The device did not answer this cycle.
  std::vector<TopologyEvent> failed(const std::string& device_id, const Status& status,
                                    int64_t wall_time);
  void end_cycle() { ++counters_.cycles; }

  const std::map<std::pair<std::string, uint32_t>, PortRates>& rates() const { return rates_; }
  const PollerCounters& counters() const { return counters_; }

 private:
  struct Previous {
    PortSample sample;
    int64_t at_ms = 0;
  };
  const Topology& topology_;
  PollerOptions options_;
  std::map<std::pair<std::string, uint32_t>, Previous> previous_;
  std::map<std::pair<std::string, uint32_t>, PortRates> rates_;
  std::map<std::string, bool> device_down_;
  PollerCounters counters_;
};

}  // namespace cg::snmp

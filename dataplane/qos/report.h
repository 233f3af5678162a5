// JSON view of a worker's QoS state, for the --replay report and the dataplane socket (control
// thread). Per class (summed over classrooms), per classroom that saw traffic, the uplink, and
// the counters; `up` = from the school's inside endpoint. Reads plain counters the worker
// writes: exact after the worker stopped (replay), a relaxed snapshot live.
#pragma once

#include <nlohmann/json.hpp>

#include "dataplane/qos/shaper.h"

namespace cg::qos {

// {"classes": [{name, bytes_up, bytes_down, packets, dropped_packets, dropped_bytes,
//   rate_bps_up, rate_bps_down}], "classrooms": [...same, only with traffic], "uplink": {...},
//   "counters": {qos_*}, and with a per-host zone "hosts": {slots, active, classrooms:
//   [{name, active_hosts, fair, cap_bps}], list: the 64 busiest active hosts [{address, slot,
//   classroom, offered_bytes_up/down, dropped_packets_up/down, share_bps_up/down (this
//   worker's fair share, 0 = none), cap_bps_up/down}]}}
//   — null when the shaper has no bandwidth plan. Active = a packet in the last second.
nlohmann::json report_json(const Shaper& shaper, uint64_t now_ns);

}  // namespace cg::qos

// Configuration of what the live dataplane exports besides events: the IPFIX flow audit log
// (`export.ipfix.*` keys, declared in dataplane/runtime/config.cc). Plain data, no dependencies.
#pragma once

#include <cstdint>
#include <string>

namespace cg::exporter {

struct FlowExportConfig {
  std::string collector;  // "HOST:PORT"; empty = no flow export
  bool tcp = false;       // transport: UDP (default) or TCP
  uint32_t enterprise = 32473;
  uint32_t observation_domain = 1;
  uint64_t active_timeout_ns = 300'000'000'000ull;  // long flows: one record per period
  uint32_t ring = 8192;           // flow records buffered per worker for the control thread
  uint32_t active_flows = 16384;  // long flows per worker tracked for active-timeout deltas
};

}  // namespace cg::exporter

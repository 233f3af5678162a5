// Configuration of what the live dataplane exports besides events: the IPFIX flow audit log
// (`export.ipfix.*` keys) and evidence pcaps (`export.evidence.*`), declared in
// dataplane/runtime/config.cc. Plain data, no dependencies.
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

// Evidence pcaps of alert events (`export.evidence.*`; dataplane/export/evidence.h).
struct EvidenceConfig {
  std::string dir;            // empty = no evidence
  uint32_t max_packets = 8;   // first packets kept per flow
  uint32_t snaplen = 256;     // bytes kept per packet
  uint32_t flows = 1024;      // flows in their first packets tracked per worker (power of two)
  uint32_t ring = 64;         // snapshots waiting for the control thread per worker
  uint32_t max_files = 1000;  // evidence files kept in dir
  uint64_t max_bytes = 100ull << 20;  // disk budget of dir
};

}  // namespace cg::exporter

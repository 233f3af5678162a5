// cg-dataplane's configuration: every key is declared once (type, range, default, help) in
// config.cc; that table drives YAML parsing, defaults, validation and `--help-config`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/export/export_config.h"
#include "dataplane/pipeline/pipeline.h"

namespace cg::runtime {

struct DataplaneConfig {
  std::string inside;   // DPDK device: PCI address or vdev string
  std::string outside;
  uint32_t workers = 1;
  uint32_t burst = 32;
  uint32_t rx_ring = 1024;
  uint32_t tx_ring = 1024;
  uint32_t mbufs = 16383;
  uint32_t mbuf_cache = 256;
  uint32_t memory_mb = 1024;
  bool hugepages = false;
  std::string file_prefix = "cg-dataplane";
  std::vector<std::string> lcores;  // optional explicit cores; default: 0..workers
  std::vector<std::string> eal_extra;
  std::string socket = "/run/campusguard/dataplane.sock";
  bool allow_clock_offset = false;  // control.allow_clock_offset (tests of timetables)
  pipeline::PipelineConfig pipeline;
  exporter::FlowExportConfig flow_export;  // export.ipfix.* (dataplane/export/flow_export.h)
  exporter::EvidenceConfig evidence;       // export.evidence.* (dataplane/export/evidence.h)

  // EAL argv derived from this config (argv[0] first).
  std::vector<std::string> eal_args(const std::string& prog) const;
};

struct ConfigError {
  std::string message;  // "FILE:LINE:COL: key.path: what is wrong"
};

// Loads and validates a YAML file; errors list every problem found (empty on success).
DataplaneConfig load_config(const std::string& path, std::vector<ConfigError>* errors);
// Same from YAML text (tests); `name` is used in messages.
DataplaneConfig parse_config(const std::string& yaml, const std::string& name,
                             std::vector<ConfigError>* errors);
// Defaults only (replay without a config file).
DataplaneConfig default_config();
// The key table as text: one line per key with type, range, default and help.
std::string config_help();

}  // namespace cg::runtime

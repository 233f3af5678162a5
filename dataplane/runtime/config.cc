#include "dataplane/runtime/config.h"

#include <fstream>
#include <sstream>

#include "dataplane/runtime/config_keys.h"

namespace cg::runtime {
namespace {

using config::Kind;
using KeyDecl = config::KeyDecl<DataplaneConfig>;
using Loader = config::KeyLoader<DataplaneConfig>;

uint64_t to_ns(double s) { return static_cast<uint64_t>(s * 1e9); }
pipeline::FrameAction action(const std::string& s) {
  return s == "drop" ? pipeline::FrameAction::kDrop : pipeline::FrameAction::kForward;
}

const std::vector<KeyDecl>& keys() {
  using C = DataplaneConfig;
  using N = YAML::Node;
  static const std::vector<KeyDecl> k = {
      {"ports.inside", Kind::kString, 0, 0, "", {},
       "school LAN side: PCI address (0000:03:00.0) or vdev (net_af_packet0,iface=eth1)",
       [](C& c, const N& n) { c.inside = n.as<std::string>(); }, true},
      {"ports.outside", Kind::kString, 0, 0, "", {},
       "city uplink side: PCI address or vdev string",
       [](C& c, const N& n) { c.outside = n.as<std::string>(); }, true},
      {"workers", Kind::kUint, 1, 64, "1", {},
       "worker lcores; each polls one RX/TX queue pair on both ports",
       [](C& c, const N& n) { c.workers = n.as<uint32_t>(); }},
      {"burst", Kind::kUint, 1, 64, "32", {}, "packets per RX burst",
       [](C& c, const N& n) { c.burst = n.as<uint32_t>(); }},
      {"rx_ring", Kind::kUint, 64, 16384, "1024", {}, "RX descriptors per queue",
       [](C& c, const N& n) { c.rx_ring = n.as<uint32_t>(); }},
      {"tx_ring", Kind::kUint, 64, 16384, "1024", {}, "TX descriptors per queue",
       [](C& c, const N& n) { c.tx_ring = n.as<uint32_t>(); }},
      {"mempool.mbufs", Kind::kUint, 1023, 16777215, "16383", {},
       "packet buffers in the pool (2^n-1 is the efficient size)",
       [](C& c, const N& n) { c.mbufs = n.as<uint32_t>(); }},
      {"mempool.cache", Kind::kUint, 0, 512, "256", {}, "per-lcore mempool cache",
       [](C& c, const N& n) { c.mbuf_cache = n.as<uint32_t>(); }},
      {"eal.memory_mb", Kind::kUint, 64, 1048576, "1024", {}, "DPDK memory (-m)",
       [](C& c, const N& n) { c.memory_mb = n.as<uint32_t>(); }},
      {"eal.hugepages", Kind::kBool, 0, 0, "false", {},
       "use hugepages (false adds --no-huge, for labs and CI)",
       [](C& c, const N& n) { c.hugepages = n.as<bool>(); }},
      {"eal.file_prefix", Kind::kString, 0, 0, "cg-dataplane", {},
       "DPDK runtime file prefix (one per running instance)",
       [](C& c, const N& n) { c.file_prefix = n.as<std::string>(); }},
      {"eal.lcores", Kind::kStringList, 0, 0, "", {},
       "lcores, main first (default 0..workers); 'LCORE@CPU' entries map lcores onto CPUs",
       [](C& c, const N& n) { c.lcores = n.as<std::vector<std::string>>(); }},
      {"eal.extra_args", Kind::kStringList, 0, 0, "", {}, "extra EAL arguments, verbatim",
       [](C& c, const N& n) { c.eal_extra = n.as<std::vector<std::string>>(); }},
      {"flow_table.capacity", Kind::kUint, 16, 67108864, "1048576", {},
       "flows per worker (128 bytes each plus 16 bytes of index)",
       [](C& c, const N& n) { c.pipeline.table.capacity = n.as<uint32_t>(); }},
      {"flow_table.on_full", Kind::kEnum, 0, 0, "evict", {"evict", "forward", "drop"},
       "when full: evict an embryonic/oldest idle flow, or forward / drop untracked",
       [](C& c, const N& n) {
         auto s = n.as<std::string>();
         c.pipeline.table.on_full = s == "drop"      ? flow::OnFull::kDrop
                                    : s == "forward" ? flow::OnFull::kForward
                                                     : flow::OnFull::kEvict;
       }},
      {"timeouts.tcp_embryonic", Kind::kSeconds, 1, 86400, "30", {},
       "seconds: TCP handshake not completed",
       [](C& c, const N& n) { c.pipeline.table.timeouts.tcp_embryonic = to_ns(n.as<double>()); }},
      {"timeouts.tcp_established", Kind::kSeconds, 1, 864000, "3600", {},
       "seconds: idle established TCP",
       [](C& c, const N& n) {
         c.pipeline.table.timeouts.tcp_established = to_ns(n.as<double>());
       }},
      {"timeouts.tcp_closing", Kind::kSeconds, 1, 86400, "120", {},
       "seconds: TCP after one FIN",
       [](C& c, const N& n) { c.pipeline.table.timeouts.tcp_closing = to_ns(n.as<double>()); }},
      {"timeouts.tcp_closed", Kind::kSeconds, 0.001, 86400, "10", {},
       "seconds: TCP after both FINs or an RST",
       [](C& c, const N& n) { c.pipeline.table.timeouts.tcp_closed = to_ns(n.as<double>()); }},
      {"timeouts.udp", Kind::kSeconds, 1, 86400, "120", {}, "seconds: idle UDP",
       [](C& c, const N& n) { c.pipeline.table.timeouts.udp = to_ns(n.as<double>()); }},
      {"timeouts.icmp", Kind::kSeconds, 1, 86400, "30", {}, "seconds: idle ICMP / ICMPv6",
       [](C& c, const N& n) { c.pipeline.table.timeouts.icmp = to_ns(n.as<double>()); }},
      {"timeouts.other", Kind::kSeconds, 1, 86400, "120", {}, "seconds: other IP protocols",
       [](C& c, const N& n) { c.pipeline.table.timeouts.other = to_ns(n.as<double>()); }},
      {"frames.non_ip", Kind::kEnum, 0, 0, "forward", {"forward", "drop"},
       "ARP, LLDP, STP and other non-IP frames",
       [](C& c, const N& n) { c.pipeline.non_ip = action(n.as<std::string>()); }},
      {"frames.malformed", Kind::kEnum, 0, 0, "drop", {"forward", "drop"},
       "frames the parser rejects (each counted by reason)",
       [](C& c, const N& n) { c.pipeline.malformed = action(n.as<std::string>()); }},
      {"classify.enabled", Kind::kBool, 0, 0, "true", {},
       "identify applications with nDPI",
       [](C& c, const N& n) { c.pipeline.classify = n.as<bool>(); }},
      {"classify.max_tcp_packets", Kind::kUint, 1, 255, "80", {},
       "TCP packets fed to nDPI before it gives up (ndpiReader: 80)",
       [](C& c, const N& n) { c.pipeline.classifier.max_tcp_packets = n.as<uint32_t>(); }},
      {"classify.max_udp_packets", Kind::kUint, 1, 255, "16", {},
       "UDP packets fed to nDPI before it gives up (ndpiReader: 16)",
       [](C& c, const N& n) { c.pipeline.classifier.max_udp_packets = n.as<uint32_t>(); }},
      {"classify.max_inspecting", Kind::kUint, 16, 16777216, "65536", {},
       "flows under inspection at once per worker (688 bytes of nDPI state each)",
       [](C& c, const N& n) { c.pipeline.classifier.max_inspecting = n.as<uint32_t>(); }},
      {"classify.max_hostnames", Kind::kUint, 16, 16777216, "65536", {},
       "flows holding a hostname / SNI at once per worker (80 bytes each)",
       [](C& c, const N& n) { c.pipeline.classifier.max_hostnames = n.as<uint32_t>(); }},
      {"classify.protocols_file", Kind::kString, 0, 0, "", {},
       "nDPI custom protocols file (host / IP / port rules)",
       [](C& c, const N& n) { c.pipeline.classifier.protocols_file = n.as<std::string>(); }},
      {"classify.categories_file", Kind::kString, 0, 0, "", {}, "nDPI custom categories file",
       [](C& c, const N& n) { c.pipeline.classifier.categories_file = n.as<std::string>(); }},
      {"classify.risky_domains_file", Kind::kString, 0, 0, "", {}, "nDPI risky domains file",
       [](C& c, const N& n) { c.pipeline.classifier.risky_domains_file = n.as<std::string>(); }},
      {"classify.ja3_file", Kind::kString, 0, 0, "", {}, "malicious JA3 fingerprints (CSV)",
       [](C& c, const N& n) { c.pipeline.classifier.ja3_file = n.as<std::string>(); }},
      {"classify.sha1_file", Kind::kString, 0, 0, "", {},
       "malicious certificate SHA1 fingerprints (CSV)",
       [](C& c, const N& n) { c.pipeline.classifier.sha1_file = n.as<std::string>(); }},
      // detection (dataplane/detect): thresholds, tables, blocklists, risks, policy events
      {"detect.enabled", Kind::kBool, 0, 0, "true", {},
       "scan / flood / blocklist / risk detection and policy events",
       [](C& c, const N& n) { c.pipeline.detect.enabled = n.as<bool>(); }},
      {"detect.scan.ports", Kind::kUint, 2, 512, "20", {},
       "port scan: distinct ports of one host from one source within detect.scan.window",
       [](C& c, const N& n) { c.pipeline.detect.scan_ports = n.as<uint32_t>(); }},
      {"detect.scan.hosts", Kind::kUint, 2, 512, "20", {},
       "host sweep: distinct hosts on one port from one source within detect.scan.window",
       [](C& c, const N& n) { c.pipeline.detect.sweep_hosts = n.as<uint32_t>(); }},
      {"detect.scan.window", Kind::kSeconds, 1, 3600, "10", {}, "seconds: scan window",
       [](C& c, const N& n) { c.pipeline.detect.scan_window_ns = to_ns(n.as<double>()); }},
      {"detect.scan.table", Kind::kUint, 64, 16777216, "8192", {},
       "tracked (source, host) and (source, port) pairs per worker, each (~110 bytes)",
       [](C& c, const N& n) { c.pipeline.detect.scan_table = n.as<uint32_t>(); }},
      {"detect.flood.syn_packets", Kind::kUint, 10, 1000000000, "2000", {},
       "SYN flood: TCP SYNs toward one host within detect.flood.window",
       [](C& c, const N& n) { c.pipeline.detect.syn_flood_packets = n.as<uint32_t>(); }},
      {"detect.flood.udp_packets", Kind::kUint, 10, 1000000000, "50000", {},
       "UDP flood: UDP packets toward one host within detect.flood.window",
       [](C& c, const N& n) { c.pipeline.detect.udp_flood_packets = n.as<uint32_t>(); }},
      {"detect.flood.window", Kind::kSeconds, 0.01, 60, "1", {}, "seconds: flood window",
       [](C& c, const N& n) { c.pipeline.detect.flood_window_ns = to_ns(n.as<double>()); }},
      {"detect.flood.table", Kind::kUint, 64, 16777216, "4096", {},
       "tracked destination hosts per worker",
       [](C& c, const N& n) { c.pipeline.detect.flood_table = n.as<uint32_t>(); }},
      {"detect.blocklist.files", Kind::kStringList, 0, 0, "", {},
       "feed files: addresses, CIDR prefixes, domains, hosts-file lines ('#'/';' comments)",
       [](C& c, const N& n) {
         c.pipeline.detect.blocklist_files = n.as<std::vector<std::string>>();
       }},
      {"detect.blocklist.action", Kind::kEnum, 0, 0, "block", {"block", "alert"},
       "a blocklist hit drops the flow and alerts, or only alerts",
       [](C& c, const N& n) {
         c.pipeline.detect.blocklist_block = n.as<std::string>() == "block";
       }},
      {"detect.risk.min_severity", Kind::kEnum, 0, 0, "medium",
       {"low", "medium", "high", "severe"},
       "nDPI flow risks of this nDPI severity or more raise events",
       [](C& c, const N& n) {
         auto s = n.as<std::string>();
         c.pipeline.detect.risk_min_severity = s == "low"      ? 1
                                               : s == "medium" ? 2
                                               : s == "high"   ? 3
                                                               : 4;
       }},
      {"detect.risk.ignore", Kind::kStringList, 0, 0, "", {},
       "nDPI risk names (as ndpiReader prints them) that never raise events",
       [](C& c, const N& n) {
         c.pipeline.detect.risk_ignore = n.as<std::vector<std::string>>();
       }},
      {"detect.policy_events.per_source", Kind::kUint, 1, 1000000, "10", {},
       "policy events per (source, rule) per window; repeats beyond are counted, not sent",
       [](C& c, const N& n) { c.pipeline.detect.policy_events_per_source = n.as<uint32_t>(); }},
      {"detect.policy_events.window", Kind::kSeconds, 1, 86400, "60", {},
       "seconds: policy event rate-limit window",
       [](C& c, const N& n) { c.pipeline.detect.policy_window_ns = to_ns(n.as<double>()); }},
      {"detect.events.ring", Kind::kUint, 64, 1048576, "4096", {},
       "events buffered per worker for the control thread (rounded up to a power of two)",
       [](C& c, const N& n) { c.pipeline.detect.event_ring = n.as<uint32_t>(); }},
      {"detect.events.subscriber_buffer_kb", Kind::kUint, 16, 1048576, "4096", {},
       "KiB of events waiting per events.subscribe client; beyond: counted, reported as overflow",
       [](C& c, const N& n) { c.pipeline.detect.subscriber_buffer = n.as<uint32_t>() * 1024; }},
      {"detect.events.backlog_kb", Kind::kUint, 0, 4194304, "16384", {},
       "KiB of the most recent event lines kept (also with no subscriber) so that "
       "events.subscribe can resume after a given stream_seq; 0: no backlog, no resume",
       [](C& c, const N& n) {
         c.pipeline.detect.backlog_bytes = uint64_t{n.as<uint32_t>()} << 10;
       }},
      {"detect.events.eve_file", Kind::kString, 0, 0, "", {},
       "also write events to this eve.json file (empty: no file)",
       [](C& c, const N& n) { c.pipeline.detect.eve_file = n.as<std::string>(); }},
      {"detect.events.eve_max_mb", Kind::kUint, 1, 1048576, "64", {},
       "rotate eve.json when it would pass this size (MiB)",
       [](C& c, const N& n) {
         c.pipeline.detect.eve_max_bytes = uint64_t{n.as<uint32_t>()} << 20;
       }},
      {"detect.events.eve_keep", Kind::kUint, 0, 1000, "5", {}, "rotated eve.json files kept",
       [](C& c, const N& n) { c.pipeline.detect.eve_keep = n.as<uint32_t>(); }},
      // IPFIX flow audit log (dataplane/export/flow_export.h): flow end + active timeout
      {"export.ipfix.collector", Kind::kString, 0, 0, "", {},
       "IPFIX collector HOST:PORT (nfcapd) for flow audit records; empty: no flow export",
       [](C& c, const N& n) { c.flow_export.collector = n.as<std::string>(); }},
      {"export.ipfix.transport", Kind::kEnum, 0, 0, "udp", {"udp", "tcp"},
       "IPFIX transport (tcp: reconnects on failure; records lost meanwhile are counted)",
       [](C& c, const N& n) { c.flow_export.tcp = n.as<std::string>() == "tcp"; }},
      {"export.ipfix.active_timeout_s", Kind::kSeconds, 1, 86400, "300", {},
       "seconds: long flows get an interim record (counts since the last) every period",
       [](C& c, const N& n) {
         c.flow_export.active_timeout_ns = to_ns(n.as<double>());
       }},
      {"export.ipfix.enterprise", Kind::kUint, 1, 4294967295.0, "32473", {},
       "IANA enterprise number (PEN) of the app / hostname / verdict / zone / rule elements",
       [](C& c, const N& n) { c.flow_export.enterprise = n.as<uint32_t>(); }},
      {"export.ipfix.observation_domain", Kind::kUint, 0, 4294967295.0, "1", {},
       "IPFIX observation domain id (one per appliance at a collector)",
       [](C& c, const N& n) {
         c.flow_export.observation_domain = n.as<uint32_t>();
       }},
      {"export.ipfix.ring", Kind::kUint, 64, 1048576, "8192", {},
       "flow records buffered per worker for the control thread (232 bytes each); "
       "full: counted as ipfix_records_lost_ring_full",
       [](C& c, const N& n) { c.flow_export.ring = n.as<uint32_t>(); }},
      {"export.ipfix.active_flows", Kind::kUint, 16, 16777216, "16384", {},
       "long flows per worker remembered for active-timeout records (56-112 bytes each)",
       [](C& c, const N& n) { c.flow_export.active_flows = n.as<uint32_t>(); }},
      // evidence pcaps of alert events (dataplane/export/evidence.h)
      {"export.evidence.dir", Kind::kString, 0, 0, "", {},
       "directory for evidence pcaps (first packets of the flow of each alert event, named in "
       "the event); empty: no evidence",
       [](C& c, const N& n) { c.evidence.dir = n.as<std::string>(); }},
      {"export.evidence.max_packets", Kind::kUint, 1, 64, "8", {},
       "first packets of a flow kept as evidence",
       [](C& c, const N& n) { c.evidence.max_packets = n.as<uint32_t>(); }},
      {"export.evidence.snaplen", Kind::kUint, 64, 9216, "256", {},
       "bytes kept per evidence packet",
       [](C& c, const N& n) { c.evidence.snaplen = n.as<uint32_t>(); }},
      {"export.evidence.flows", Kind::kUint, 16, 1048576, "1024", {},
       "flows in their first packets tracked per worker (memory: flows x max_packets x "
       "snaplen; rounded up to a power of two)",
       [](C& c, const N& n) { c.evidence.flows = n.as<uint32_t>(); }},
      {"export.evidence.ring", Kind::kUint, 4, 65536, "64", {},
       "evidence snapshots waiting for the control thread per worker (full: counted, the "
       "event goes out without evidence)",
       [](C& c, const N& n) { c.evidence.ring = n.as<uint32_t>(); }},
      {"export.evidence.max_files", Kind::kUint, 1, 10000000, "1000", {},
       "evidence files kept in export.evidence.dir; the oldest are deleted first",
       [](C& c, const N& n) { c.evidence.max_files = n.as<uint32_t>(); }},
      {"export.evidence.max_mb", Kind::kUint, 1, 10485760, "100", {},
       "disk budget (MiB) of export.evidence.dir; the oldest evidence is deleted first",
       [](C& c, const N& n) { c.evidence.max_bytes = uint64_t{n.as<uint32_t>()} << 20; }},
      {"control.socket", Kind::kString, 0, 0, "/run/campusguard/dataplane.sock", {},
       "Unix socket of the control protocol",
       [](C& c, const N& n) { c.socket = n.as<std::string>(); }},
      {"control.allow_clock_offset", Kind::kBool, 0, 0, "false", {},
       "accept the clock.offset command, which shifts the clock timetables are judged by "
       "(tests only; leave off on an appliance)",
       [](C& c, const N& n) { c.allow_clock_offset = n.as<bool>(); }},
  };
  return k;
}

}  // namespace

DataplaneConfig default_config() {
  DataplaneConfig cfg;
  Loader::apply_defaults(keys(), cfg);
  return cfg;
}

DataplaneConfig parse_config(const std::string& yaml, const std::string& name,
                             std::vector<ConfigError>* errors) {
  DataplaneConfig cfg = default_config();
  std::vector<std::string> errs;
  Loader loader(keys(), name, &errs);
  bool empty = false;
  if (loader.load(yaml, cfg, &empty) && errs.empty()) {
    if (cfg.inside == cfg.outside)
      errs.push_back(name + ": ports: inside and outside are the same device");
    if (cfg.burst > pipeline::Pipeline::kMaxBurst) errs.push_back(name + ": burst: at most 64");
    if (!cfg.lcores.empty() && cfg.lcores.size() != cfg.workers + 1)
      errs.push_back(name + ": eal.lcores: needs workers + 1 entries (main core first)");
  }
  if (empty) errs.push_back(name + ": empty configuration");
  for (auto& e : errs) errors->push_back({std::move(e)});
  return cfg;
}

DataplaneConfig load_config(const std::string& path, std::vector<ConfigError>* errors) {
  std::ifstream in(path);
  if (!in) {
    errors->push_back({path + ": cannot read file"});
    return default_config();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, errors);
}

std::string config_help() { return Loader::help(keys()); }

std::vector<std::string> DataplaneConfig::eal_args(const std::string& prog) const {
  std::vector<std::string> a = {prog};
  if (lcores.empty()) {
    a.push_back("-l");
    a.push_back("0-" + std::to_string(workers));
  } else {
    std::string l;
    bool mapped = false;
    for (size_t i = 0; i < lcores.size(); ++i) {
      l += (i ? "," : "") + lcores[i];
      mapped = mapped || lcores[i].find('@') != std::string::npos;
    }
    if (mapped) {
      a.push_back("--lcores=" + l);  // lcore@cpu mappings, e.g. more workers than cores in a lab
    } else {
      a.push_back("-l");
      a.push_back(l);
    }
  }
  a.push_back("-m");
  a.push_back(std::to_string(memory_mb));
  if (!hugepages) a.push_back("--no-huge");
  a.push_back("--file-prefix=" + file_prefix);
  a.push_back("--log-level=lib.eal:notice");
  // A device string with a '=' or a name starting with net_ is a vdev; otherwise a PCI address.
  bool any_pci = false;
  for (const std::string* dev : {&inside, &outside}) {
    if (dev->rfind("net_", 0) == 0 || dev->rfind("eth_", 0) == 0) {
      a.push_back("--vdev=" + *dev);
    } else {
      a.push_back("-a");
      a.push_back(*dev);
      any_pci = true;
    }
  }
  if (!any_pci) a.push_back("--no-pci");
  for (const auto& x : eal_extra) a.push_back(x);
  return a;
}

}  // namespace cg::runtime

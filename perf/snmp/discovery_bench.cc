// Discovery of many devices at once against snmpsim (or any v2c agents on one address):
//   snmp_discovery_bench --port P[,P2...] [--host 127.0.0.1] [--parallel K] [--repeat N]
//                        [--json-dir D] [--poll-cycles C] COMMUNITY...
// (several ports: one snmpsim process each; COMMUNITY i is served on port i mod #ports)
// Probes every COMMUNITY N times on K worker threads (one NetSnmpSession per probe) and prints
// wall time, probes/s and SNMP requests/s. With --json-dir it writes D/<community>.<n>.json so a
// test can compare concurrent results with sequential ones. With --poll-cycles it then runs C
// full poll cycles (snmp/poller's poll_interfaces of every device, K at once, results fed to a
// Poller) and prints the wall time and requests/s of each.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "snmp/discovery/discovery.h"
#include "snmp/poller/poller.h"
#include "snmp/session/concurrency.h"
#include "snmp/session/session.h"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", json_dir;
  int parallel = 8, repeat = 1, poll_cycles = 0;
  std::vector<uint16_t> ports;
  std::vector<std::string> communities;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port") {
      std::string list = next();
      for (size_t b = 0; b <= list.size();) {
        size_t e = list.find(',', b);
        if (e == std::string::npos) e = list.size();
        ports.push_back(static_cast<uint16_t>(std::atoi(list.substr(b, e - b).c_str())));
        b = e + 1;
      }
    } else if (a == "--host")
      host = next();
    else if (a == "--parallel")
      parallel = std::atoi(next().c_str());
    else if (a == "--repeat")
      repeat = std::atoi(next().c_str());
    else if (a == "--json-dir")
      json_dir = next();
    else if (a == "--poll-cycles")
      poll_cycles = std::atoi(next().c_str());
    else
      communities.push_back(a);
  }
  bool bad_port = ports.empty();
  for (uint16_t p : ports) bad_port = bad_port || p == 0;
  if (bad_port || communities.empty() || parallel < 1 || repeat < 1) {
    std::fprintf(stderr,
                 "usage: %s --port P[,P2..] [--parallel K] [--repeat N] [--json-dir D] "
                 "[--poll-cycles C] C...\n",
                 argv[0]);
    return 2;
  }
  size_t n = communities.size() * static_cast<size_t>(repeat);
  std::atomic<uint64_t> requests{0}, failures{0};
  auto t0 = std::chrono::steady_clock::now();
  cg::snmp::run_concurrently(n, static_cast<size_t>(parallel), [&](size_t i) {
    const std::string& community = communities[i % communities.size()];
    cg::snmp::SessionConfig cfg;
    cfg.host = host;
    cfg.port = ports[(i % communities.size()) % ports.size()];
    cfg.community = community;
    cfg.timeout = std::chrono::milliseconds(3000);
    cfg.retries = 1;
    auto s = cg::snmp::open_net_snmp_session(cfg);
    if (!s.ok()) {
      ++failures;
      std::fprintf(stderr, "%s: %s\n", community.c_str(), s.status().to_string().c_str());
      return;
    }
    auto d = cg::snmp::discover_device(**s);
    requests += (*s)->counters().requests;
    if (!d.ok() || !d->walk_errors.empty()) {
      ++failures;
      std::fprintf(stderr, "%s: %s\n", community.c_str(),
                   d.ok() ? d->walk_errors.front().c_str() : d.status().to_string().c_str());
      return;
    }
    if (!json_dir.empty()) {
      std::ofstream out(json_dir + "/" + community + "." + std::to_string(i / communities.size()) +
                        ".json");
      out << cg::snmp::to_json(*d).dump(2) << "\n";
    }
  });
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf(
      "probes %zu  parallel %d  wall %.2f s  probes/s %.1f  requests %llu  requests/s %.0f"
      "  failures %llu\n",
      n, parallel, secs, n / secs, static_cast<unsigned long long>(requests.load()),
      requests.load() / secs, static_cast<unsigned long long>(failures.load()));
  // Poll cycles: every device (community) once per cycle.
  cg::snmp::Topology empty;
  cg::snmp::Poller poller(empty, cg::snmp::PollerOptions{});
  for (int c = 1; c <= poll_cycles; ++c) {
    std::vector<cg::snmp::Result<std::map<uint32_t, cg::snmp::PortSample>>> samples(
        n, cg::snmp::Status(cg::snmp::ErrorCode::kInternal, "not polled"));
    std::atomic<uint64_t> poll_requests{0};
    auto p0 = std::chrono::steady_clock::now();
    cg::snmp::run_concurrently(n, static_cast<size_t>(parallel), [&](size_t i) {
      cg::snmp::SessionConfig cfg;
      cfg.host = host;
      cfg.port = ports[(i % communities.size()) % ports.size()];
      cfg.community = communities[i % communities.size()];
      cfg.timeout = std::chrono::milliseconds(3000);
      cfg.retries = 1;
      auto s = cg::snmp::open_net_snmp_session(cfg);
      if (!s.ok()) {
        samples[i] = s.status();
        return;
      }
      samples[i] = cg::snmp::poll_interfaces(**s);
      poll_requests += (*s)->counters().requests;
    });
    size_t port_rows = 0, failed = 0;
    for (size_t i = 0; i < n; ++i) {
      std::string id = communities[i % communities.size()] + "#" + std::to_string(i);
      if (!samples[i].ok()) {
        ++failed;
        poller.failed(id, samples[i].status(), c);
        continue;
      }
      port_rows += samples[i]->size();
      poller.update(id, *samples[i], c * 1000, c);
    }
    double ps = std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
    std::printf(
        "poll cycle %d  devices %zu  ports %zu  wall %.2f s  requests %llu  requests/s %.0f"
        "  failures %zu\n",
        c, n, port_rows, ps, static_cast<unsigned long long>(poll_requests.load()),
        poll_requests.load() / ps, failed);
    if (failed) failures += failed;
  }
  return failures.load() == 0 ? 0 : 1;
}

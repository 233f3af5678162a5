// Discovery of many devices at once against snmpsim (or any v2c agents on one address):
//   snmp_discovery_bench --port P [--host 127.0.0.1] [--parallel K] [--repeat N] [--json-dir D]
//                        COMMUNITY...
// Probes every COMMUNITY N times on K worker threads (one NetSnmpSession per probe) and prints
// wall time, probes/s and SNMP requests/s. With --json-dir it writes D/<community>.<n>.json so a
// test can compare concurrent results with sequential ones.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "snmp/discovery/discovery.h"
#include "snmp/session/concurrency.h"
#include "snmp/session/session.h"

int main(int argc, char** argv) {
  std::string host = "127.0.0.1", json_dir;
  int port = 0, parallel = 8, repeat = 1;
  std::vector<std::string> communities;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--port")
      port = std::atoi(next().c_str());
    else if (a == "--host")
      host = next();
    else if (a == "--parallel")
      parallel = std::atoi(next().c_str());
    else if (a == "--repeat")
      repeat = std::atoi(next().c_str());
    else if (a == "--json-dir")
      json_dir = next();
    else
      communities.push_back(a);
  }
  if (port <= 0 || communities.empty() || parallel < 1 || repeat < 1) {
    std::fprintf(stderr, "usage: %s --port P [--parallel K] [--repeat N] [--json-dir D] C...\n",
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
    cfg.port = static_cast<uint16_t>(port);
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
  return failures.load() == 0 ? 0 : 1;
}

// Alerting benchmark (in memory + a SQLite file in /tmp). Prints figures, medians of --runs:
//   1. engine: events/s through 3 rules (CIDR + set matchers, threshold 5 per source over 1 min,
//      dedup) for events from 50k sources; every 5th event of a source raises or folds an alert;
//   2. service: alerts/s raised, stored and queued (one SQLite transaction each, WAL,
//      synchronous=FULL) and delivered through a channel that accepts everything (store cost).
// --smoke makes both small (CI). Machine caveat: shared 2-core VM, other builds running.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "controlplane/alerting/service.h"

using namespace cg::alerting;

namespace {

const char* kRules = R"(
rules:
  - name: scans
    match: {event_type: alert, detector: [port_scan, host_sweep], src_ip: {cidr: 10.0.0.0/8}}
    group_by: src_ip
    threshold: {count: 5, window: 1m}
    channels: sink
  - name: floods
    match: {detector: [syn_flood, udp_flood]}
    group_by: dest_ip
    channels: sink
  - name: severe
    match: {alert.severity: {lte: 1}}
    channels: sink
)";

nlohmann::json event(uint32_t i) {
  return {{"timestamp", "2026-11-30T00:20:00.000000+0000"},
          {"event_type", "alert"},
          {"event_id", "5f1c2a9b-0-" + std::to_string(i)},
          {"src_ip", "10." + std::to_string((i >> 16) & 255) + "." +
                         std::to_string((i >> 8) & 255) + "." + std::to_string(i & 255)},
          {"dest_ip", "10.20.0.5"},
          {"detector", "port_scan"},
          {"vlan", {120}},
          {"alert", {{"signature", "port scan"}, {"severity", 2}}}};
}

class NullChannel final : public Channel {
 public:
  using Channel::Channel;
  SendResult send(const Alert&, TimePoint) override { return {true, ""}; }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  int runs = 3;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--smoke")) smoke = true;
    if (!std::strcmp(argv[i], "--runs") && i + 1 < argc) runs = std::atoi(argv[++i]);
  }
  if (smoke) runs = 1;
  const uint32_t sources = smoke ? 2000 : 50000, per_source = 10;
  const uint32_t alerts = smoke ? 200 : 5000;
  auto dir =
      std::filesystem::temp_directory_path() / ("cg-bench-alerting-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string yaml = "version: 1\ndelivery: {queue: " + (dir / "a.db").string() +
                     ", max_queue: 10000000, batch: 1000}\nchannels: {sink: {type: webhook, "
                     "url: 'http://127.0.0.1:9/'}}\n" +
                     kRules;
  auto cfg = load_config(yaml, "bench.yaml");
  if (!cfg.ok()) {
    for (auto& e : cfg.errors) std::fprintf(stderr, "%s\n", format_diagnostic(e).c_str());
    return 1;
  }
  std::vector<nlohmann::json> events;
  for (uint32_t i = 0; i < sources; ++i) events.push_back(event(i));

  std::vector<double> eps;
  uint64_t raised = 0;
  for (int r = 0; r < runs; ++r) {
    Engine e(cfg.config);
    TimePoint t = from_ms(1'800'000'000'000);
    auto t0 = std::chrono::steady_clock::now();
    for (uint32_t k = 0; k < per_source; ++k)
      for (uint32_t i = 0; i < sources; ++i) raised += e.ingest(events[i], t).raised.size();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    eps.push_back(sources * per_source / s);
  }
  std::printf("engine: %.0f events/s (median of %d, %u events, %llu alerts raised in total)\n",
              median(eps), runs, sources * per_source, static_cast<unsigned long long>(raised));

  std::vector<double> aps, dps;
  for (int r = 0; r < runs; ++r) {
    std::filesystem::remove(dir / "a.db");
    cg::cp::ManualClock clock(1'800'000'000'000'000);
    std::string err;
    auto svc = Service::create(cfg.config, clock, err, {}, [](const ChannelConfig& c) {
      return std::make_unique<NullChannel>(c);
    });
    if (!svc) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return 1;
    }
    auto t0 = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < alerts; ++i) {
      auto ev = events[i % sources];
      ev["alert"]["severity"] = 1;  // rule "severe": one alert per event (dedup per source)
      ev["src_ip"] = "172.16." + std::to_string(i >> 8 & 255) + "." + std::to_string(i & 255);
      svc->ingest(ev);
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    aps.push_back(alerts / s);
    t0 = std::chrono::steady_clock::now();
    size_t sent = 0;
    while (size_t n = svc->pump()) sent += n;
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    dps.push_back(sent / s);
  }
  std::printf(
      "service: %.0f alerts/s stored+queued (SQLite WAL, synchronous=FULL), %.0f "
      "deliveries/s through a null channel (median of %d, %u alerts)\n",
      median(aps), median(dps), runs, alerts);
  std::filesystem::remove_all(dir);
  return 0;
}

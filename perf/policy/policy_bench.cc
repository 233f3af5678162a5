// Full-pipeline benchmark with policies: parse + flow + nDPI + policy verdicts, in memory on one
// thread, over a capture (the campus mix from cg-make-campus-pcap), in the same run:
//   parse+flow         classification off, no policy (the foundation's figure)
//   +nDPI              classification on, no policy
//   +nDPI+policy N     classification on, a generated policy of N rules (per --rules), judged
//                      through the rte_acl index (as the live dataplane does)
//   ... linear         the smallest policy judged by api::evaluate() alone, for comparison
// Prints Mpps, cycles per packet, flows created and new flows per second for each, the ratios,
// the policy compile (validate + compile) and prepare times, and the memory per flow.
//
// The generated policies are the hard case for rule evaluation: N-3 address rules (a /24 and a
// port each, in 100.64.0.0/10 where no campus flow goes, so every flow is checked against all of
// them), a teaching allow rule with hostnames first and two app / schedule rules last.
#include <pcap/pcap.h>
#include <x86intrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <ndpi_api.h>
#include <rte_eal.h>

#include "dataplane/enforce/enforcer.h"
#include "dataplane/pipeline/pipeline.h"
#include "policies/compiler/policy.h"

namespace {

struct Packet {
  uint32_t off, len, wire_len;
  uint64_t ts_ns;
};

struct Capture {
  std::vector<uint8_t> bytes;
  std::vector<Packet> pkts;
};

bool load(const char* path, Capture* c) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!p) {
    std::fprintf(stderr, "cg-bench-policy: %s\n", err);
    return false;
  }
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    c->pkts.push_back({static_cast<uint32_t>(c->bytes.size()), h->caplen, h->len,
                       static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000ull +
                           static_cast<uint64_t>(h->ts.tv_usec)});
    c->bytes.insert(c->bytes.end(), d, d + h->caplen);
  }
  pcap_close(p);
  return !c->pkts.empty();
}

std::string policy_text(uint32_t rules) {
  std::string s = R"(apiVersion: campusguard/v1
school: { id: bench-01, name: bench, timezone: Asia/Shanghai }
zones:
  classrooms: { vlans: [101-160] }
  teachers: { subnets: [10.20.0.0/16] }
schedules:
  class-hours: { days: [weekdays], times: ["08:00-11:50", "14:00-17:30"] }
apps:
  teaching: { hosts: ["*.smartedu.cn", "*.chaoxing.com"] }
  video: { protocols: [YouTube, TikTok, NetFlix], categories: [Video, Streaming] }
  games: { categories: [Game] }
rules:
  - { name: teaching, to-app: teaching, action: allow }
)";
  for (uint32_t i = 0; i + 3 < rules; ++i) {
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "  - { name: block-%u, dst: [100.%u.%u.0/24], protocol: tcp, dst-ports: [%u], "
                  "action: deny }\n",
                  i, 64 + i / 256, i % 256, 1024 + i % 30000);
    s += buf;
  }
  s += "  - { name: no-video-in-class, app: video, when: class-hours, action: deny }\n";
  s += "  - { name: no-games, app: games, action: deny }\n";
  s += "default: allow\n";
  return s;
}

struct Result {
  double mpps = 0, cycles_per_packet = 0, flows_per_s = 0;
  uint64_t flows = 0, denied = 0;
};

Result run(const Capture& cap, bool classify, std::shared_ptr<const cg::api::PolicyImage> image,
           bool acl) {
  cg::pipeline::PipelineConfig cfg;
  cfg.classify = classify;
  cfg.table.capacity = 1u << 20;
  cfg.table.prefault = true;  // page faults at construction, not in the timed loop
  uint64_t day = 86400ull * 1'000'000'000ull;
  cfg.table.timeouts = {day, day, day, day, day, day, day};  // every flow stays: no expiry work
  cfg.classifier.max_inspecting = 1u << 18;
  cfg.classifier.max_hostnames = 1u << 18;
  cg::pipeline::Pipeline pipe(cfg);
  std::unique_ptr<cg::enforce::AclIndex> index;
  cg::enforce::PolicyBinding binding(image);
  if (image && acl) {
    std::string err;
    index = cg::enforce::AclIndex::build(*image, &err);
    if (!index) {
      std::fprintf(stderr, "cg-bench-policy: %s\n", err.c_str());
      std::exit(1);
    }
    binding.acl = index.get();
  }
  if (image) pipe.install_policy(&binding);
  cg::pipeline::PacketRef refs[32];
  cg::pipeline::Verdict v[32];
  auto t0 = std::chrono::steady_clock::now();
  uint64_t c0 = __rdtsc();
  for (size_t i = 0; i < cap.pkts.size(); i += 32) {
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(32, cap.pkts.size() - i));
    for (uint32_t k = 0; k < n; ++k) {
      const Packet& p = cap.pkts[i + k];
      refs[k] = {cap.bytes.data() + p.off, p.len, p.wire_len, p.ts_ns, 0};
    }
    pipe.process(refs, n, v);
  }
  uint64_t cycles = __rdtsc() - c0;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  Result r;
  r.mpps = static_cast<double>(cap.pkts.size()) / secs / 1e6;
  r.cycles_per_packet = static_cast<double>(cycles) / static_cast<double>(cap.pkts.size());
  r.flows = pipe.table().counter(cg::flow::TableCounter::kCreated);
  r.flows_per_s = static_cast<double>(r.flows) / secs;
  r.denied = pipe.counter(cg::pipeline::Counter::kDropPolicy);
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const char* pcap_path = nullptr;
  std::vector<uint32_t> rule_counts = {1000, 10000};
  int runs = 3;
  bool compile_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--compile-only") {
      compile_only = true;
    } else if (a == "--pcap" && i + 1 < argc) {
      pcap_path = argv[++i];
    } else if (a == "--runs" && i + 1 < argc) {
      runs = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--rules" && i + 1 < argc) {
      rule_counts.clear();
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ","))
        rule_counts.push_back(static_cast<uint32_t>(std::atoi(t)));
    } else {
      std::fprintf(stderr,
                   "usage: cg-bench-policy --pcap CAMPUS.pcap [--rules 1000,10000] [--runs 3]\n"
                   "       cg-bench-policy --compile-only [--rules ...] [--runs ...]\n"
                   "  --compile-only  only the policy compile, rte_acl build and binding times\n");
      return 2;
    }
  }
  if (!pcap_path && !compile_only) {
    std::fprintf(stderr, "cg-bench-policy: --pcap is required (make one with cg-make-campus-pcap)\n");
    return 2;
  }
  const char* eal[] = {"cg-bench-policy", "--no-huge", "-m", "512", "--no-pci", "--no-shconf",
                       "--no-telemetry", "-l", "0", "--log-level=lib.eal:error"};
  if (rte_eal_init(static_cast<int>(std::size(eal)), const_cast<char**>(eal)) < 0) {
    std::fprintf(stderr, "cg-bench-policy: rte_eal_init failed (rte_acl needs the EAL)\n");
    return 1;
  }
  Capture cap;
  if (!compile_only) {
    if (!load(pcap_path, &cap)) return 1;
    std::printf("capture: %zu packets, %.1f MB, in memory; %d run(s) each, medians\n",
                cap.pkts.size(), static_cast<double>(cap.bytes.size()) / 1e6, runs);
  }

  struct Row {
    std::string name;
    bool classify;
    std::shared_ptr<const cg::api::PolicyImage> image;
    bool acl;
  };
  std::vector<Row> rows = {{"parse+flow", false, nullptr, false}, {"+nDPI", true, nullptr, false}};
  Row linear;
  for (uint32_t n : rule_counts) {
    std::string text = policy_text(n);
    std::vector<double> compile_ms, prepare_us, acl_ms;
    std::shared_ptr<const cg::api::PolicyImage> image;
    for (int r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      auto res = cg::policy::compile_policy(text, "bench.yaml");
      auto t1 = std::chrono::steady_clock::now();
      if (!res.ok()) {
        for (const auto& d : res.diagnostics)
          std::fprintf(stderr, "%s\n", cg::policy::format_diagnostic(d).c_str());
        return 1;
      }
      // What the runtime's prepare adds on top: one binding (per-rule counters) per worker.
      cg::enforce::PolicyBinding binding(res.image);
      auto t2 = std::chrono::steady_clock::now();
      image = res.image;
      std::string err;
      auto index = cg::enforce::AclIndex::build(*image, &err);
      auto t3 = std::chrono::steady_clock::now();
      if (!index) {
        std::fprintf(stderr, "cg-bench-policy: %s\n", err.c_str());
        return 1;
      }
      compile_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      prepare_us.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count());
      acl_ms.push_back(std::chrono::duration<double, std::milli>(t3 - t2).count());
    }
    std::printf("policy of %u rules: validate+compile %.1f ms, rte_acl build %.1f ms, "
                "binding %.1f us (medians); the swap itself is a pointer publish + RCU wait\n",
                n, median(compile_ms), median(acl_ms), median(prepare_us));
    rows.push_back({"+nDPI+policy " + std::to_string(n), true, image, true});
    if (!linear.image) linear = {"+nDPI+policy " + std::to_string(n) + " lin", true, image, false};
  }

  if (compile_only) return 0;
  rows.push_back(linear);
  std::printf("\n%-22s %8s %10s %10s %12s %10s %9s\n", "pipeline", "Mpps", "cyc/pkt", "flows",
              "new flows/s", "denied", "vs parse");
  double base = 0;
  for (const auto& row : rows) {
    std::vector<double> mpps, cyc, fps;
    Result last;
    for (int r = 0; r < runs; ++r) {
      last = run(cap, row.classify, row.image, row.acl);
      mpps.push_back(last.mpps);
      cyc.push_back(last.cycles_per_packet);
      fps.push_back(last.flows_per_s);
    }
    double m = median(mpps);
    if (base == 0) base = m;
    std::printf("%-22s %8.3f %10.0f %10lu %12.0f %10lu %8.2fx\n", row.name.c_str(), m,
                median(cyc), static_cast<unsigned long>(last.flows), median(fps),
                static_cast<unsigned long>(last.denied), m / base);
  }
  std::printf("\nmemory per flow: %zu B flow entry (incl. 24 B class + 4 B verdict slots) for its "
              "whole life; + nDPI state (ndpi_flow_struct, %u B) and an 80 B hostname buffer "
              "only while nDPI inspects (freed when detected or given up)\n",
              sizeof(cg::flow::FlowEntry), ndpi_detection_get_sizeof_ndpi_flow_struct());
  std::printf("goal (issue 3): >= 3.34 Mpps per worker with the policy, >= 50,000 new flows/s\n");
  return 0;
}

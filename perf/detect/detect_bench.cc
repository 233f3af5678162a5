// Detector cost per packet: the same in-memory packets through two pipelines, one with the
// detection stage (scans, floods, blocklists with a 10,000-entry list, risks) and one without,
// interleaved rounds in the same run; classification on in both (the live configuration).
//   cg-bench-detect FILE.pcap [rounds] [--no-classify]   -> one JSON line with ns/packet for both
//   and the ratio
#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/export/evidence.h"
#include "dataplane/export/flow_export.h"
#include "dataplane/pipeline/pipeline.h"

using namespace cg;

namespace {

struct Capture {
  std::vector<std::vector<uint8_t>> frames;
  std::vector<uint64_t> ts;
};

bool g_classify = true;

// `exporting`: also the live export work on the worker — evidence pool (first 8 packets of every
// flow, snapshots for every event) and IPFIX flow records (ring, active-timeout scan); the
// rings are drained in the loop like the control thread would.
double run_once(const Capture& cap, bool detect, std::shared_ptr<const detect::Blocklist> bl,
                uint64_t* events, size_t* packets, bool exporting = false) {
  pipeline::PipelineConfig c;
  c.table.capacity = 1 << 16;
  c.table.prefault = true;  // as live: no page faults inside the timed loop
  c.classifier.max_inspecting = 1 << 14;
  c.classifier.max_hostnames = 1 << 14;
  c.detect.enabled = detect;
  c.classify = g_classify;
  pipeline::Pipeline p(c);
  if (detect) p.set_blocklist(bl);
  exporter::EvidenceStore evidence{exporter::EvidenceConfig{}};
  exporter::FlowAudit audit{exporter::FlowExportConfig{}};
  if (exporting) {
    p.detector().set_evidence(&evidence);
    p.set_end_callback(
        [](void* ctx, flow::FlowEntry& e, flow::EndReason why) {
          static_cast<exporter::FlowAudit*>(ctx)->on_flow_end(e, why, nullptr, nullptr);
        },
        &audit);
  }
  std::vector<exporter::FlowRecord> records(256);
  // The capture is replayed `passes` times, each pass an hour later (its flows are new again).
  const size_t passes = std::max<size_t>(1, 50000 / cap.frames.size());
  std::vector<pipeline::PacketRef> refs;
  for (size_t k = 0; k < passes; ++k)
    for (size_t i = 0; i < cap.frames.size(); ++i)
      refs.push_back({cap.frames[i].data(), static_cast<uint32_t>(cap.frames[i].size()),
                      static_cast<uint32_t>(cap.frames[i].size()),
                      cap.ts[i] + k * 3600'000'000'000ull, 0});
  pipeline::Verdict v[pipeline::Pipeline::kMaxBurst];
  exporter::Event drain[256];
  auto t0 = std::chrono::steady_clock::now();
  for (size_t i = 0; i < refs.size(); i += 32) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(32, refs.size() - i));
    p.process(&refs[i], n, v);
    p.tick(refs[i + n - 1].ts_ns);
    while (p.detector().events().pop(drain, 256)) {
    }
    if (exporting) {
      audit.tick(p.table(), refs[i + n - 1].ts_ns, p.classifier(), &p.enforcer());
      while (audit.ring().pop(records.data(), 256)) {
      }
      exporter::EvidenceStore::View view;
      while (evidence.peek(&view)) evidence.release();
    }
  }
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
  *events = p.detector().counter(detect::Counter::kEventsEmitted);
  *packets = refs.size();
  return ns / static_cast<double>(refs.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.pcap [rounds]\n", argv[0]);
    return 2;
  }
  const int rounds = argc > 2 ? std::stoi(argv[2]) : 5;
  g_classify = !(argc > 3 && std::string(argv[3]) == "--no-classify");
  char err[PCAP_ERRBUF_SIZE];
  pcap_t* pc = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, err);
  if (!pc || pcap_datalink(pc) != DLT_EN10MB) {
    std::fprintf(stderr, "need an Ethernet capture: %s\n", pc ? argv[1] : err);
    return 1;
  }
  Capture cap;
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(pc, &h, &d) == 1) {
    cap.frames.emplace_back(d, d + h->caplen);
    cap.ts.push_back(static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000ull + h->ts.tv_usec);
  }
  pcap_close(pc);
  auto bl = std::make_shared<detect::Blocklist>();
  detect::BlocklistStats st;
  std::string feed;
  for (int i = 0; i < 5000; ++i) feed += "blocked" + std::to_string(i) + ".example.org\n";
  for (int i = 0; i < 5000; ++i)
    feed += "203." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + ".0/24\n";
  bl->add_text(feed, "bench", &st);
  bl->finalize();
  std::vector<double> with, without, exporting;
  uint64_t events = 0, none = 0;
  size_t packets = 0;
  for (int r = 0; r < rounds; ++r) {  // interleaved so both see the same machine state
    without.push_back(run_once(cap, false, bl, &none, &packets));
    with.push_back(run_once(cap, true, bl, &events, &packets));
    exporting.push_back(run_once(cap, true, bl, &events, &packets, true));
  }
  std::sort(exporting.begin(), exporting.end());
  const double we = exporting[exporting.size() / 2];
  std::sort(with.begin(), with.end());
  std::sort(without.begin(), without.end());
  const double w = with[with.size() / 2], wo = without[without.size() / 2];
  std::printf(
      "{\"capture\":\"%s\",\"packets\":%zu,\"rounds\":%d,\"ns_per_packet_without_detect\":%.1f,"
      "\"ns_per_packet_with_detect\":%.1f,\"detect_ns_per_packet\":%.1f,\"ratio\":%.3f,"
      "\"ns_per_packet_with_detect_and_export\":%.1f,\"export_ns_per_packet\":%.1f,"
      "\"events\":%lu,\"classify\":%s}\n",
      argv[1], packets, rounds, wo, w, w - wo, w / wo, we, we - w,
      static_cast<unsigned long>(events), g_classify ? "true" : "false");
  return 0;
}

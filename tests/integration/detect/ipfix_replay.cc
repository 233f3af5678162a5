// cg-ipfix-replay: exports the flows of a capture (through the real worker pipeline: parse, flow
// table, nDPI) over IPFIX to a collector, and prints what it exported as JSON lines, so a test can
// compare with what the collector stored. --synthetic N exports N generated flows instead (the
// export-rate benchmark).
//   cg-ipfix-replay --collector HOST:PORT [--tcp] (--pcap FILE | --synthetic N)
#include <pcap/pcap.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/export/ipfix.h"
#include "dataplane/pipeline/pipeline.h"

using namespace cg;

namespace {

struct Sink {
  exporter::IpfixExporter* x;
  pipeline::Pipeline* pipe;
  uint64_t now_s = 0;
  std::vector<nlohmann::json> lines;
  static void on_end(void* ctx, flow::FlowEntry& e, flow::EndReason why) {
    auto* s = static_cast<Sink*>(ctx);
    auto r = exporter::FlowRecord::from(e, s->pipe->classifier(), &s->pipe->enforcer());
    r.end_reason = static_cast<int8_t>(why);
    auto f = exporter::ipfix_flow(r, s->pipe->classifier(), &s->pipe->enforcer());
    s->x->export_flow(f, s->now_s);
    s->lines.push_back({{"src_ip", exporter::address_string(f.src)},
                        {"dst_ip", exporter::address_string(f.dst)},
                        {"src_port", f.src_port},
                        {"dst_port", f.dst_port},
                        {"proto", f.proto},
                        {"bytes", f.bytes},
                        {"packets", f.packets},
                        {"reverse_bytes", f.reverse_bytes},
                        {"reverse_packets", f.reverse_packets},
                        {"app", f.app},
                        {"app_id", f.app_id},
                        {"flow_id", f.flow_id}});
  }
};

}  // namespace

int main(int argc, char** argv) {
  exporter::IpfixConfig cfg;
  std::string pcap_path;
  uint64_t synthetic = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--collector" && i + 1 < argc)
      cfg.collector = argv[++i];
    else if (a == "--tcp")
      cfg.tcp = true;
    else if (a == "--pcap" && i + 1 < argc)
      pcap_path = argv[++i];
    else if (a == "--synthetic" && i + 1 < argc)
      synthetic = std::stoull(argv[++i]);
    else {
      std::fprintf(stderr,
                   "usage: %s --collector HOST:PORT [--tcp] (--pcap FILE | --synthetic N)\n",
                   argv[0]);
      return 2;
    }
  }
  std::string err;
  auto x = exporter::IpfixExporter::create(cfg, &err);
  if (!x) {
    std::fprintf(stderr, "%s\n", err.c_str());
    return 1;
  }
  const uint64_t now_s = static_cast<uint64_t>(std::time(nullptr));
  if (synthetic) {
    auto t0 = std::chrono::steady_clock::now();
    exporter::IpfixFlow f;
    f.src[10] = f.src[11] = f.dst[10] = f.dst[11] = 0xff;
    f.proto = 6;
    f.app = "TLS.YouTube";
    f.app_id = exporter::ipfix_app_id(91, 124);
    f.hostname = "www.youtube.com";
    for (uint64_t i = 0; i < synthetic; ++i) {
      f.src[12] = 10;
      f.src[13] = static_cast<uint8_t>(i >> 16);
      f.src[14] = static_cast<uint8_t>(i >> 8);
      f.src[15] = static_cast<uint8_t>(i);
      f.dst[12] = 192;
      f.dst[13] = 0;
      f.dst[14] = 2;
      f.dst[15] = 1;
      f.src_port = static_cast<uint16_t>(1024 + i % 60000);
      f.dst_port = 443;
      f.packets = 10 + i % 7;
      f.bytes = 1000 + i;
      f.start_ms = now_s * 1000 - 5000;
      f.end_ms = now_s * 1000;
      f.flow_id = i + 1;
      x->export_flow(f, now_s);
    }
    x->flush(now_s);
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    nlohmann::json j = {{"flows", synthetic},
                        {"seconds", secs},
                        {"records_per_s", static_cast<double>(synthetic) / secs}};
    for (size_t c = 0; c < static_cast<size_t>(exporter::IpfixCounter::kCount); ++c)
      j[exporter::ipfix_counter_name(static_cast<exporter::IpfixCounter>(c))] =
          x->counter(static_cast<exporter::IpfixCounter>(c));
    std::printf("%s\n", j.dump().c_str());
    return x->counter(exporter::IpfixCounter::kSendErrors) ? 1 : 0;
  }

  char ebuf[PCAP_ERRBUF_SIZE];
  pcap_t* pc =
      pcap_open_offline_with_tstamp_precision(pcap_path.c_str(), PCAP_TSTAMP_PRECISION_NANO, ebuf);
  if (!pc) {
    std::fprintf(stderr, "%s\n", ebuf);
    return 1;
  }
  pipeline::PipelineConfig pcfg;
  pcfg.table.capacity = 1 << 14;
  pcfg.classifier.max_inspecting = 1 << 12;
  pcfg.classifier.max_hostnames = 1 << 12;
  if (pcap_datalink(pc) == DLT_RAW)
    pcfg.link = packet::LinkType::kRawIp;
  else if (pcap_datalink(pc) == DLT_LINUX_SLL)
    pcfg.link = packet::LinkType::kLinuxSll;
  pipeline::Pipeline pipe(pcfg);
  Sink sink{x.get(), &pipe, now_s, {}};
  pipe.set_end_callback(&Sink::on_end, &sink);
  pcap_pkthdr* h;
  const u_char* d;
  while (pcap_next_ex(pc, &h, &d) == 1) {
    const uint64_t ts = static_cast<uint64_t>(h->ts.tv_sec) * 1'000'000'000ull + h->ts.tv_usec;
    pipeline::PacketRef r{d, h->caplen, h->len, ts, 0};
    pipeline::Verdict v;
    pipe.process(&r, 1, &v);
    pipe.tick(ts);
  }
  pcap_close(pc);
  pipe.table().flush(flow::EndReason::kShutdown);
  x->flush(now_s);
  for (const auto& l : sink.lines) std::printf("%s\n", l.dump().c_str());
  std::fprintf(stderr, "exported %lu records in %lu messages, %lu send errors\n",
               static_cast<unsigned long>(x->counter(exporter::IpfixCounter::kRecords)),
               static_cast<unsigned long>(x->counter(exporter::IpfixCounter::kMessages)),
               static_cast<unsigned long>(x->counter(exporter::IpfixCounter::kSendErrors)));
  return x->counter(exporter::IpfixCounter::kSendErrors) ? 1 : 0;
}

#include "dataplane/main/replay.h"

#include <pcap/pcap.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "dataplane/export/event_json.h"
#include "dataplane/export/flow_record.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/qos/report.h"

namespace cg::replay {
namespace {

bool link_type(int dlt, packet::LinkType* out) {
  switch (dlt) {
    case DLT_EN10MB: *out = packet::LinkType::kEthernet; return true;
    case DLT_RAW:
    case 228:  // LINKTYPE_IPV4
    case 229:  // LINKTYPE_IPV6
      *out = packet::LinkType::kRawIp; return true;
    case DLT_LINUX_SLL: *out = packet::LinkType::kLinuxSll; return true;
    case DLT_NULL:
    case DLT_LOOP: *out = packet::LinkType::kNull; return true;
    case DLT_PPP: *out = packet::LinkType::kPpp; return true;
    case DLT_C_HDLC: *out = packet::LinkType::kCiscoHdlc; return true;
    default: return false;
  }
}

struct Collector {
  const classify::Classifier* classifier = nullptr;
  const enforce::Enforcer* enforcer = nullptr;
  std::vector<exporter::FlowRecord> ended;
  static void on_end(void* ctx, flow::FlowEntry& e, flow::EndReason why) {
    auto* self = static_cast<Collector*>(ctx);
    auto r = exporter::FlowRecord::from(e, self->classifier, self->enforcer);
    r.end_reason = static_cast<int8_t>(why);
    self->ended.push_back(r);
  }
};

}  // namespace

ReplayResult run(const std::string& pcap_path, const runtime::DataplaneConfig& cfg,
                 std::shared_ptr<const api::PolicyImage> policy) {
  ReplayResult res;
  char err[PCAP_ERRBUF_SIZE] = {0};
  // libpcap reads through stdio; with its default 4 KiB buffer a large capture costs one read
  // system call per 4 KiB (a tenth of the replay's time). The buffer outlives pcap_close.
  std::vector<char> iobuf(1 << 20);
  FILE* fp = std::fopen(pcap_path.c_str(), "rb");
  if (!fp) {
    res.error = "cannot open capture: " + pcap_path + ": " + std::strerror(errno);
    return res;
  }
  std::setvbuf(fp, iobuf.data(), _IOFBF, iobuf.size());
  pcap_t* pc = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, err);
  if (!pc) {
    std::fclose(fp);  // pcap_fopen_offline leaves the stream open when it fails
    res.error = "cannot open capture: " + std::string(err);
    return res;
  }
  pipeline::PipelineConfig pcfg = cfg.pipeline;
  int dlt = pcap_datalink(pc);
  if (!link_type(dlt, &pcfg.link)) {
    res.error = "unsupported link type " + std::to_string(dlt) + " (" +
                (pcap_datalink_val_to_name(dlt) ? pcap_datalink_val_to_name(dlt) : "?") + ")";
    pcap_close(pc);
    return res;
  }

  Collector collector;
  std::unique_ptr<pipeline::Pipeline> owned;
  try {
    owned = std::make_unique<pipeline::Pipeline>(pcfg);
  } catch (const std::exception& ex) {
    res.error = ex.what();
    pcap_close(pc);
    return res;
  }
  pipeline::Pipeline& pipe = *owned;
  if (policy) pipe.set_policy(policy);
  collector.classifier = pipe.classifier();
  collector.enforcer = &pipe.enforcer();
  pipe.set_end_callback(&Collector::on_end, &collector);
  // Detection: blocklists from the configured feed files; events drained after every burst.
  if (!pcfg.detect.blocklist_files.empty()) {
    auto bl = std::make_shared<detect::Blocklist>();
    detect::BlocklistStats st;
    for (const auto& f : pcfg.detect.blocklist_files) {
      std::string why;
      if (!bl->add_file(f, &st, &why)) {
        res.error = why;
        pcap_close(pc);
        return res;
      }
    }
    bl->finalize();
    pipe.set_blocklist(std::move(bl));
  }
  std::vector<exporter::Event> events;
  auto drain_events = [&] {
    exporter::Event buf[64];
    while (uint32_t got = pipe.detector().events().pop(buf, 64))
      events.insert(events.end(), buf, buf + got);
  };

  // Frames are copied into a burst buffer: libpcap reuses its buffer on every next_ex call.
  constexpr uint32_t kBurst = 32;
  constexpr uint32_t kSnap = 65536 + 64;
  std::vector<uint8_t> store(kBurst * kSnap);
  pipeline::PacketRef refs[kBurst];
  pipeline::Verdict verdicts[kBurst];
  uint32_t n = 0;
  uint64_t forwarded = 0, dropped = 0, first_ns = 0, last_ns = 0;
  auto t0 = std::chrono::steady_clock::now();

  auto flush = [&] {
    if (n == 0) return;
    pipe.process(refs, n, verdicts);
    for (uint32_t i = 0; i < n; ++i)
      (verdicts[i] == pipeline::Verdict::kForward ? forwarded : dropped) += 1;
    pipe.tick(refs[n - 1].ts_ns);
    drain_events();
    n = 0;
  };

  pcap_pkthdr* hdr;
  const u_char* data;
  int rc;
  while ((rc = pcap_next_ex(pc, &hdr, &data)) == 1) {
    uint64_t ts = static_cast<uint64_t>(hdr->ts.tv_sec) * 1'000'000'000ull +
                  static_cast<uint64_t>(hdr->ts.tv_usec);  // nanosecond precision requested
    uint32_t cap = hdr->caplen < kSnap ? hdr->caplen : kSnap;
    std::copy(data, data + cap, store.data() + n * kSnap);
    refs[n] = pipeline::PacketRef{store.data() + n * kSnap, cap,
                                  hdr->len > cap ? hdr->len : cap, ts, 0};
    if (first_ns == 0) first_ns = ts;
    last_ns = ts;
    if (++n == kBurst) flush();
  }
  flush();
  std::string read_error = rc == -1 ? pcap_geterr(pc) : "";
  pcap_close(pc);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Flows still live at the end of the capture are reported with end_reason "shutdown".
  pipe.table().flush(flow::EndReason::kShutdown);
  drain_events();

  nlohmann::json& j = res.report;
  j["version"] = 1;
  j["capture"] = pcap_path;
  nlohmann::json counters = nlohmann::json::object();
  for (size_t i = 0; i < pipeline::kCounterCount; ++i)
    counters[std::string(pipeline::counter_name(static_cast<pipeline::Counter>(i)))] =
        pipe.counters()[i];
  for (size_t i = 0; i < packet::kCounterCount; ++i) {
    auto c = static_cast<packet::Counter>(i);
    counters["decode_" + std::string(packet::counter_name(c))] = pipe.decode_counters().get(c);
  }
  for (size_t i = 0; i < flow::kTableCounterCount; ++i)
    counters[std::string(flow::table_counter_name(static_cast<flow::TableCounter>(i)))] =
        pipe.table().counters()[i];
  if (const auto* c = pipe.classifier())
    for (size_t i = 0; i < classify::kCounterCount; ++i)
      counters[std::string(classify::counter_name(static_cast<classify::Counter>(i)))] =
          c->counters()[i];
  for (size_t i = 0; i < detect::kCounterCount; ++i)
    counters[std::string(detect::counter_name(static_cast<detect::Counter>(i)))] =
        pipe.detector().counters()[i];
  for (size_t i = 0; i < enforce::kCounterCount; ++i)
    counters[std::string(enforce::counter_name(static_cast<enforce::Counter>(i)))] =
        pipe.enforcer().counters()[i];
  counters["dropped"] = dropped;
  j["counters"] = counters;
  j["totals"] = {
      {"packets", pipe.counter(pipeline::Counter::kPackets)},
      {"bytes", pipe.counter(pipeline::Counter::kBytes)},
      {"flows", collector.ended.size()},
      {"forwarded", forwarded},
      {"dropped", dropped},
      {"malformed", pipe.counter(pipeline::Counter::kDropMalformed)},
      {"non_ip", pipe.counter(pipeline::Counter::kNonIpPackets)},
      {"first_ts", static_cast<double>(first_ns) / 1e9},
      {"last_ts", static_cast<double>(last_ns) / 1e9},
      {"wall_seconds", secs},
  };
  nlohmann::json flows = nlohmann::json::array();
  for (const auto& r : collector.ended)
    flows.push_back(exporter::to_json(r, pipe.classifier(), &pipe.enforcer()));
  j["flows"] = std::move(flows);
  // Every event of the run in the event schema (dataplane/api/event.schema.json); a full ring
  // shows up as an overflow event, never as a silent gap.
  exporter::EventContext ectx;
  ectx.image = policy;
  nlohmann::json ev_json = nlohmann::json::array();
  for (const auto& ev : events) ev_json.push_back(exporter::to_json(ev, ectx));
  if (uint64_t lost = pipe.detector().events().dropped())
    ev_json.push_back(exporter::to_json(
        exporter::overflow_event(last_ns, "worker_ring", lost, 0), ectx));
  j["events"] = std::move(ev_json);
  if (pipe.classifier()) {
    // Per application (nDPI's name of the flow's app, else its master): every packet once.
    nlohmann::json apps = nlohmann::json::array();
    for (const auto& a : classify::sum_app_totals({pipe.classifier()}))
      apps.push_back({{"app", a.app}, {"packets", a.totals.packets}, {"bytes", a.totals.bytes},
                      {"flows", a.totals.flows}});
    j["apps"] = std::move(apps);
  }
  if (const api::PolicyImage* im = pipe.enforcer().image()) {
    // Per-rule counters: packets and bytes judged by the rule, flows it decided.
    nlohmann::json rules = nlohmann::json::array();
    auto row = [](const std::string& name, const enforce::RuleCounters& c) {
      return nlohmann::json{{"name", name}, {"packets", c.packets}, {"bytes", c.bytes},
                            {"flows", c.flows}};
    };
    for (size_t i = 0; i < im->rules.size(); ++i)
      rules.push_back(row(im->rules[i].name, pipe.enforcer().rule_counters()[i]));
    rules.push_back(row("default", pipe.enforcer().default_counters()));
    j["policy"] = {{"source", im->source_name}, {"generation", im->generation}, {"rules", rules}};
  }
  if (nlohmann::json q = qos::report_json(pipe.shaper(), last_ns); !q.is_null()) {
    // QoS (the policy's bandwidth section): per-class byte totals, classrooms, uplink.
    for (auto& [k, v] : q["counters"].items()) j["counters"][k] = v;
    q.erase("counters");
    j["qos"] = std::move(q);
  }
  if (!read_error.empty()) {
    j["read_error"] = read_error;  // a truncated capture: what was read is still reported
  }
  res.ok = true;
  return res;
}

}  // namespace cg::replay

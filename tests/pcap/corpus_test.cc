// Every capture of ../shared/corpus/pcap through the replay pipeline: no crash, no sanitizer
// report, every IP packet accounted to exactly one flow, and the flow count equal to what
// ndpiReader reports as "Unique flows" — or listed with its reason in
// flow_count_differences.tsv (the listed counts must still hold, so a change is noticed).
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "dataplane/main/replay.h"

namespace {

namespace fs = std::filesystem;

std::string source_dir() {
  const char* s = std::getenv("CG_SOURCE_DIR");
  return s ? s : ".";
}
fs::path corpus_dir() { return fs::path(source_dir()) / ".." / "shared" / "corpus" / "pcap"; }

struct Known {
  std::string ndpi;
  uint64_t ours;
  std::string reason;
};

std::map<std::string, Known> known_differences() {
  std::map<std::string, Known> m;
  std::ifstream in(fs::path(source_dir()) / "tests" / "pcap" / "flow_count_differences.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::stringstream ss(line);
    std::string file, ndpi, ours, reason;
    std::getline(ss, file, '\t');
    std::getline(ss, ndpi, '\t');
    std::getline(ss, ours, '\t');
    std::getline(ss, reason);
    m[file] = {ndpi, std::stoull(ours), reason};
  }
  return m;
}

// ndpiReader's "Unique flows" for a capture, or "-" when it prints no summary.
std::string ndpi_unique_flows(const fs::path& pcap) {
  std::string cmd = "ndpiReader -i '" + pcap.string() + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return "?";
  char buf[4096];
  std::string out = "-";
  while (fgets(buf, sizeof(buf), p)) {
    std::string l(buf);
    auto pos = l.find("Unique flows:");
    if (pos != std::string::npos) {
      std::stringstream ss(l.substr(pos + 13));
      uint64_t n;
      if (ss >> n) out = std::to_string(n);
    }
  }
  pclose(p);
  return out;
}

cg::runtime::DataplaneConfig long_timeouts() {
  // ndpiReader keeps flows for the whole capture; so do we here (the default timeouts would
  // split flows that idle for minutes inside a capture).
  auto c = cg::runtime::default_config();
  auto& t = c.pipeline.table.timeouts;
  t.tcp_embryonic = t.tcp_established = t.tcp_closing = t.tcp_closed = t.udp = t.icmp = t.other =
      864000ull * 1'000'000'000ull;
  c.pipeline.table.capacity = 1 << 16;
  return c;
}

std::vector<fs::path> captures() {
  std::vector<fs::path> v;
  for (const auto& e : fs::directory_iterator(corpus_dir())) v.push_back(e.path());
  std::sort(v.begin(), v.end());
  return v;
}

TEST(Corpus, EveryCaptureReplaysAndFlowCountsMatchNdpiReader) {
  ASSERT_TRUE(fs::is_directory(corpus_dir())) << corpus_dir();
  auto files = captures();
  ASSERT_GE(files.size(), 200u);
  auto known = known_differences();
  auto cfg = long_timeouts();
  size_t equal = 0, explained = 0;
  for (const auto& f : files) {
    std::string name = f.filename().string();
    SCOPED_TRACE(name);
    auto res = cg::replay::run(f.string(), cfg);
    ASSERT_TRUE(res.ok) << res.error;
    const auto& r = res.report;
    uint64_t flows = r["totals"]["flows"];
    ASSERT_EQ(flows, r["flows"].size());
    // Every IP packet is in exactly one flow; byte totals agree too.
    uint64_t pkts = 0, bytes = 0;
    for (const auto& fl : r["flows"]) {
      pkts += fl["packets"].get<uint64_t>();
      bytes += fl["bytes"].get<uint64_t>();
      ASSERT_EQ(fl["packets"].get<uint64_t>(),
                fl["src2dst_packets"].get<uint64_t>() + fl["dst2src_packets"].get<uint64_t>());
      ASSERT_GE(fl["last_seen"].get<double>(), fl["first_seen"].get<double>());
      ASSERT_GE(fl["src2dst_packets"].get<uint64_t>(), 1u) << "the source sent the first packet";
    }
    EXPECT_EQ(pkts, r["counters"]["ip_packets"].get<uint64_t>());
    EXPECT_EQ(r["counters"]["packets"].get<uint64_t>(),
              r["counters"]["forwarded"].get<uint64_t>() + r["counters"]["dropped"].get<uint64_t>());

    std::string ndpi = ndpi_unique_flows(f);
    auto it = known.find(name);
    if (it != known.end()) {
      EXPECT_EQ(ndpi, it->second.ndpi) << "ndpiReader's count changed for a listed capture";
      EXPECT_EQ(flows, it->second.ours) << "our count changed for a listed capture: "
                                        << it->second.reason;
      ++explained;
    } else {
      EXPECT_EQ(std::to_string(flows), ndpi)
          << "flow count differs from ndpiReader; fix it or explain it in "
             "tests/pcap/flow_count_differences.tsv";
      ++equal;
    }
  }
  std::printf("corpus: %zu captures, %zu flow counts equal to ndpiReader, %zu explained\n",
              files.size(), equal, explained);
}

TEST(Corpus, DefaultTimeoutsNeverLoseAPacket) {
  // With the live defaults, flows expire inside long captures; packets must still all be
  // accounted, and expiry reasons must be reported.
  auto cfg = cg::runtime::default_config();
  cfg.pipeline.table.capacity = 1 << 12;
  for (const char* name : {"wechat.pcap", "bittorrent.pcap", "synscan.pcap", "youtube_quic.pcap"}) {
    SCOPED_TRACE(name);
    auto res = cg::replay::run((corpus_dir() / name).string(), cfg);
    ASSERT_TRUE(res.ok) << res.error;
    uint64_t pkts = 0;
    for (const auto& fl : res.report["flows"]) {
      pkts += fl["packets"].get<uint64_t>();
      ASSERT_TRUE(fl.contains("end_reason"));
    }
    EXPECT_EQ(pkts, res.report["counters"]["ip_packets"].get<uint64_t>());
  }
}

TEST(Corpus, PerAppTotalsEqualTheFlowsGroupedByApp) {
  // The per-application counters (report and live stats "apps") count every packet once, under
  // the flow's final application, also when flows expire mid-capture: they must equal the
  // report's flows grouped by app ("TLS.YouTube" counts as YouTube, nDPI's app over its master).
  auto cfg = cg::runtime::default_config();
  cfg.pipeline.table.capacity = 1 << 12;
  std::set<std::string> apps_seen;
  for (const char* name : {"wechat.pcap", "bittorrent.pcap", "youtube_quic.pcap", "synscan.pcap",
                           "dns_doh.pcap", "quic-29.pcap"}) {
    SCOPED_TRACE(name);
    auto res = cg::replay::run((corpus_dir() / name).string(), cfg);
    ASSERT_TRUE(res.ok) << res.error;
    std::map<std::string, std::array<uint64_t, 3>> want;  // app -> packets, bytes, flows
    for (const auto& fl : res.report["flows"]) {
      std::string app = fl["app"].get<std::string>();
      if (auto dot = app.rfind('.'); dot != std::string::npos) app = app.substr(dot + 1);
      auto& w = want[app];
      w[0] += fl["packets"].get<uint64_t>();
      w[1] += fl["bytes"].get<uint64_t>();
      w[2] += 1;
    }
    std::map<std::string, std::array<uint64_t, 3>> got;
    uint64_t packets = 0;
    for (const auto& a : res.report["apps"]) {
      got[a["app"].get<std::string>()] = {a["packets"].get<uint64_t>(), a["bytes"].get<uint64_t>(),
                                          a["flows"].get<uint64_t>()};
      packets += a["packets"].get<uint64_t>();
    }
    EXPECT_EQ(got, want);
    EXPECT_EQ(packets, res.report["counters"]["ip_packets"].get<uint64_t>());
    for (const auto& [app, t] : got) apps_seen.insert(app);
  }
  EXPECT_GE(apps_seen.size(), 6u);  // the sample spans several applications
}

TEST(Corpus, UnreadableInputIsAClearError) {
  auto res = cg::replay::run("/nonexistent.pcap", cg::runtime::default_config());
  EXPECT_FALSE(res.ok);
  EXPECT_NE(res.error.find("cannot open capture"), std::string::npos);
}

}  // namespace

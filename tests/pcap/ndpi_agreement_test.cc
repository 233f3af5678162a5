// Agreement with nDPI's own reference: for every flow in ../shared/corpus/ndpi-4.2-results,
// the application campusguard reports for the same capture (replay, same nDPI data files as
// the reference run) must equal the reference's `master.app`. Every disagreement is listed;
// the test fails above 1% of the reference's flows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <arpa/inet.h>

#include "dataplane/main/replay.h"

namespace {

namespace fs = std::filesystem;

fs::path corpus() {
  const char* s = std::getenv("CG_SOURCE_DIR");
  return fs::path(s ? s : ".") / ".." / "shared" / "corpus";
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One text form per address: ndpiReader shortens a single zero group to "::", inet_ntop
// (RFC 5952) does not.
std::string canonical_ip(const std::string& ip) {
  in6_addr a6;
  if (ip.find(':') == std::string::npos || inet_pton(AF_INET6, ip.c_str(), &a6) != 1) return ip;
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(AF_INET6, &a6, buf, sizeof(buf));
  return buf;
}

// "1.2.3.4:80" / "[fe80::1]:80" -> ("1.2.3.4", "80")
std::pair<std::string, std::string> endpoint(const std::string& s) {
  auto colon = s.rfind(':');
  std::string ip = s.substr(0, colon), port = s.substr(colon + 1);
  if (!ip.empty() && ip.front() == '[') ip = ip.substr(1, ip.size() - 2);
  return {canonical_ip(ip), port};
}

// Captures whose flows differ from ndpiReader's for a known reason (tunnels, fuzzed frames):
// tests/pcap/flow_count_differences.tsv, column 4.
std::map<std::string, std::string> known_reasons() {
  std::map<std::string, std::string> m;
  const char* s = std::getenv("CG_SOURCE_DIR");
  std::ifstream in(fs::path(s ? s : ".") / "tests" / "pcap" / "flow_count_differences.tsv");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string c;
    while (std::getline(ss, c, '\t')) cols.push_back(c);
    if (cols.size() >= 4) m[cols[0]] = cols[3];
  }
  const char* kIpInIp =
      "IP-in-IP tunnel: the appliance tracks the outer flow (protocol 4 / 41) as a bridge sees "
      "it; ndpiReader decapsulates and classifies the inner flow";
  m.emplace("4in4tunnel.pcap", kIpInIp);
  m.emplace("4in6tunnel.pcap", kIpInIp);
  return m;
}

std::string key(const std::string& proto, std::pair<std::string, std::string> a,
                std::pair<std::string, std::string> b) {
  if (b < a) std::swap(a, b);
  return upper(proto) + " " + a.first + ":" + a.second + " " + b.first + ":" + b.second;
}

struct Totals {
  size_t flows = 0, agree = 0;
  std::vector<std::string> disagreements;
};

TEST(NdpiAgreement, AppsMatchTheReferenceForEveryFlow) {
  fs::path results = corpus() / "ndpi-4.2-results", example = corpus() / "ndpi-4.2-example";
  ASSERT_TRUE(fs::is_directory(results));
  auto cfg = cg::runtime::default_config();
  auto& t = cfg.pipeline.table.timeouts;
  t.tcp_embryonic = t.tcp_established = t.tcp_closing = t.tcp_closed = t.udp = t.icmp = t.other =
      864000ull * 1'000'000'000ull;
  cfg.pipeline.table.capacity = 1 << 16;
  cfg.pipeline.classifier.max_inspecting = 1 << 14;
  cfg.pipeline.classifier.max_hostnames = 1 << 14;
  cfg.pipeline.classifier.protocols_file = (example / "protos.txt").string();
  cfg.pipeline.classifier.categories_file = (example / "categories.txt").string();
  cfg.pipeline.classifier.risky_domains_file = (example / "risky_domains.txt").string();
  cfg.pipeline.classifier.ja3_file = (example / "ja3_fingerprints.csv").string();
  cfg.pipeline.classifier.sha1_file = (example / "sha1_fingerprints.csv").string();

  const std::regex line_re(
      R"(^\t\d+\t(\S+) (\S+) (?:<->|->) (\S+) (?:\[VLAN: \d+\])?\[proto: [0-9.]+/([^\]]+)\])");
  Totals tot;
  auto reasons = known_reasons();
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(results)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& ref : files) {
    std::string capture = ref.filename().string();
    capture = capture.substr(0, capture.size() - 4);  // strip ".out"
    fs::path pcap = corpus() / "pcap" / capture;
    if (!fs::exists(pcap)) continue;
    auto res = cg::replay::run(pcap.string(), cfg);
    ASSERT_TRUE(res.ok) << capture << ": " << res.error;
    std::multimap<std::string, std::string> ours;
    for (const auto& f : res.report["flows"]) {
      std::string proto = f["proto"].is_string() ? f["proto"].get<std::string>()
                                                 : std::to_string(f["proto"].get<int>());
      ours.emplace(key(proto, {f["src_ip"], std::to_string(f["src_port"].get<int>())},
                       {f["dst_ip"], std::to_string(f["dst_port"].get<int>())}),
                   f.value("app", "?"));
    }
    std::ifstream in(ref);
    std::string line;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, line_re)) continue;
      ++tot.flows;
      std::string k = key(m[1], endpoint(m[2]), endpoint(m[3]));
      std::string want = m[4];
      auto range = ours.equal_range(k);
      std::string got = range.first == range.second ? "(no such flow)" : range.first->second;
      bool ok = false;
      for (auto it = range.first; it != range.second; ++it) ok = ok || it->second == want;
      if (ok) {
        ++tot.agree;
      } else {
        auto why = reasons.find(capture);
        tot.disagreements.push_back(capture + ": " + k + ": reference " + want + ", ours " + got +
                                    (why != reasons.end() ? " — " + why->second : ""));
      }
    }
  }
  for (const auto& d : tot.disagreements) std::printf("disagree: %s\n", d.c_str());
  double rate = tot.flows ? static_cast<double>(tot.disagreements.size()) / tot.flows : 1;
  std::printf("ndpi agreement: %zu reference flows, %zu agree, %zu disagree (%.2f%%)\n", tot.flows,
              tot.agree, tot.disagreements.size(), rate * 100);
  EXPECT_GT(tot.flows, 1000u);
  EXPECT_LE(rate, 0.01) << "more than 1% of the reference flows disagree";
}

}  // namespace

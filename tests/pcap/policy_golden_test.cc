// Policy decisions on real captures: capture + policy (tests/pcap/policies) + expected verdict
// and rule per flow, through the same replay pipeline as `cg-dataplane --replay --policy`.
#include <gtest/gtest.h>

#include <filesystem>

#include "dataplane/main/replay.h"
#include "policies/compiler/policy.h"

namespace {

namespace fs = std::filesystem;

fs::path src() {
  const char* s = std::getenv("CG_SOURCE_DIR");
  return s ? s : ".";
}

nlohmann::json replay(const char* capture, const char* policy) {
  auto compiled = cg::policy::compile_policy_file((src() / "tests/pcap/policies" / policy).string());
  EXPECT_TRUE(compiled.ok()) << policy;
  auto cfg = cg::runtime::default_config();
  cfg.pipeline.table.capacity = 1 << 14;
  cfg.pipeline.classifier.max_inspecting = 1 << 12;
  cfg.pipeline.classifier.max_hostnames = 1 << 12;
  auto res = cg::replay::run((src() / ".." / "shared/corpus/pcap" / capture).string(), cfg,
                             compiled.image);
  EXPECT_TRUE(res.ok) << res.error;
  return res.report;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

TEST(PolicyGolden, VideoOverQuicIsDeniedOthersAllowed) {
  auto r = replay("youtube_quic.pcap", "no-video.yaml");
  uint64_t denied_packets = 0;
  int youtube = 0;
  for (const auto& f : r["flows"]) {
    if (f["app"] == "QUIC.YouTube") {
      ++youtube;
      EXPECT_EQ(f["verdict"], "deny");
      EXPECT_EQ(f["rule"], "no-video");
      denied_packets += f["packets"].get<uint64_t>();
    } else {
      EXPECT_EQ(f["verdict"], "allow") << f.dump();
      EXPECT_EQ(f["rule"], "default");
    }
  }
  EXPECT_EQ(youtube, 1);
  EXPECT_EQ(r["counters"]["drop_policy"].get<uint64_t>(), denied_packets)
      << "every packet of the denied flow is dropped (QUIC detected on the first packet)";
  EXPECT_EQ(r["policy"]["rules"][0]["name"], "no-video");
  EXPECT_EQ(r["policy"]["rules"][0]["flows"], 1);
  EXPECT_EQ(r["policy"]["rules"][0]["packets"].get<uint64_t>(), denied_packets);
}

TEST(PolicyGolden, HostnameWildcardAllowsGoogleOverTls) {
  auto r = replay("android.pcap", "no-video.yaml");
  int google = 0;
  for (const auto& f : r["flows"]) {
    std::string host = f.value("hostname", "");
    std::string app = f.value("app", "");
    if (ends_with(host, ".google.com") && app.find("YouTube") == std::string::npos) {
      ++google;
      EXPECT_EQ(f["rule"], "google-ok") << f.dump();
      EXPECT_EQ(f["verdict"], "allow");
    }
  }
  EXPECT_GE(google, 1);
}

TEST(PolicyGolden, L3L4RuleDeniesDnsToOneResolverAfterEarlierAppRules) {
  // First match wins: a DNS query for a Google name matches google-ok (the DNS query is the
  // flow's hostname) before the L3/L4 rule; every other query to 8.8.8.8 is denied by it.
  auto r = replay("dns_ambiguous_names.pcap", "no-video.yaml");
  int denied = 0, google = 0;
  for (const auto& f : r["flows"]) {
    bool to_resolver = f["dst_ip"] == "8.8.8.8" && f["dst_port"] == 53;
    if (f["proto"] != "UDP" || !to_resolver) continue;
    std::string host = f.value("hostname", ""), app = f.value("app", "");
    if (app.find("YouTube") != std::string::npos) {
      EXPECT_EQ(f["rule"], "no-video") << f.dump();
    } else if (ends_with(host, ".google.com") || ends_with(host, ".googleapis.com")) {
      EXPECT_EQ(f["rule"], "google-ok") << f.dump();
      EXPECT_EQ(f["verdict"], "allow");
      ++google;
    } else {
      EXPECT_EQ(f["rule"], "no-dns-to-8888") << f.dump();
      EXPECT_EQ(f["verdict"], "deny");
      ++denied;
    }
  }
  EXPECT_GE(denied, 1);
  EXPECT_GE(google, 1);
}

TEST(PolicyGolden, ScheduleSwitchesTheRuleOnAndOff) {
  // youtube_quic.pcap starts on Monday 2017-03-13 at 08:10 in Asia/Shanghai.
  auto in = replay("youtube_quic.pcap", "class-hours-in.yaml");
  auto out = replay("youtube_quic.pcap", "class-hours-out.yaml");
  for (const auto& f : in["flows"])
    if (f["app"] == "QUIC.YouTube") {
      EXPECT_EQ(f["verdict"], "deny") << "inside class hours";
    }
  for (const auto& f : out["flows"]) {
    EXPECT_EQ(f["verdict"], "allow") << "outside class hours: " << f.dump();
    EXPECT_EQ(f["rule"], "default");
  }
  EXPECT_GT(in["counters"]["drop_policy"].get<uint64_t>(), 0u);
  EXPECT_EQ(out["counters"]["drop_policy"].get<uint64_t>(), 0u);
}

TEST(PolicyGolden, ExceptAppLetsTheExceptionThrough) {
  auto r = replay("android.pcap", "exam-lockdown.yaml");
  int allowed = 0, denied = 0;
  for (const auto& f : r["flows"]) {
    std::string host = f.value("hostname", "");
    if (ends_with(host, ".google.com")) {
      EXPECT_EQ(f["verdict"], "allow") << f.dump();
      ++allowed;
    } else {
      EXPECT_EQ(f["verdict"], "deny") << f.dump();
      EXPECT_EQ(f["rule"], "lockdown");
      ++denied;
    }
  }
  EXPECT_GE(allowed, 1);
  EXPECT_GE(denied, 1);
}

TEST(PolicyGolden, WithoutAPolicyEverythingIsAllowedAndNoVerdictIsReported) {
  auto cfg = cg::runtime::default_config();
  cfg.pipeline.table.capacity = 1 << 12;
  auto res = cg::replay::run((src() / ".." / "shared/corpus/pcap/youtube_quic.pcap").string(), cfg);
  ASSERT_TRUE(res.ok);
  EXPECT_FALSE(res.report.contains("policy"));
  for (const auto& f : res.report["flows"]) EXPECT_FALSE(f.contains("verdict"));
  EXPECT_EQ(res.report["counters"]["drop_policy"], 0);
}

}  // namespace

// The compiled PolicyImage: ids, ranges and prefixes the dataplane builds rte_acl from.
#include <gtest/gtest.h>
#include <ndpi/ndpi_api.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

const char* kPolicy = R"(apiVersion: campusguard/v1
school: { id: wh-001, name: 乌海市第一中学, district: 海勃湾区, timezone: Asia/Shanghai }
zones:
  classrooms:    { vlans: [101-160, 170] }
  teachers:      { vlans: [20], subnets: [10.20.0.0/16, "2001:db8:20::/48"] }
  student-wifi:  { subnets: [10.50.0.0/16] }
schedules:
  class-hours:   { days: [mon, tue, wed, thu, fri], times: ["08:00-11:50", "14:00-17:30"] }
  exams:         { dates: ["2026-12-20..2026-12-22"], times: ["08:30-11:30"] }
apps:
  games:         { categories: [Game] }
  video:         { protocols: [YouTube, TikTok, NetFlix, YouTube], categories: [Video, Streaming] }
  anonymizers:   { protocols: [Tor], categories: [VPN] }
  teaching:      { hosts: ["*.SmartEdu.cn", www.eduyun.cn] }
rules:
  - { name: teaching-always,  to-app: teaching, action: allow }
  - { name: no-anonymizers,   app: anonymizers, action: deny, alert: high }
  - { name: no-games-in-class, from: [student-wifi, classrooms], app: games, when: class-hours, action: deny }
  - { name: exam-lockdown,    from: classrooms, when: exams, action: deny, except-app: teaching }
  - { name: staff-ssh, from: teachers, dst: [10.10.0.0/24, "2001:db8::1"], dst-ports: [22, "8000-8080"], action: log }
  - { name: no-smb-out, to: teachers, protocol: tcp, dst-ports: 445, action: deny, reset: true }
default: deny
inspection: { max-packets: 16, while-inspecting: drop }
)";

TEST(PolicyCompiler, ImageCarriesEverything) {
  CompileOptions opt;
  opt.generation = 42;
  auto r = compile_policy(kPolicy, "wh-001.yaml", opt);
  ASSERT_TRUE(r.ok()) << dump(r);
  const api::PolicyImage& im = *r.image;
  EXPECT_EQ(im.format, api::kPolicyImageFormat);
  EXPECT_EQ(im.generation, 42u);
  EXPECT_EQ(im.source_digest, fnv1a64(kPolicy));
  EXPECT_EQ(im.school_id, "wh-001");
  EXPECT_EQ(im.school_name, "乌海市第一中学");
  EXPECT_EQ(im.timezone.name, "Asia/Shanghai");
  EXPECT_EQ(im.default_action, api::Action::kDeny);
  EXPECT_EQ(im.inspection.max_packets, 16);
  EXPECT_EQ(im.inspection.while_inspecting, api::WhileInspecting::kDrop);

  ASSERT_EQ(im.zones.size(), 3u);
  EXPECT_EQ(im.zones[0].name, "classrooms");
  ASSERT_EQ(im.zones[0].vlans.size(), 2u);
  EXPECT_EQ(im.zones[0].vlans[0].lo, 101);
  EXPECT_EQ(im.zones[0].vlans[0].hi, 160);
  EXPECT_EQ(im.zones[0].vlans[1].lo, 170);
  EXPECT_EQ(im.zones[0].vlans[1].hi, 170);
  ASSERT_EQ(im.zones[1].v4.size(), 1u);
  EXPECT_EQ(im.zones[1].v4[0].addr, 0x0a140000u);
  EXPECT_EQ(im.zones[1].v4[0].len, 16);
  ASSERT_EQ(im.zones[1].v6.size(), 1u);
  EXPECT_EQ(im.zones[1].v6[0].addr[0], 0x20);
  EXPECT_EQ(im.zones[1].v6[0].addr[5], 0x20);
  EXPECT_EQ(im.zones[1].v6[0].len, 48);

  // App groups resolved to nDPI 4.2 ids (constants from nDPI's own headers).
  ASSERT_EQ(im.apps.size(), 4u);
  const auto& video = im.apps[1];
  EXPECT_EQ(video.protocols, (std::vector<uint16_t>{NDPI_PROTOCOL_TIKTOK, NDPI_PROTOCOL_YOUTUBE,
                                                    NDPI_PROTOCOL_NETFLIX}));
  EXPECT_EQ(video.categories, (std::vector<uint16_t>{NDPI_PROTOCOL_CATEGORY_STREAMING,
                                                     NDPI_PROTOCOL_CATEGORY_VIDEO}));
  EXPECT_EQ(im.apps[0].categories, (std::vector<uint16_t>{NDPI_PROTOCOL_CATEGORY_GAME}));
  EXPECT_EQ(im.apps[2].protocols, (std::vector<uint16_t>{NDPI_PROTOCOL_TOR}));
  const auto& teaching = im.apps[3];
  ASSERT_EQ(teaching.hosts.size(), 2u);
  EXPECT_TRUE(teaching.hosts[0].wildcard);
  EXPECT_EQ(teaching.hosts[0].name, "smartedu.cn");  // lower-cased
  EXPECT_FALSE(teaching.hosts[1].wildcard);

  ASSERT_EQ(im.rules.size(), 6u);
  const auto& r0 = im.rules[0];
  EXPECT_EQ(r0.name, "teaching-always");
  EXPECT_EQ(r0.line, 16u);
  EXPECT_EQ(r0.apps, (std::vector<uint16_t>{3}));
  EXPECT_EQ(r0.app_direction, api::AppDirection::kToApp);
  EXPECT_TRUE(r0.needs_app());
  EXPECT_EQ(im.rules[1].alert, api::Severity::kHigh);
  EXPECT_EQ(im.rules[1].app_direction, api::AppDirection::kAnyDirection);
  const auto& r2 = im.rules[2];
  EXPECT_EQ(r2.from_zones, (std::vector<uint16_t>{0, 2}));  // sorted ids
  EXPECT_EQ(r2.schedule, 0);
  EXPECT_EQ(r2.action, api::Action::kDeny);
  const auto& r3 = im.rules[3];
  EXPECT_TRUE(r3.apps.empty());
  EXPECT_EQ(r3.except_apps, (std::vector<uint16_t>{3}));
  EXPECT_EQ(r3.schedule, 1);
  const auto& r4 = im.rules[4];
  EXPECT_EQ(r4.action, api::Action::kLog);
  EXPECT_FALSE(r4.needs_app());
  EXPECT_EQ(r4.schedule, api::kNoSchedule);
  ASSERT_EQ(r4.dst_v4.size(), 1u);
  EXPECT_EQ(r4.dst_v4[0].addr, 0x0a0a0000u);
  ASSERT_EQ(r4.dst_v6.size(), 1u);
  EXPECT_EQ(r4.dst_v6[0].len, 128);
  EXPECT_FALSE(r4.dst_any_family);
  EXPECT_TRUE(r4.src_any_family);
  ASSERT_EQ(r4.dst_ports.size(), 2u);
  EXPECT_EQ(r4.dst_ports[1].lo, 8000);
  EXPECT_EQ(r4.dst_ports[1].hi, 8080);
  EXPECT_EQ(r4.l4_protocols, (std::vector<uint8_t>{6, 17}));  // ports imply tcp/udp
  const auto& r5 = im.rules[5];
  EXPECT_EQ(r5.to_zones, (std::vector<uint16_t>{1}));
  EXPECT_EQ(r5.l4_protocols, (std::vector<uint8_t>{6}));
  EXPECT_TRUE(r5.tcp_reset);
}

TEST(PolicyCompiler, AppAndHostMatchHelpers) {
  auto r = compile_policy(kPolicy, "wh-001.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const auto& video = r.image->apps[1];
  const auto& teaching = r.image->apps[3];
  // QUIC.YouTube: master QUIC, app YouTube.
  EXPECT_TRUE(api::app_matches(video, NDPI_PROTOCOL_QUIC, NDPI_PROTOCOL_YOUTUBE,
                               NDPI_PROTOCOL_CATEGORY_MEDIA, ""));
  EXPECT_TRUE(api::app_matches(video, NDPI_PROTOCOL_TLS, NDPI_PROTOCOL_UNKNOWN,
                               NDPI_PROTOCOL_CATEGORY_VIDEO, ""));
  EXPECT_FALSE(api::app_matches(video, NDPI_PROTOCOL_TLS, NDPI_PROTOCOL_UNKNOWN,
                                NDPI_PROTOCOL_CATEGORY_WEB, "www.example.cn"));
  EXPECT_TRUE(api::app_matches(teaching, NDPI_PROTOCOL_TLS, 0, 0, "basic.smartedu.cn"));
  EXPECT_TRUE(api::app_matches(teaching, NDPI_PROTOCOL_TLS, 0, 0, "a.b.smartedu.cn"));
  EXPECT_FALSE(api::app_matches(teaching, NDPI_PROTOCOL_TLS, 0, 0, "smartedu.cn"));
  EXPECT_FALSE(api::app_matches(teaching, NDPI_PROTOCOL_TLS, 0, 0, "evilsmartedu.cn"));
  EXPECT_TRUE(api::app_matches(teaching, NDPI_PROTOCOL_TLS, 0, 0, "www.eduyun.cn"));
  EXPECT_FALSE(api::app_matches(teaching, NDPI_PROTOCOL_TLS, 0, 0, "x.www.eduyun.cn"));
}

TEST(PolicyCompiler, ErrorsMeanNoImage) {
  std::string bad = kPolicy;
  bad.replace(bad.find("Tor"), 3, "Toor");
  auto r = compile_policy(bad, "bad.yaml");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.image);
}

TEST(PolicyCompiler, FileErrorsAreDiagnostics) {
  auto r = compile_policy_file("/nonexistent/policy.yaml");
  ASSERT_EQ(r.error_count(), 1);
  EXPECT_EQ(format_diagnostic(r.diagnostics[0]).rfind("/nonexistent/policy.yaml: error: ", 0), 0u)
      << format_diagnostic(r.diagnostics[0]);
}

TEST(PolicyCompiler, DiagnosticFormat) {
  Diagnostic d{DiagSeverity::kError,
               "p.yaml",
               12,
               7,
               "apps.video.protocols[0]",
               "unknown protocol 'Youtube' (did you mean 'YouTube'?)"};
  EXPECT_EQ(format_diagnostic(d),
            "p.yaml:12:7: error: apps.video.protocols[0]: unknown protocol 'Youtube' (did you "
            "mean 'YouTube'?)");
  d.severity = DiagSeverity::kWarning;
  d.path.clear();
  EXPECT_EQ(format_diagnostic(d).substr(0, 22), "p.yaml:12:7: warning: ");
}

TEST(PolicyCompiler, ExamplesAreValidWithoutWarnings) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator(source_dir() + "/policies/examples")) {
    if (e.path().extension() != ".yaml") continue;
    ++n;
    auto r = compile_policy_file(e.path().string());
    EXPECT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.warning_count(), 0) << dump(r);
    if (r.image) {
      EXPECT_FALSE(r.image->rules.empty()) << e.path();
    }
  }
  EXPECT_GE(n, 3);
}

TEST(PolicyCompiler, CheckedInSchemaIsTheGeneratedOne) {
  std::ifstream in(source_dir() + "/policies/schema/policy.schema.json");
  ASSERT_TRUE(in) << "policies/schema/policy.schema.json missing";
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, policy_json_schema_text())
      << "regenerate: cgctl policy schema > policies/schema/policy.schema.json";
}

}  // namespace
}  // namespace cg::policy

// api::evaluate — the reference meaning of a compiled policy that the dataplane must reproduce.
#include <gtest/gtest.h>
#include <ndpi/ndpi_api.h>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

const char* kPolicy = R"(apiVersion: campusguard/v1
school: { id: wh-001, name: 乌海市第一中学, timezone: Asia/Shanghai }
zones:
  classrooms: { vlans: [101-160] }
  dorms:      { vlans: [301-340], subnets: [10.60.0.0/16] }
  servers:    { subnets: [10.10.0.0/24, "2001:db8:10::/64"] }
schedules:
  class-hours: { days: [weekdays], times: ["08:00-11:50", "14:00-17:30"] }
apps:
  teaching: { hosts: ["*.smartedu.cn"] }
  video:    { protocols: [YouTube, TikTok], categories: [Video] }
  p2p:      { protocols: [BitTorrent] }
rules:
  - { name: teaching, to-app: teaching, action: allow }
  - { name: no-p2p-dorms, from: dorms, app: p2p, action: deny, reset: true, alert: medium }
  - { name: no-video-in-class, from: classrooms, app: video, when: class-hours, action: deny }
  - { name: servers-ssh, to: servers, protocol: tcp, dst-ports: 22, action: deny, alert: high }
  - { name: log-dorms, from: dorms, action: log }
default: allow
)";

constexpr uint16_t kClassrooms = 0, kDorms = 1, kServers = 2;

class Evaluate : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = compile_policy(kPolicy, "eval.yaml");
    ASSERT_TRUE(r.ok()) << dump(r);
    im_ = r.image;
  }
  api::FlowFacts tcp(uint16_t from, uint16_t to, uint16_t dport) {
    api::FlowFacts f;
    f.client_zone = from;
    f.server_zone = to;
    f.l4_protocol = 6;
    f.client_port = 50000;
    f.server_port = dport;
    return f;
  }
  std::shared_ptr<const api::PolicyImage> im_;
  // Monday 2026-11-30 09:00 and 20:00 in Shanghai.
  const int64_t in_class_ = utc(2026, 11, 30, 1, 0);
  const int64_t evening_ = utc(2026, 11, 30, 12, 0);
};

TEST_F(Evaluate, PendingUntilTheAppIsKnownThenDecided) {
  const uint64_t mask = api::active_schedule_mask(*im_, in_class_);
  auto f = tcp(kClassrooms, api::kNoZone, 443);
  auto v = api::evaluate(*im_, f, mask);
  EXPECT_TRUE(v.pending);  // rule 0 (teaching) needs the app
  EXPECT_EQ(v.rule, 0);
  EXPECT_EQ(v.action, api::Action::kAllow);  // while-inspecting: pass
  f.app_known = true;
  f.master_protocol = NDPI_PROTOCOL_QUIC;
  f.app_protocol = NDPI_PROTOCOL_YOUTUBE;
  f.category = NDPI_PROTOCOL_CATEGORY_MEDIA;
  f.host = "www.youtube.com";
  v = api::evaluate(*im_, f, mask);
  EXPECT_FALSE(v.pending);
  EXPECT_EQ(v.rule, 2);
  EXPECT_EQ(v.action, api::Action::kDeny);
  // Same flow in the evening: the schedule is off, nothing else matches -> default.
  v = api::evaluate(*im_, f, api::active_schedule_mask(*im_, evening_));
  EXPECT_EQ(v.rule, api::kDefaultRule);
  EXPECT_EQ(v.action, api::Action::kAllow);
}

TEST_F(Evaluate, TeachingHostWinsDuringClass) {
  auto f = tcp(kClassrooms, api::kNoZone, 443);
  f.app_known = true;
  f.master_protocol = NDPI_PROTOCOL_TLS;
  f.category = NDPI_PROTOCOL_CATEGORY_VIDEO;  // even if nDPI calls it video
  f.host = "basic.smartedu.cn";
  auto v = api::evaluate(*im_, f, api::active_schedule_mask(*im_, in_class_));
  EXPECT_EQ(v.rule, 0);
  EXPECT_EQ(v.action, api::Action::kAllow);
}

TEST_F(Evaluate, AppRulesMatchBothWaysToAppOnlyAsOpened) {
  // BitTorrent opened from outside towards a dorm host: `app: p2p` matches swapped.
  auto f = tcp(api::kNoZone, kDorms, 6881);
  f.app_known = true;
  f.app_protocol = NDPI_PROTOCOL_BITTORRENT;
  auto v = api::evaluate(*im_, f, 0);
  EXPECT_EQ(v.rule, 1);
  EXPECT_TRUE(v.tcp_reset);
  EXPECT_EQ(v.alert, api::Severity::kMedium);
  // A teaching host serving a connection opened from outside: to-app does not match swapped.
  auto g = tcp(api::kNoZone, kClassrooms, 443);
  g.app_known = true;
  g.master_protocol = NDPI_PROTOCOL_TLS;
  g.host = "x.smartedu.cn";
  // rule 0 matches as opened (to-app has no zone condition), so check with a zone-bound rule:
  EXPECT_EQ(api::evaluate(*im_, g, 0).rule, 0);
  // log-dorms (no app) matches only flows opened by dorms.
  auto h = tcp(api::kNoZone, kDorms, 80);
  h.app_known = true;
  h.master_protocol = NDPI_PROTOCOL_HTTP;
  EXPECT_EQ(api::evaluate(*im_, h, 0).rule, api::kDefaultRule);
  auto k = tcp(kDorms, api::kNoZone, 80);
  k.app_known = true;
  k.master_protocol = NDPI_PROTOCOL_HTTP;
  EXPECT_EQ(api::evaluate(*im_, k, 0).rule, 4);
  EXPECT_EQ(api::evaluate(*im_, k, 0).action, api::Action::kLog);
}

TEST_F(Evaluate, PortsProtocolsAndAddresses) {
  auto f = tcp(kClassrooms, kServers, 22);
  f.app_known = true;
  f.server_v4 = 0x0a0a0005;
  EXPECT_EQ(api::evaluate(*im_, f, 0).rule, 3);
  f.server_port = 2222;
  EXPECT_EQ(api::evaluate(*im_, f, 0).rule, api::kDefaultRule);
  f.server_port = 22;
  f.l4_protocol = 17;
  EXPECT_EQ(api::evaluate(*im_, f, 0).rule, api::kDefaultRule);
  // Out-of-range schedule bits and app ids are never trusted.
  EXPECT_FALSE(api::schedule_active(*im_, 64, in_class_));
}

TEST(EvaluateHelpers, PrefixMatching) {
  std::vector<api::Ipv4Prefix> v4{{0x0a140000, 16}, {0, 0}};
  EXPECT_TRUE(api::v4_in({v4[0]}, 0x0a14ff01));
  EXPECT_FALSE(api::v4_in({v4[0]}, 0x0a15ff01));
  EXPECT_TRUE(api::v4_in({v4[1]}, 0xffffffff));
  api::Ipv6Prefix p;
  p.addr = {0x20, 0x01, 0x0d, 0xb8, 0, 0x10};
  p.len = 44;
  std::array<uint8_t, 16> a{0x20, 0x01, 0x0d, 0xb8, 0, 0x1f, 0xff};
  EXPECT_TRUE(api::v6_in({p}, a));
  a[5] = 0x20;
  EXPECT_FALSE(api::v6_in({p}, a));
}

}  // namespace
}  // namespace cg::policy

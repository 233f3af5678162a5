// Ruleset rendering (controlplane/nft): what goes into the one nftables transaction.
#include <gtest/gtest.h>

#include "controlplane/nft/nft.h"

namespace cg::nft {
namespace {

TEST(NftPrefix, CanonicalAndRejects) {
  std::string c;
  bool v6 = true;
  ASSERT_TRUE(parse_prefix("10.1.2.3", &c, &v6));
  EXPECT_EQ(c, "10.1.2.3");
  EXPECT_FALSE(v6);
  ASSERT_TRUE(parse_prefix("10.1.2.3/24", &c, &v6));
  EXPECT_EQ(c, "10.1.2.0/24");
  ASSERT_TRUE(parse_prefix("2001:DB8::1/32", &c, &v6));
  EXPECT_EQ(c, "2001:db8::/32");
  EXPECT_TRUE(v6);
  ASSERT_TRUE(parse_prefix("::ffff:192.0.2.1", &c, &v6));
  EXPECT_EQ(c, "192.0.2.1");
  EXPECT_FALSE(v6);
  for (const char* bad : {"", "x", "10.0.0.1/33", "::/129", "10.0.0.1/", "10.0.0.1/a",
                          "10.0.0.1 }; flush ruleset; {", "evil.example", "10.0.0.1/-1"})
    EXPECT_FALSE(parse_prefix(bad, &c, &v6)) << bad;
}

TEST(NftRender, OneTransactionThatRecreatesOnlyItsOwnTable) {
  ManagementConfig cfg;
  cfg.admin_subnets = {"192.168.10.0/24", "2001:db8:a::/48", "10.0.0.7"};
  std::string s;
  ASSERT_TRUE(render_ruleset(cfg, {{"10.1.2.3", 7200}, {"2001:db8::7", 0}}, &s));
  // Create-if-missing, delete, define: one buffer, one transaction; nothing else is named.
  EXPECT_EQ(s.rfind("table inet campusguard\ndelete table inet campusguard\ntable inet "
                    "campusguard {\n",
                    0),
            0u)
      << s;
  EXPECT_EQ(s.find("flush ruleset"), std::string::npos);
  EXPECT_EQ(s.find("table ip "), std::string::npos);
  EXPECT_NE(s.find("elements = { 10.0.0.7, 192.168.10.0/24 }"), std::string::npos) << s;
  EXPECT_NE(s.find("elements = { 2001:db8:a::/48 }"), std::string::npos) << s;
  EXPECT_NE(s.find("elements = { 10.1.2.3 timeout 7200s }"), std::string::npos) << s;
  EXPECT_NE(s.find("elements = { 2001:db8::7 }"), std::string::npos) << s;
  EXPECT_NE(s.find("tcp dport { 22, 443, 8443 } ip saddr @admin4 accept"), std::string::npos);
  EXPECT_NE(s.find("udp dport { 161 } ip6 saddr @admin6 accept"), std::string::npos);
  // Quarantine before conntrack (an open session is cut as well); loopback accepted.
  EXPECT_LT(s.find("ip saddr @quarantine4"), s.find("ct state established,related accept"));
  EXPECT_NE(s.find("iif \"lo\" accept"), std::string::npos);
  std::string again;
  ASSERT_TRUE(render_ruleset(cfg, {{"2001:db8::7", 0}, {"10.1.2.3", 7200}}, &again));
  EXPECT_EQ(s, again) << "deterministic whatever the input order";
}

TEST(NftRender, EmptySetsHaveNoElementsAndPortsAreConfigurable) {
  ManagementConfig cfg;
  cfg.table = "cg_test";
  cfg.ssh_ports = {2222};
  cfg.https_ports = {};
  cfg.snmp_ports = {};
  std::string s;
  ASSERT_TRUE(render_ruleset(cfg, {}, &s));
  EXPECT_EQ(s.find("elements"), std::string::npos) << s;
  EXPECT_NE(s.find("tcp dport { 2222 } counter drop"), std::string::npos) << s;
  EXPECT_EQ(s.find("udp dport"), std::string::npos);
  EXPECT_NE(s.find("table inet cg_test {"), std::string::npos);
}

TEST(NftRender, DisabledRemovesTheTable) {
  ManagementConfig cfg;
  cfg.enabled = false;
  std::string s;
  ASSERT_TRUE(render_ruleset(cfg, {{"10.1.2.3", 60}}, &s));
  EXPECT_EQ(s, "table inet campusguard\ndelete table inet campusguard\n");
}

TEST(NftRender, RejectsWhatWouldInjectOrBreak) {
  ManagementConfig cfg;
  std::string s = "unchanged";
  cfg.admin_subnets = {"10.0.0.0/8 }; flush ruleset; add table x {"};
  EXPECT_FALSE(render_ruleset(cfg, {}, &s));
  cfg.admin_subnets = {};
  EXPECT_FALSE(render_ruleset(cfg, {{"not-an-address", 1}}, &s));
  cfg.table = "campusguard; flush ruleset";
  EXPECT_FALSE(render_ruleset(cfg, {}, &s));
  cfg.table = "campusguard";
  cfg.snmp_ports = {0};
  EXPECT_FALSE(render_ruleset(cfg, {}, &s));
  EXPECT_EQ(s, "unchanged");
}

}  // namespace
}  // namespace cg::nft

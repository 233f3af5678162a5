// Real libnftables in a private network namespace (the test unshares one before anything
// runs; needs root): the table listed back (`nft -j list table`) is what was asked, a foreign
// table in the same namespace is untouched, and a refused transaction leaves the old ruleset.
#include <gtest/gtest.h>
#include <sched.h>

#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "controlplane/nft/nft.h"

namespace cg::nft {
namespace {

using nlohmann::json;

// The elements of set NAME in a `nft -j list table` document, as "addr[/len]" strings.
std::set<std::string> elements(const json& doc, const std::string& name) {
  std::set<std::string> out;
  for (const auto& o : doc["nftables"]) {
    if (!o.contains("set") || o["set"]["name"] != name) continue;
    for (const auto& e : o["set"].value("elem", json::array())) {
      json v = e.contains("elem") ? e["elem"]["val"] : e;
      if (v.is_string()) {
        out.insert(v.get<std::string>());
      } else if (v.contains("prefix")) {
        out.insert(v["prefix"]["addr"].get<std::string>() + "/" +
                   std::to_string(v["prefix"]["len"].get<int>()));
      }
    }
  }
  return out;
}

json list(Nftables& n, const std::string& table) {
  std::string text;
  Status s = n.list_table_json(table, &text);
  EXPECT_TRUE(s) << s.message();
  return json::parse(text, nullptr, false);
}

size_t rules_in(const json& doc, const std::string& chain) {
  size_t n = 0;
  for (const auto& o : doc["nftables"])
    if (o.contains("rule") && o["rule"]["chain"] == chain) ++n;
  return n;
}

class NftNetns : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (unshare(CLONE_NEWNET) != 0) {
      std::perror("unshare(CLONE_NEWNET)");
      FAIL() << "this test needs root (a private network namespace for nftables)";
    }
  }
};

TEST_F(NftNetns, RulesetIsWhatWasAskedForeignTableUntouchedBadTransactionKeepsOld) {
  Nftables n;
  // A foreign table, as another tool (firewalld, docker, the admin) would have.
  Status foreign = n.run("table ip other {\n  chain c {\n    type filter hook input priority 0;\n"
                         "    tcp dport 9999 drop\n  }\n}\n");
  ASSERT_TRUE(foreign) << foreign.message();
  std::string before;
  ASSERT_TRUE(n.list_table_json_family("ip", "other", &before));

  ManagementConfig cfg;
  cfg.admin_subnets = {"192.168.10.0/24", "10.0.0.7", "2001:db8:a::/48"};
  Status s = n.apply(cfg, {{"10.1.2.3", 7200}, {"10.9.0.0/24", 60}, {"2001:db8::7", 0}});
  ASSERT_TRUE(s) << s.message();
  json doc = list(n, "campusguard");
  EXPECT_EQ(elements(doc, "admin4"), (std::set<std::string>{"10.0.0.7", "192.168.10.0/24"}));
  EXPECT_EQ(elements(doc, "admin6"), (std::set<std::string>{"2001:db8:a::/48"}));
  EXPECT_EQ(elements(doc, "quarantine4"), (std::set<std::string>{"10.1.2.3", "10.9.0.0/24"}));
  EXPECT_EQ(elements(doc, "quarantine6"), (std::set<std::string>{"2001:db8::7"}));
  const size_t input_rules = rules_in(doc, "input");
  EXPECT_EQ(input_rules, 10u);
  EXPECT_EQ(rules_in(doc, "output"), 2u);
  // Per-element timeout as asked.
  bool timeout_seen = false;
  for (const auto& o : doc["nftables"])
    if (o.contains("set") && o["set"]["name"] == "quarantine4")
      for (const auto& e : o["set"]["elem"])
        if (e.contains("elem") && e["elem"]["val"] == "10.1.2.3")
          timeout_seen = e["elem"]["timeout"] == 7200;
  EXPECT_TRUE(timeout_seen) << doc.dump();

  // Re-applying replaces the whole table in one go (no duplicated rules, old elements gone).
  ASSERT_TRUE(n.apply(cfg, {{"10.1.2.4", 60}}));
  doc = list(n, "campusguard");
  EXPECT_EQ(elements(doc, "quarantine4"), (std::set<std::string>{"10.1.2.4"}));
  EXPECT_EQ(elements(doc, "quarantine6"), (std::set<std::string>{}));
  EXPECT_EQ(rules_in(doc, "input"), input_rules);

  // A transaction the kernel refuses (a rule jumping to a chain that does not exist) changes
  // nothing: our table is the previous one.
  std::string good;
  ASSERT_TRUE(render_ruleset(cfg, {{"10.1.2.5", 60}}, &good));
  std::string bad = good;
  bad.insert(bad.rfind("  }\n}\n"), "    jump no_such_chain\n");
  Status r = n.run(bad);
  EXPECT_FALSE(r);
  EXPECT_EQ(r.message().rfind("nftables: ", 0), 0u) << r.message();  // nft's own error text
  doc = list(n, "campusguard");
  EXPECT_EQ(elements(doc, "quarantine4"), (std::set<std::string>{"10.1.2.4"}));
  EXPECT_EQ(rules_in(doc, "input"), input_rules);
  EXPECT_EQ(n.failures(), 1u);

  std::string after;
  ASSERT_TRUE(n.list_table_json_family("ip", "other", &after));
  EXPECT_EQ(before, after) << "the foreign table was touched";

  // Disabled: our table goes, the foreign one stays.
  cfg.enabled = false;
  ASSERT_TRUE(n.apply(cfg, {}));
  std::string gone;
  EXPECT_EQ(n.list_table_json("campusguard", &gone).code(), cp::Code::kNotFound);
  ASSERT_TRUE(n.list_table_json_family("ip", "other", &after));
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace cg::nft

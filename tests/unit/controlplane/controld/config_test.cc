#include <gtest/gtest.h>

#include "controlplane/config/config.h"

namespace cg::config {
namespace {

TEST(ControldConfig, DefaultsAndOverrides) {
  std::vector<std::string> e;
  auto c = parse_config("", "c.yaml", &e);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(c.api_port, 8443u);
  EXPECT_EQ(c.store_backend, "sqlite");
  EXPECT_EQ(c.db_path(), "/var/lib/campusguard/controld.db");
  EXPECT_EQ(c.lockout_failures, 5u);
  c = parse_config("state_dir: /tmp/x\napi: {port: 9443}\nstore: {backend: postgresql, "
                   "postgresql: 'host=/run/pg'}\ndataplane: {reconcile_interval: 0.5}\n",
                   "c.yaml", &e);
  ASSERT_TRUE(e.empty()) << e[0];
  EXPECT_EQ(c.api_port, 9443u);
  EXPECT_EQ(c.cert_path(), "/tmp/x/tls/cert.pem");
  EXPECT_EQ(c.pg_conninfo, "host=/run/pg");
  EXPECT_DOUBLE_EQ(c.reconcile_interval_s, 0.5);
}

TEST(ControldConfig, EveryProblemIsReportedWithPosition) {
  std::vector<std::string> e;
  parse_config("api:\n  prot: 1\n  port: 70000\nstore: {backend: mysql}\nauth: {lockout_failures: x}\n",
               "c.yaml", &e);
  ASSERT_EQ(e.size(), 4u);
  EXPECT_EQ(e[0], "c.yaml:2:3: api.prot: unknown key (did you mean 'api.port'?)");
  EXPECT_NE(e[1].find("c.yaml:3:9: api.port: value 70000 out of range"), std::string::npos);
  EXPECT_NE(e[2].find("store.backend: 'mysql' is not one of sqlite|postgresql"),
            std::string::npos);
  EXPECT_NE(e[3].find("auth.lockout_failures: expected an integer"), std::string::npos);
  e.clear();
  parse_config("store: {backend: postgresql}\n", "c.yaml", &e);
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].find("store.postgresql: required"), std::string::npos);
}

TEST(ControldConfig, HelpListsEveryKey) {
  auto h = config_help();
  for (const char* k : {"role", "api.port", "store.backend", "store.postgresql",
                        "dataplane.socket", "auth.lockout_failures", "policy.keep_revisions"})
    EXPECT_NE(h.find(std::string("  ") + k + " ("), std::string::npos) << k;
}

}  // namespace
}  // namespace cg::config

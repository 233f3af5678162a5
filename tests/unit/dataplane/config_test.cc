#include "dataplane/runtime/config.h"

#include <gtest/gtest.h>

namespace cg::runtime {
namespace {

std::vector<ConfigError> errors_of(const std::string& yaml) {
  std::vector<ConfigError> e;
  parse_config(yaml, "t.yaml", &e);
  return e;
}

constexpr const char* kPorts = "ports: { inside: net_null0, outside: net_null1 }\n";

TEST(Config, DefaultsAndValues) {
  std::vector<ConfigError> e;
  auto c = parse_config(std::string(kPorts) +
                            "workers: 1\nflow_table: { capacity: 4096, on_full: drop }\n"
                            "timeouts: { udp: 2.5 }\nframes: { non_ip: drop }\n",
                        "t.yaml", &e);
  ASSERT_TRUE(e.empty()) << e[0].message;
  EXPECT_EQ(c.inside, "net_null0");
  EXPECT_EQ(c.pipeline.table.capacity, 4096u);
  EXPECT_EQ(c.pipeline.table.on_full, flow::OnFull::kDrop);
  EXPECT_EQ(c.pipeline.table.timeouts.udp, 2'500'000'000ull);
  EXPECT_EQ(c.pipeline.table.timeouts.icmp, 30'000'000'000ull) << "default kept";
  EXPECT_EQ(c.pipeline.non_ip, pipeline::FrameAction::kDrop);
  EXPECT_EQ(c.pipeline.malformed, pipeline::FrameAction::kDrop);
  EXPECT_EQ(c.socket, "/run/campusguard/dataplane.sock");
}

TEST(Config, UnknownKeyNamesLineColumnAndSuggests) {
  auto e = errors_of(std::string(kPorts) + "flow_tabel:\n  capacity: 10\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message,
            "t.yaml:2:1: flow_tabel: unknown key (did you mean 'flow_table'?)");
  e = errors_of(std::string(kPorts) + "flow_table:\n  capacityy: 10\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_EQ(e[0].message,
            "t.yaml:3:3: flow_table.capacityy: unknown key (did you mean 'flow_table.capacity'?)");
}

TEST(Config, TypeAndRangeErrorsNameTheKey) {
  auto e = errors_of(std::string(kPorts) + "workers: two\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("t.yaml:2:10: workers: expected an integer, got 'two'"),
            std::string::npos)
      << e[0].message;
  e = errors_of(std::string(kPorts) + "workers: 0\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("workers: value 0 out of range [1, 64]"), std::string::npos);
  e = errors_of(std::string(kPorts) + "flow_table: { on_full: explode }\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("'explode' is not one of evict|forward|drop"), std::string::npos);
  e = errors_of(std::string(kPorts) + "eal: { hugepages: maybe }\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("eal.hugepages: expected true or false"), std::string::npos);
  e = errors_of(std::string(kPorts) + "timeouts: { udp: -1 }\nworkers: 1.5\n");
  EXPECT_EQ(e.size(), 2u) << "every error is reported, not just the first";
}

TEST(Config, RequiredAndConsistency) {
  auto e = errors_of("workers: 1\n");
  ASSERT_EQ(e.size(), 2u);
  EXPECT_NE(e[0].message.find("ports.inside: required"), std::string::npos);
  e = errors_of("ports: { inside: net_null0, outside: net_null0 }\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("same device"), std::string::npos);
  e = errors_of("ports: [a, b]\n");
  ASSERT_EQ(e.size(), 1u);
  EXPECT_NE(e[0].message.find("ports: expected a mapping"), std::string::npos);
  e = errors_of("ports: {inside: [\n");
  ASSERT_EQ(e.size(), 1u) << "YAML syntax errors have a position too";
  EXPECT_EQ(e[0].message.rfind("t.yaml:", 0), 0u);
}

TEST(Config, EalArgumentsDeriveFromConfig) {
  std::vector<ConfigError> e;
  auto c = parse_config(
      "ports: { inside: 'net_af_packet0,iface=cgin', outside: '0000:03:00.0' }\n"
      "eal: { memory_mb: 512, file_prefix: lab }\n",
      "t.yaml", &e);
  ASSERT_TRUE(e.empty());
  auto a = c.eal_args("cg-dataplane");
  auto has = [&](const std::string& s) { return std::find(a.begin(), a.end(), s) != a.end(); };
  EXPECT_TRUE(has("--no-huge"));
  EXPECT_TRUE(has("--vdev=net_af_packet0,iface=cgin"));
  EXPECT_TRUE(has("0000:03:00.0"));
  EXPECT_TRUE(has("--file-prefix=lab"));
  EXPECT_TRUE(has("512"));
  EXPECT_FALSE(has("--no-pci")) << "a PCI device is allowed";
}

TEST(Config, HelpListsEveryKey) {
  auto h = config_help();
  for (const char* k : {"ports.inside", "workers", "flow_table.capacity", "flow_table.on_full",
                        "timeouts.tcp_established", "frames.malformed", "control.socket"})
    EXPECT_NE(h.find(k), std::string::npos) << k;
}

}  // namespace
}  // namespace cg::runtime

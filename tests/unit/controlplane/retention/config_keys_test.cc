// The retention.* keys of controld.yaml: defaults, overrides, ranges, --help-config.
#include <gtest/gtest.h>

#include "controlplane/config/config.h"

namespace cg::config {
namespace {

TEST(RetentionConfig, DefaultsOverridesAndRanges) {
  std::vector<std::string> e;
  auto c = parse_config("", "c.yaml", &e);
  ASSERT_TRUE(e.empty());
  EXPECT_EQ(c.retention_days, 180u);
  EXPECT_EQ(c.retention_disk_budget_mb, 10240u);
  EXPECT_DOUBLE_EQ(c.retention_interval_s, 300);
  EXPECT_EQ(c.retention_batch, 2000u);
  c = parse_config("retention: {days: 365, disk_budget_mb: 0, interval: 1.5, batch: 100}\n",
                   "c.yaml", &e);
  ASSERT_TRUE(e.empty()) << e[0];
  EXPECT_EQ(c.retention_days, 365u);
  EXPECT_EQ(c.retention_disk_budget_mb, 0u);
  EXPECT_DOUBLE_EQ(c.retention_interval_s, 1.5);
  EXPECT_EQ(c.retention_batch, 100u);
  parse_config("retention: {days: 0, batch: 5, dayz: 3}\n", "c.yaml", &e);
  ASSERT_EQ(e.size(), 3u);
  auto has = [&e](const std::string& what) {
    for (const auto& x : e)
      if (x.find(what) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(has("retention.days: value 0 out of range")) << e[0];
  EXPECT_TRUE(has("retention.batch: value 5 out of range")) << e[1];
  EXPECT_TRUE(has("retention.dayz: unknown key (did you mean 'retention.days'?)")) << e[2];
  auto h = config_help();
  for (const char* k : {"retention.days", "retention.disk_budget_mb", "retention.interval",
                        "retention.batch"})
    EXPECT_NE(h.find(std::string("  ") + k + " ("), std::string::npos) << k;
}

}  // namespace
}  // namespace cg::config

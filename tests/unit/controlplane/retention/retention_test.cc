// Retention over both backends: the store's primitives, the age horizon, the disk budget (cap,
// oldest first, the SQLite file stops growing) and the warning event.
#include <nlohmann/json.hpp>

#include "controlplane/retention/retention.h"
#include "tests/unit/controlplane/retention/fixture.h"

namespace cg::testing {
namespace {

constexpr int64_t kHour = 3600 * kSec;

using RetentionTest = BackendTest;

TEST_P(RetentionTest, StoreDeletesOldestFirstInBatches) {
  insert_events(0, 100, kT0, kHour);  // event i at kT0 - (99 - i) h
  int64_t n = 0;
  std::vector<int64_t> batches;
  do {
    ASSERT_TRUE(store_->delete_events_before(kT0 - 49 * kHour, 20, &n));
    batches.push_back(n);
  } while (n == 20);
  EXPECT_EQ(batches, (std::vector<int64_t>{20, 20, 10}));
  EXPECT_EQ(total(), 50);
  int64_t oldest = 0;
  bool found = false;
  ASSERT_TRUE(store_->oldest_event(&oldest, &found));
  ASSERT_TRUE(found);
  EXPECT_EQ(oldest, kT0 - 49 * kHour);
  int64_t newest_deleted = 0;
  ASSERT_TRUE(store_->delete_oldest_events(5, &n, &newest_deleted));
  EXPECT_EQ(n, 5);
  EXPECT_EQ(newest_deleted, kT0 - 45 * kHour);
  ASSERT_TRUE(store_->count_events_since(kT0 - 9 * kHour, &n));
  EXPECT_EQ(n, 10);
  int64_t bytes = 0;
  ASSERT_TRUE(store_->store_bytes(&bytes));
  EXPECT_GT(bytes, 45 * 200);
  ASSERT_TRUE(store_->reclaim_space());
  ASSERT_TRUE(store_->delete_oldest_events(1000, &n, &newest_deleted));
  EXPECT_EQ(n, 45);
  ASSERT_TRUE(store_->oldest_event(&oldest, &found));
  EXPECT_FALSE(found);
}

TEST_P(RetentionTest, AgeHorizonDeletesOnlyOlderEvents) {
  insert_events(0, 200, kT0, kDay);  // ages 199 .. 0 days
  retention::Retention r(*store_, *audit_, clock_, {180, 0, 7, 100, "s1"});
  ASSERT_TRUE(r.run_once());
  auto c = r.counters();
  EXPECT_EQ(c.deleted_age, 19u);  // older than 180 days: ages 181 .. 199
  EXPECT_EQ(c.deleted_budget, 0u);
  EXPECT_EQ(c.projected_days, -1);  // no budget
  EXPECT_EQ(total(), 181);
  ASSERT_TRUE(r.run_once());
  EXPECT_EQ(r.counters().deleted_age, 19u);
  clock_.advance_us(kDay);
  ASSERT_TRUE(r.run_once());
  EXPECT_EQ(r.counters().deleted_age, 20u);
  EXPECT_GT(r.counters().store_bytes, 0);
  EXPECT_NE(r.metrics_text().find("cg_controld_retention_deleted_total{reason=\"age\"} 20"),
            std::string::npos)
      << r.metrics_text();
}

std::vector<store::Event> system_events(store::Store& s) {
  store::EventQuery q;
  q.event_type = "system";
  store::EventPage page;
  EXPECT_TRUE(s.query_events(q, &page));
  return page.events;
}

TEST_P(RetentionTest, BudgetDeletesOldestAndWarnsOncePerDay) {
  insert_events(0, 2000, kT0, 2 * kDay / 2000);  // 1000 events a day over two days
  int64_t bytes = 0;
  ASSERT_TRUE(store_->store_bytes(&bytes));
  const uint64_t budget = static_cast<uint64_t>(bytes) / 2;
  std::vector<store::Event> sunk;
  auto sink = [&sunk](const std::vector<store::Event>& v) {
    sunk.insert(sunk.end(), v.begin(), v.end());
  };
  retention::RetentionConfig cfg{180, budget, 300, 100, "s1"};
  {
    retention::Retention r(*store_, *audit_, clock_, cfg, sink);
    ASSERT_TRUE(r.run_once());
    auto c = r.counters();
    EXPECT_GT(c.deleted_budget, 900u);
    EXPECT_EQ(c.deleted_age, 0u);
    ASSERT_GT(c.event_cap, 0);
    EXPECT_LE(total(), c.event_cap + 1);  // + the warning event
    EXPECT_NEAR(static_cast<double>(c.events_per_day), 1000.0, 10.0);
    EXPECT_EQ(c.projected_days, 0);  // fewer than a thousand events fit
    EXPECT_EQ(c.budget_deletes_from_us, kT0);  // the cap is reached: from now on
    EXPECT_EQ(c.warnings, 1u);
    // The oldest went first: what is left is the newest.
    int64_t oldest = 0;
    bool found = false;
    ASSERT_TRUE(store_->oldest_event(&oldest, &found));
    EXPECT_GT(oldest, kT0 - kDay);
    ASSERT_EQ(sunk.size(), 1u);
    EXPECT_EQ(sunk[0].event_type, "system");
    EXPECT_EQ(sunk[0].event_id, "retention-budget-2025-11-30");
    auto stored = system_events(*store_);
    ASSERT_EQ(stored.size(), 1u);
    auto body = nlohmann::json::parse(stored[0].body);
    EXPECT_EQ(body["event_type"], "system");
    EXPECT_EQ(body["system"]["retention_days"], 180);
    EXPECT_EQ(body["system"]["days_held"], 0);
    EXPECT_EQ(body["system"]["deletes_young_events_from"], "2025-11-30");
    EXPECT_NE(stored[0].signature.find("less than retention.days (180)"), std::string::npos)
        << stored[0].signature;
    // Same day: no second warning.
    ASSERT_TRUE(r.run_once());
    EXPECT_EQ(r.counters().warnings, 1u);
    EXPECT_NE(r.metrics_text().find("cg_controld_retention_projected_days 0"), std::string::npos);
  }
  // A restart on the same day does not warn again (the event id is per day).
  {
    retention::Retention r(*store_, *audit_, clock_, cfg, sink);
    ASSERT_TRUE(r.run_once());
    EXPECT_EQ(r.counters().warnings, 0u);
    EXPECT_EQ(sunk.size(), 1u);
    // The next day, still too small: a new warning.
    insert_events(100000, 1000, kT0 + kDay, kDay / 1000);
    clock_.advance_us(kDay);
    ASSERT_TRUE(r.run_once());
    EXPECT_EQ(r.counters().warnings, 1u);
    ASSERT_EQ(sunk.size(), 2u);
    EXPECT_EQ(sunk[1].event_id, "retention-budget-2025-12-01");
    auto stored = system_events(*store_);  // yesterday's may have gone with the oldest events
    ASSERT_FALSE(stored.empty());
    EXPECT_EQ(stored[0].event_id, "retention-budget-2025-12-01");
  }
}

TEST_P(RetentionTest, BudgetThatHoldsRetentionDoesNotWarn) {
  insert_events(0, 2000, kT0, 2 * kDay / 2000);
  int64_t bytes = 0;
  ASSERT_TRUE(store_->store_bytes(&bytes));
  // 400 days of 1000 events a day fit.
  retention::Retention r(*store_, *audit_, clock_,
                         {180, static_cast<uint64_t>(bytes) * 250, 300, 100, "s1"});
  ASSERT_TRUE(r.run_once());
  auto c = r.counters();
  EXPECT_EQ(c.deleted_budget, 0u);
  EXPECT_EQ(c.event_cap, -1);
  EXPECT_GT(c.projected_days, 180);
  EXPECT_EQ(c.budget_deletes_from_us, 0);
  EXPECT_EQ(c.warnings, 0u);
  EXPECT_TRUE(system_events(*store_).empty());
}

uint64_t sqlite_file_bytes(const std::string& path) {
  std::error_code ec;
  uint64_t n = std::filesystem::file_size(path, ec);
  auto wal = std::filesystem::file_size(path + "-wal", ec);
  return n + (ec ? 0 : wal);
}

// Steady ingest against a budget: the number of events stays under the cap and (SQLite, where
// incremental_vacuum returns pages at once) the file stops growing at the budget.
TEST_P(RetentionTest, SteadyIngestStaysWithinBudget) {
  int64_t t = kT0 - 30 * kDay;
  insert_events(0, 3000, t, kSec);
  int64_t bytes = 0;
  ASSERT_TRUE(store_->store_bytes(&bytes));
  const uint64_t budget = static_cast<uint64_t>(bytes) * 8 / 10;
  retention::Retention r(*store_, *audit_, clock_, {180, budget, 250, 100, "s1"});
  std::vector<uint64_t> file;
  for (int round = 1; round <= 12; ++round) {
    t += 1000 * kSec;
    insert_events(round * 10000, 1000, t, kSec);
    ASSERT_TRUE(r.run_once());
    auto c = r.counters();
    ASSERT_GT(c.event_cap, 0);
    EXPECT_LE(total(), c.event_cap) << "round " << round;
    if (GetParam() == "sqlite") file.push_back(sqlite_file_bytes(cfg_.sqlite_path));
  }
  EXPECT_GT(r.counters().deleted_budget, 12000u - 3000u);
  for (size_t i = 0; i < file.size(); ++i)
    EXPECT_LE(file[i], budget * 11 / 10) << "SQLite file after round " << i + 1;
}

INSTANTIATE_TEST_SUITE_P(Backends, RetentionTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace cg::testing

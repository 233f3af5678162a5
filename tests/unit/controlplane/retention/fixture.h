// One store per test, SQLite (temp file) or a real PostgreSQL (one server per test run, a fresh
// schema per test), with a manual clock and the audit log over it; `raw()` is a second
// connection for what an attacker with database access would do.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>

#include "controlplane/audit/audit_log.h"
#include "controlplane/common/util.h"
#include "controlplane/store/sql.h"
#include "controlplane/store/store.h"
#include "tests/unit/controlplane/pg_server.h"

namespace cg::testing {

inline constexpr int64_t kSec = 1000000;
inline constexpr int64_t kDay = 86400 * kSec;
inline constexpr int64_t kT0 = 1764460800LL * kSec;  // 2025-11-30T00:00:00Z

inline store::Event make_event(int64_t i, int64_t ts_us) {
  store::Event e;
  e.event_id = "ev-" + std::to_string(i);
  e.ts_us = ts_us;
  e.event_type = "alert";
  e.severity = 2;
  e.src_ip = "10.1.0." + std::to_string(i % 200);
  e.src_port = 40000;
  e.dest_ip = "203.0.113.7";
  e.dest_port = 443;
  e.proto = "TCP";
  e.app_proto = "TLS";
  e.rule = "scan";
  e.signature = "port scan";
  e.school_id = "s1";
  e.zone = "classrooms";
  e.community_id = "1:abc";
  e.body = "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + std::string(200, 'x') + "\"}";
  return e;
}

class BackendTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    cfg_.backend = GetParam();
    if (cfg_.backend == "sqlite") {
      std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
      for (char& ch : name)
        if (ch == '/') ch = '_';  // "Test/sqlite": one directory, removed whole in TearDown
      dir_ = std::filesystem::temp_directory_path() /
             ("cg-retention-" + std::to_string(getpid()) + "-" + name);
      std::filesystem::remove_all(dir_);
      std::filesystem::create_directories(dir_);
      cfg_.sqlite_path = (dir_ / "store.db").string();
    } else {
      if (!pg_) {
        pg_ = new PgServer();
        std::string err;
        ASSERT_TRUE(pg_->start(&err)) << "cannot start the test PostgreSQL server: " << err;
      }
      cfg_.pg_conninfo = pg_->conninfo();
      std::unique_ptr<store::SqlConnection> c;
      ASSERT_TRUE(store::open_postgresql(cfg_.pg_conninfo, &c)) << "connect";
      ASSERT_TRUE(c->exec_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
    }
    reopen();
  }
  void TearDown() override {
    audit_.reset();
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  // A controld restart: a new store connection and audit log over the same database.
  void reopen() {
    audit_.reset();
    store_.reset();
    auto s = store::open_store(cfg_, &store_);
    ASSERT_TRUE(s) << s.message();
    audit_ = std::make_unique<audit::AuditLog>(*store_, clock_);
  }

  std::unique_ptr<store::SqlConnection> raw() {
    std::unique_ptr<store::SqlConnection> c;
    auto s = cfg_.backend == "sqlite" ? store::open_sqlite(cfg_.sqlite_path, &c)
                                      : store::open_postgresql(cfg_.pg_conninfo, &c);
    EXPECT_TRUE(s) << s.message();
    return c;
  }

  // `n` events, one every `step_us`, the newest at `newest_us`; ids from `first`.
  void insert_events(int64_t first, int64_t n, int64_t newest_us, int64_t step_us) {
    std::vector<store::Event> v;
    for (int64_t i = 0; i < n; ++i) {
      v.push_back(make_event(first + i, newest_us - (n - 1 - i) * step_us));
      if (v.size() == 500 || i == n - 1) {
        size_t inserted = 0;
        ASSERT_TRUE(store_->insert_events(v, &inserted));
        ASSERT_EQ(inserted, v.size());
        v.clear();
      }
    }
  }

  int64_t total() {
    int64_t n = -1;
    EXPECT_TRUE(store_->total_events(&n));
    return n;
  }

  static inline PgServer* pg_ = nullptr;
  store::StoreConfig cfg_;
  std::filesystem::path dir_;
  cp::ManualClock clock_{kT0};
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<audit::AuditLog> audit_;
};

}  // namespace cg::testing

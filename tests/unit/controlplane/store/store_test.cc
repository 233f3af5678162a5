// The same store suite against SQLite (temp file) and a real PostgreSQL server started here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "controlplane/store/sql.h"
#include "controlplane/store/store.h"
#include "tests/unit/controlplane/pg_server.h"

namespace cg::store {
namespace {

constexpr int64_t kSec = 1000000;
constexpr int64_t kT0 = 1764460800LL * kSec;  // 2025-11-30T00:00:00Z

Event make_event(int i) {
  Event e;
  e.event_id = "ev-" + std::to_string(i);
  e.ts_us = kT0 + i * kSec;
  e.event_type = i % 3 == 0 ? "alert" : "policy";
  e.severity = i % 4 + 1;
  e.src_ip = "10.1.0." + std::to_string(i % 5);
  e.src_port = 40000 + i;
  e.dest_ip = "203.0.113." + std::to_string(i % 7);
  e.dest_port = 443;
  e.proto = "TCP";
  e.app_proto = i % 2 ? "TLS" : "HTTP";
  e.rule = i % 2 ? "no-games" : "scan";
  e.signature = "sig";
  e.school_id = "s1";
  e.zone = "classrooms";
  e.community_id = "1:abc";
  e.body = "{\"i\":" + std::to_string(i) + "}";
  return e;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {}
  void SetUp() override {
    StoreConfig cfg;
    cfg.backend = GetParam();
    if (cfg.backend == "sqlite") {
      dir_ = std::filesystem::temp_directory_path() /
             ("cg-store-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
      std::filesystem::remove_all(dir_);
      cfg.sqlite_path = (dir_ / "sub" / "store.db").string();
    } else {
      if (!pg()) {
        pg_ = new cg::testing::PgServer();
        std::string err;
        ASSERT_TRUE(pg_->start(&err)) << "cannot start the test PostgreSQL server: " << err;
      }
      cfg.pg_conninfo = pg()->conninfo();
      std::unique_ptr<SqlConnection> c;
      ASSERT_TRUE(open_postgresql(cfg.pg_conninfo, &c)) << "connect";
      ASSERT_TRUE(c->exec_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
    }
    auto s = open_store(cfg, &store_);
    ASSERT_TRUE(s) << s.message();
    EXPECT_EQ(store_->backend(), cfg.backend);
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  static cg::testing::PgServer* pg() { return pg_; }

  void insert(int n) {
    std::vector<Event> v;
    for (int i = 0; i < n; ++i) v.push_back(make_event(i));
    size_t inserted = 0;
    auto s = store_->insert_events(v, &inserted);
    ASSERT_TRUE(s) << s.message();
    ASSERT_EQ(inserted, static_cast<size_t>(n));
  }

  static inline cg::testing::PgServer* pg_ = nullptr;
  std::filesystem::path dir_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, InsertIsIdempotentByEventId) {
  insert(200);
  std::vector<Event> again = {make_event(5), make_event(500)};
  size_t inserted = 0;
  ASSERT_TRUE(store_->insert_events(again, &inserted));
  EXPECT_EQ(inserted, 1u);
  int64_t total = 0;
  ASSERT_TRUE(store_->total_events(&total));
  EXPECT_EQ(total, 201);
}

// fresh_ids names exactly the rows inserted (what the alert engine is fed), across chunks.
TEST_P(StoreTest, FreshIdsNameOnlyNewRows) {
  insert(10);
  std::vector<Event> v = {make_event(3), make_event(10), make_event(7)};
  for (int i = 11; i < 700; ++i) v.push_back(make_event(i));  // more than one INSERT chunk
  size_t inserted = 0;
  std::vector<std::string> fresh;
  ASSERT_TRUE(store_->insert_events(v, &inserted, &fresh));
  EXPECT_EQ(inserted, 690u);
  ASSERT_EQ(fresh.size(), 690u);
  std::set<std::string> ids(fresh.begin(), fresh.end());
  EXPECT_EQ(ids.size(), 690u);
  EXPECT_TRUE(ids.count(make_event(10).event_id));
  EXPECT_FALSE(ids.count(make_event(3).event_id));
  EXPECT_FALSE(ids.count(make_event(7).event_id));
}

// The alert engine's catch-up cursor: ascending row ids after a given one, in pages.
TEST_P(StoreTest, ListEventsAfterWalksRowIdsInOrder) {
  std::vector<Event> out;
  int64_t last = -1;
  ASSERT_TRUE(store_->list_events_after(0, 10, &out, &last));
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(last, 0);
  insert(25);
  std::vector<std::string> seen;
  int64_t cursor = 0;
  for (;;) {
    ASSERT_TRUE(store_->list_events_after(cursor, 10, &out, &last));
    if (out.empty()) break;
    EXPECT_LE(out.size(), 10u);
    for (const auto& e : out) {
      EXPECT_GT(e.id, cursor);
      cursor = e.id;
      seen.push_back(e.event_id);
    }
  }
  ASSERT_EQ(seen.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], make_event(i).event_id);
  EXPECT_EQ(last, cursor);
  ASSERT_TRUE(store_->list_events_after(cursor - 1, 10, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].body, make_event(24).body);
}

TEST_P(StoreTest, QueryFiltersAndFieldsRoundTrip) {
  insert(100);
  EventQuery q;
  q.limit = 1000;
  EventPage page;
  ASSERT_TRUE(store_->query_events(q, &page));
  ASSERT_EQ(page.events.size(), 100u);
  EXPECT_EQ(page.events[0].event_id, "ev-99");  // newest first
  const Event& e = page.events[0];
  Event want = make_event(99);
  EXPECT_EQ(e.ts_us, want.ts_us);
  EXPECT_EQ(e.src_ip, want.src_ip);
  EXPECT_EQ(e.src_port, want.src_port);
  EXPECT_EQ(e.severity, want.severity);
  EXPECT_EQ(e.body, want.body);
  EXPECT_EQ(page.next_cursor, "");

  auto count = [&](EventQuery f) {
    f.limit = 1000;
    EventPage p;
    auto s = store_->query_events(f, &p);
    EXPECT_TRUE(s) << s.message();
    return static_cast<int>(p.events.size());
  };
  EventQuery f;
  f.event_type = "alert";
  EXPECT_EQ(count(f), 34);
  f = {};
  f.address = "10.1.0.3";
  EXPECT_EQ(count(f), 20);
  f = {};
  f.address = "203.0.113.0";
  EXPECT_EQ(count(f), 15);
  f = {};
  f.app = "TLS";
  EXPECT_EQ(count(f), 50);
  f = {};
  f.rule = "scan";
  f.max_severity = 2;  // severities 1 and 2 among even i: i%4 in {0} -> 1 only... count below
  int want_count = 0;
  for (int i = 0; i < 100; ++i)
    if (i % 2 == 0 && i % 4 + 1 <= 2) ++want_count;
  EXPECT_EQ(count(f), want_count);
  f = {};
  f.from_us = kT0 + 10 * kSec;
  f.to_us = kT0 + 20 * kSec;
  EXPECT_EQ(count(f), 10);
}

TEST_P(StoreTest, PaginationVisitsEveryEventOnce) {
  insert(250);
  EventQuery q;
  q.limit = 40;
  std::set<std::string> seen;
  int pages = 0;
  for (;;) {
    EventPage p;
    auto s = store_->query_events(q, &p);
    ASSERT_TRUE(s) << s.message();
    ++pages;
    for (const auto& e : p.events) EXPECT_TRUE(seen.insert(e.event_id).second) << e.event_id;
    if (p.next_cursor.empty()) break;
    q.cursor = p.next_cursor;
  }
  EXPECT_EQ(seen.size(), 250u);
  EXPECT_EQ(pages, 7);
  q.cursor = "garbage";
  EventPage p;
  EXPECT_EQ(store_->query_events(q, &p).code(), cp::Code::kInvalid);
}

TEST_P(StoreTest, CountsPerBucket) {
  insert(100);  // one per second from kT0
  std::vector<BucketCount> b;
  EventQuery q;
  ASSERT_TRUE(store_->count_events(q, 30 * kSec, &b));
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[0].start_us, kT0);
  EXPECT_EQ(b[0].count, 30);
  EXPECT_EQ(b[3].start_us, kT0 + 90 * kSec);
  EXPECT_EQ(b[3].count, 10);
  q.event_type = "alert";
  ASSERT_TRUE(store_->count_events(q, 3600 * kSec, &b));
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].count, 34);
}

TEST_P(StoreTest, RevisionsNumberedListedPruned) {
  for (int i = 0; i < 120; ++i) {
    Revision r;
    r.created_us = kT0 + i;
    r.user = "alice";
    r.comment = "c" + std::to_string(i);
    r.action = "apply";
    r.origin = "p.yaml";
    r.source = "text " + std::to_string(i) + "\n中文";
    r.sha256 = "x";
    r.generation = static_cast<uint64_t>(i + 1);
    ASSERT_TRUE(store_->add_revision(&r));
    EXPECT_EQ(r.number, i + 1);
  }
  Revision r;
  ASSERT_TRUE(store_->get_revision(7, &r));
  EXPECT_EQ(r.source, "text 6\n中文");
  EXPECT_EQ(r.comment, "c6");
  EXPECT_EQ(r.generation, 7u);
  EXPECT_EQ(store_->get_revision(999, &r).code(), cp::Code::kNotFound);
  std::vector<Revision> list;
  ASSERT_TRUE(store_->list_revisions(1000, &list));
  ASSERT_EQ(list.size(), 120u);
  EXPECT_EQ(list[0].number, 120);
  ASSERT_TRUE(store_->prune_revisions(100));
  ASSERT_TRUE(store_->list_revisions(1000, &list));
  EXPECT_EQ(list.size(), 100u);
  EXPECT_EQ(list.back().number, 21);
}

TEST_P(StoreTest, AuditIsAppendOnly) {
  AuditRecord a;
  a.seq = 1;
  a.ts_us = kT0;
  a.user = "bob";
  a.action = "login";
  a.detail = "{}";
  a.prev_hash = "0";
  a.hash = "h1";
  ASSERT_TRUE(store_->insert_audit(a));
  EXPECT_EQ(store_->insert_audit(a).code(), cp::Code::kConflict);
  a.seq = 2;
  a.hash = "h2";
  ASSERT_TRUE(store_->insert_audit(a));
  AuditRecord last;
  bool found = false;
  ASSERT_TRUE(store_->last_audit(&last, &found));
  ASSERT_TRUE(found);
  EXPECT_EQ(last.seq, 2);
  std::vector<AuditRecord> list;
  ASSERT_TRUE(store_->list_audit(0, 10, &list));
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].hash, "h1");
}

TEST_P(StoreTest, UsersAndState) {
  User u{"alice", "secadmin", "$argon2id$x", 0, 0, kT0};
  ASSERT_TRUE(store_->put_user(u));
  ASSERT_TRUE(store_->set_login_state("alice", 3, kT0 + 5));
  User got;
  ASSERT_TRUE(store_->get_user("alice", &got));
  EXPECT_EQ(got.role, "secadmin");
  EXPECT_EQ(got.failed, 3);
  EXPECT_EQ(got.locked_until_us, kT0 + 5);
  EXPECT_EQ(store_->get_user("nobody", &got).code(), cp::Code::kNotFound);
  u.role = "auditor";
  ASSERT_TRUE(store_->put_user(u));
  std::vector<User> users;
  ASSERT_TRUE(store_->list_users(&users));
  ASSERT_EQ(users.size(), 1u);
  EXPECT_EQ(users[0].role, "auditor");

  std::string v;
  bool found = true;
  ASSERT_TRUE(store_->get_state("pending", &v, &found));
  EXPECT_FALSE(found);
  ASSERT_TRUE(store_->put_state("pending", "{\"a\":1}"));
  ASSERT_TRUE(store_->put_state("pending", "{\"a\":2}"));
  ASSERT_TRUE(store_->get_state("pending", &v, &found));
  EXPECT_TRUE(found);
  EXPECT_EQ(v, "{\"a\":2}");
  ASSERT_TRUE(store_->delete_state("pending"));
  ASSERT_TRUE(store_->get_state("pending", &v, &found));
  EXPECT_FALSE(found);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

TEST(StoreOpen, UnknownBackendAndUnreachableServer) {
  std::unique_ptr<Store> s;
  StoreConfig c;
  c.backend = "mysql";
  EXPECT_EQ(open_store(c, &s).code(), cp::Code::kInvalid);
  c.backend = "postgresql";
  c.pg_conninfo = "host=/nonexistent port=1 connect_timeout=1";
  EXPECT_EQ(open_store(c, &s).code(), cp::Code::kUnavailable);
}

}  // namespace
}  // namespace cg::store

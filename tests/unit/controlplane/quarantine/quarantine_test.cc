// Quarantine service (controlplane/quarantine) with a manual clock, the fake dataplane and a
// recording nftables sink over a SQLite store; and the quarantine table in both store backends
// (SQLite and a real PostgreSQL started by the test).
#include "controlplane/quarantine/quarantine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "controlplane/dpclient/fake_dataplane.h"
#include "controlplane/store/sql.h"
#include "tests/unit/controlplane/pg_server.h"

namespace cg::quarantine {
namespace {

constexpr int64_t kSec = 1000000;
constexpr int64_t kT0 = 1764460800LL * kSec;  // 2025-11-30T00:00:00Z

struct RecordingNft : NftSink {
  std::vector<std::vector<nft::QuarantineElement>> calls;
  bool fail = false;
  Status apply(const std::vector<nft::QuarantineElement>& e) override {
    if (fail) return cp::invalid("nftables: refused");
    calls.push_back(e);
    return {};
  }
};

std::filesystem::path temp_dir(const std::string& tag) {
  auto d = std::filesystem::temp_directory_path() /
           ("cg-quarantine-" + std::to_string(getpid()) + "-" + tag);
  std::filesystem::remove_all(d);
  return d;
}

struct Fixture {
  std::filesystem::path dir = temp_dir(
      ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::unique_ptr<store::Store> store;
  cp::ManualClock clock{kT0};
  std::unique_ptr<audit::AuditLog> audit;
  dpclient::FakeDataplane dp;
  RecordingNft nft;
  Fixture() {
    store::StoreConfig c;
    c.sqlite_path = (dir / "s.db").string();
    EXPECT_TRUE(store::open_store(c, &store));
    audit = std::make_unique<audit::AuditLog>(*store, clock);
  }
  ~Fixture() { std::filesystem::remove_all(dir); }
  std::vector<std::string> actions() {
    std::vector<store::AuditRecord> recs;
    EXPECT_TRUE(store->list_audit(0, 1000, &recs));
    std::vector<std::string> a;
    for (const auto& r : recs) a.push_back(r.action + " " + r.object + " " + r.user);
    return a;
  }
};

TEST(QuarantineDuration, Parses) {
  int64_t s = 0;
  ASSERT_TRUE(parse_duration("2h", &s));
  EXPECT_EQ(s, 7200);
  ASSERT_TRUE(parse_duration("1h30m", &s));
  EXPECT_EQ(s, 5400);
  ASSERT_TRUE(parse_duration("3s", &s));
  EXPECT_EQ(s, 3);
  ASSERT_TRUE(parse_duration("90", &s));
  EXPECT_EQ(s, 90);
  ASSERT_TRUE(parse_duration("7d", &s));
  EXPECT_EQ(s, 7 * 86400);
  for (const char* bad : {"", "h", "2x", "-1h", "0s", "1.5h", "99999999999h"})
    EXPECT_FALSE(parse_duration(bad, &s)) << bad;
}

TEST(QuarantineService, AddBlocksAtOnceListsExpiresAndAuditsEverything) {
  Fixture f;
  Service svc(*f.store, *f.audit, f.dp, f.clock, &f.nft);
  ASSERT_TRUE(svc.start());
  store::QuarantineEntry e;
  nlohmann::json pushed;
  ASSERT_TRUE(svc.add("10.1.2.3", 7200, "worm on port 445", "sec1", &e, &pushed));
  EXPECT_EQ(pushed["dataplane"], "ok");
  EXPECT_EQ(pushed["nftables"], "ok");
  EXPECT_EQ(f.dp.quarantine(), nlohmann::json({"10.1.2.3"})) << "pushed at once";
  ASSERT_FALSE(f.nft.calls.empty());
  ASSERT_EQ(f.nft.calls.back().size(), 1u);
  EXPECT_EQ(f.nft.calls.back()[0].address, "10.1.2.3");
  EXPECT_EQ(f.nft.calls.back()[0].timeout_s, 7200) << "the kernel lifts it too if we die";
  ASSERT_TRUE(svc.add("10.9.0.77/24", 3, "lab", "sec2", nullptr, nullptr));
  EXPECT_EQ(f.dp.quarantine(), nlohmann::json({"10.1.2.3", "10.9.0.0/24"}));

  auto l = svc.list();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].address, "10.9.0.0/24") << "soonest expiry first";
  auto j = Service::to_json(l[1], f.clock.now_us());
  EXPECT_EQ(j["owner"], "sec1");
  EXPECT_EQ(j["reason"], "worm on port 445");
  EXPECT_EQ(j["since"], "2025-11-30T00:00:00.000000Z");
  EXPECT_EQ(j["expires"], "2025-11-30T02:00:00.000000Z");
  EXPECT_EQ(j["remaining_seconds"], 7200);

  f.clock.advance_us(2 * kSec);
  EXPECT_EQ(svc.tick(), 0u);
  f.clock.advance_us(1 * kSec);
  EXPECT_EQ(svc.tick(), 1u) << "expired at its deadline";
  EXPECT_EQ(f.dp.quarantine(), nlohmann::json({"10.1.2.3"}));
  EXPECT_EQ(f.nft.calls.back().size(), 1u);
  EXPECT_EQ(f.nft.calls.back()[0].timeout_s, 7197);

  nlohmann::json p2;
  ASSERT_TRUE(svc.remove("10.1.2.3", "sec3", &p2));
  EXPECT_EQ(f.dp.quarantine(), nlohmann::json::array());
  EXPECT_TRUE(f.nft.calls.back().empty());
  EXPECT_EQ(svc.remove("10.1.2.3", "sec3", nullptr).code(), cp::Code::kNotFound);

  auto a = f.actions();
  EXPECT_EQ(a, (std::vector<std::string>{"quarantine.add 10.1.2.3 sec1",
                                         "quarantine.add 10.9.0.0/24 sec2",
                                         "quarantine.expire 10.9.0.0/24 controld",
                                         "quarantine.remove 10.1.2.3 sec3"}));
  audit::VerifyResult v;
  ASSERT_TRUE(f.audit->verify(&v));
  EXPECT_TRUE(v.ok) << v.problem;
  auto c = svc.counters();
  EXPECT_EQ(c.added, 2u);
  EXPECT_EQ(c.expired, 1u);
  EXPECT_EQ(c.removed, 1u);
  EXPECT_EQ(c.active, 0u);
}

TEST(QuarantineService, RejectsBadInputAndChangesNothing) {
  Fixture f;
  Service svc(*f.store, *f.audit, f.dp, f.clock, &f.nft);
  ASSERT_TRUE(svc.start());
  EXPECT_EQ(svc.add("not-an-ip", 60, "r", "u", nullptr, nullptr).code(), cp::Code::kInvalid);
  EXPECT_EQ(svc.add("10.0.0.1/33", 60, "r", "u", nullptr, nullptr).code(), cp::Code::kInvalid);
  EXPECT_EQ(svc.add("10.0.0.1", 0, "r", "u", nullptr, nullptr).code(), cp::Code::kInvalid);
  EXPECT_EQ(svc.add("10.0.0.1", 60, "", "u", nullptr, nullptr).code(), cp::Code::kInvalid);
  EXPECT_TRUE(svc.list().empty());
  EXPECT_TRUE(f.actions().empty());
  Limits small;
  small.max_entries = 1;
  Service tiny(*f.store, *f.audit, f.dp, f.clock, nullptr, small);
  ASSERT_TRUE(tiny.add("10.0.0.1", 60, "r", "u", nullptr, nullptr));
  EXPECT_EQ(tiny.add("10.0.0.2", 60, "r", "u", nullptr, nullptr).code(), cp::Code::kConflict);
  EXPECT_TRUE(tiny.add("10.0.0.1", 120, "renew", "u", nullptr, nullptr)) << "renewal fits";
}

TEST(QuarantineService, DataplaneRestartAndControldRestartGetTheFullList) {
  Fixture f;
  {
    Service svc(*f.store, *f.audit, f.dp, f.clock, &f.nft);
    ASSERT_TRUE(svc.start());
    f.dp.set_down(true);
    nlohmann::json pushed;
    ASSERT_TRUE(svc.add("2001:db8::7", 600, "r", "u", nullptr, &pushed))
        << "stored and audited even when the dataplane is away";
    EXPECT_NE(pushed["dataplane"], "ok");
    EXPECT_EQ(pushed["nftables"], "ok");
    f.dp.set_down(false);
    svc.tick();
    EXPECT_EQ(f.dp.quarantine(), nlohmann::json({"2001:db8::7"})) << "retried by the tick";
    const int sets = f.dp.quarantine_sets();
    svc.tick();
    EXPECT_EQ(f.dp.quarantine_sets(), sets) << "in sync: nothing pushed";
    f.dp.restart();
    svc.tick();
    EXPECT_EQ(f.dp.quarantine(), nlohmann::json({"2001:db8::7"})) << "after a dataplane restart";
  }
  // controld restarts: the list comes from the store; what expired meanwhile is lifted.
  ASSERT_TRUE(f.store->put_quarantine({"10.5.5.5", "old", "gone", kT0 - 10 * kSec, kT0 - kSec}));
  f.dp.restart();
  Service again(*f.store, *f.audit, f.dp, f.clock, &f.nft);
  ASSERT_TRUE(again.start());
  ASSERT_EQ(again.list().size(), 1u);
  EXPECT_EQ(f.dp.quarantine(), nlohmann::json({"2001:db8::7"}));
  EXPECT_EQ(f.actions().back(), "quarantine.expire 10.5.5.5 controld");
  f.nft.fail = true;
  Service broken(*f.store, *f.audit, f.dp, f.clock, &f.nft);
  EXPECT_FALSE(broken.start()) << "an nftables failure at start is reported";
}

// The quarantine table in both store backends.
class QuarantineStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    store::StoreConfig cfg;
    cfg.backend = GetParam();
    if (cfg.backend == "sqlite") {
      dir_ = temp_dir("store");
      cfg.sqlite_path = (dir_ / "s.db").string();
    } else {
      if (!pg_) {
        pg_ = new cg::testing::PgServer();
        std::string err;
        ASSERT_TRUE(pg_->start(&err)) << "cannot start the test PostgreSQL server: " << err;
      }
      cfg.pg_conninfo = pg_->conninfo();
      std::unique_ptr<store::SqlConnection> c;
      ASSERT_TRUE(store::open_postgresql(cfg.pg_conninfo, &c));
      ASSERT_TRUE(c->exec_script("DROP SCHEMA public CASCADE; CREATE SCHEMA public;"));
    }
    ASSERT_TRUE(store::open_store(cfg, &store_));
  }
  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }
  static inline cg::testing::PgServer* pg_ = nullptr;
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_P(QuarantineStore, PutReplacesDeleteListByAddress) {
  ASSERT_TRUE(store_->put_quarantine({"10.1.2.3", "a", "r1", kT0, kT0 + 60 * kSec}));
  ASSERT_TRUE(store_->put_quarantine({"10.0.0.0/8", "b", "r2", kT0, kT0 + 5 * kSec}));
  ASSERT_TRUE(store_->put_quarantine({"10.1.2.3", "c", "renewed", kT0 + kSec, kT0 + 99 * kSec}));
  std::vector<store::QuarantineEntry> l;
  ASSERT_TRUE(store_->list_quarantine(&l));
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].address, "10.0.0.0/8");
  EXPECT_EQ(l[1].owner, "c");
  EXPECT_EQ(l[1].reason, "renewed");
  EXPECT_EQ(l[1].since_us, kT0 + kSec);
  EXPECT_EQ(l[1].expires_us, kT0 + 99 * kSec);
  ASSERT_TRUE(store_->delete_quarantine("10.0.0.0/8"));
  EXPECT_EQ(store_->delete_quarantine("10.0.0.0/8").code(), cp::Code::kNotFound);
  ASSERT_TRUE(store_->list_quarantine(&l));
  EXPECT_EQ(l.size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Backends, QuarantineStore, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace cg::quarantine

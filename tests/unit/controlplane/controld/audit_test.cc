#include <sqlite3.h>

#include "tests/unit/controlplane/controld/fixture.h"

namespace cg::testing {
namespace {

class AuditTest : public ControldFixture {
 protected:
  void append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(audit_->append("alice", "policy.apply", "revision " + std::to_string(i),
                                 {{"i", i}}));
      clock_.advance_us(kSec);
    }
  }
  // What an intruder with access to the database file does: drop the append-only triggers and
  // change the table behind controld's back.
  void tamper(const std::string& sql) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "controld.db").c_str(), &db), SQLITE_OK);
    char* msg = nullptr;
    std::string all = "DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete; " + sql;
    EXPECT_EQ(sqlite3_exec(db, all.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << msg;
    sqlite3_free(msg);
    sqlite3_close(db);
  }
  audit::VerifyResult verify() {
    audit::VerifyResult v;
    EXPECT_TRUE(audit_->verify(&v));
    return v;
  }
};

TEST_F(AuditTest, IntactChainVerifies) {
  append(10);
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 10);
  std::vector<store::AuditRecord> recs;
  ASSERT_TRUE(store_->list_audit(0, 100, &recs));
  EXPECT_EQ(recs[0].prev_hash, audit::AuditLog::kGenesis);
  EXPECT_EQ(recs[1].prev_hash, recs[0].hash);
  EXPECT_EQ(recs[9].hash, audit::AuditLog::record_hash(recs[9]));
}

TEST_F(AuditTest, TheEngineRefusesUpdateAndDelete) {
  append(2);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "controld.db").c_str(), &db), SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "UPDATE audit SET username='x'", nullptr, nullptr, nullptr),
            SQLITE_OK);
  EXPECT_NE(sqlite3_exec(db, "DELETE FROM audit", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  EXPECT_TRUE(verify().ok);
}

TEST_F(AuditTest, EditedRecordIsDetected) {
  append(10);
  tamper("UPDATE audit SET username = 'mallory' WHERE seq = 4;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_seq, 4);
  EXPECT_NE(v.problem.find("modified"), std::string::npos) << v.problem;
}

TEST_F(AuditTest, EditedAndRehashedRecordBreaksTheNextLink) {
  append(10);
  auto recs = std::vector<store::AuditRecord>{};
  ASSERT_TRUE(store_->list_audit(0, 100, &recs));
  auto r = recs[3];
  r.detail = "{\"i\":99}";
  std::string h = audit::AuditLog::record_hash(r);
  tamper("UPDATE audit SET detail = '{\"i\":99}', hash = '" + h + "' WHERE seq = 4;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_seq, 5);
}

TEST_F(AuditTest, DeletedRecordIsDetected) {
  append(10);
  tamper("DELETE FROM audit WHERE seq = 6;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_seq, 6);
  EXPECT_NE(v.problem.find("missing"), std::string::npos);
}

TEST_F(AuditTest, DeletedTailIsDetected) {
  append(10);
  tamper("DELETE FROM audit WHERE seq >= 9;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_NE(v.problem.find("deleted at the end"), std::string::npos) << v.problem;
}

}  // namespace
}  // namespace cg::testing

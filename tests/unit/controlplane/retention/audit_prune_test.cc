// Audit retention: records older than the horizon are pruned behind an anchor; `verify` starts
// at the anchor and still finds edits, deletions and a forged anchor; the engine still refuses
// ad-hoc UPDATE / DELETE. Both backends.
#include <nlohmann/json.hpp>

#include "tests/unit/controlplane/retention/fixture.h"

namespace cg::testing {
namespace {

class AuditPrune : public BackendTest {
 protected:
  // Records 1..n, one a day from kT0; the clock ends a day after the last.
  void append(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(audit_->append("alice", "events.query", "10.1.0." + std::to_string(i),
                                 {{"i", i}}));
      clock_.advance_us(kDay);
    }
  }
  audit::VerifyResult verify() {
    audit::VerifyResult v;
    EXPECT_TRUE(audit_->verify(&v));
    return v;
  }
  void tamper(const std::string& sqlite_sql, const std::string& pg_sql) {
    auto c = raw();
    auto s = c->exec_script(GetParam() == "sqlite" ? sqlite_sql : pg_sql);
    ASSERT_TRUE(s) << s.message();
  }
  bool raw_ok(const std::string& sql) { return static_cast<bool>(raw()->exec(sql, {})); }
};

TEST_P(AuditPrune, PruneKeepsTheChainVerifiable) {
  append(10);
  int64_t pruned = 0;
  ASSERT_TRUE(audit_->prune_before(kT0 + 5 * kDay, 1000, &pruned));
  EXPECT_EQ(pruned, 5);
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.anchor_seq, 5);
  EXPECT_EQ(v.records, 6);  // 6..10 and the audit.prune record
  std::vector<store::AuditRecord> recs;
  ASSERT_TRUE(store_->list_audit(0, 100, &recs));
  ASSERT_EQ(recs.size(), 6u);
  EXPECT_EQ(recs.front().seq, 6);
  EXPECT_EQ(recs.back().action, "audit.prune");
  auto d = nlohmann::json::parse(recs.back().detail);
  EXPECT_EQ(d["up_to_seq"], 5);
  EXPECT_EQ(d["records"], 5);
  // Nothing older left: a second prune is a no-op.
  ASSERT_TRUE(audit_->prune_before(kT0 + 5 * kDay, 1000, &pruned));
  EXPECT_EQ(pruned, 0);
  // Survives a restart; appends and a second prune (in batches of 2) chain on.
  reopen();
  append(2);
  ASSERT_TRUE(audit_->prune_before(kT0 + 9 * kDay, 2, &pruned));
  EXPECT_EQ(pruned, 2);
  ASSERT_TRUE(audit_->prune_before(kT0 + 9 * kDay, 2, &pruned));
  EXPECT_EQ(pruned, 2);
  v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.anchor_seq, 9);
}

TEST_P(AuditPrune, EngineStillRefusesAdHocChanges) {
  append(6);
  int64_t pruned = 0;
  ASSERT_TRUE(audit_->prune_before(kT0 + 3 * kDay, 1000, &pruned));
  ASSERT_EQ(pruned, 3);
  EXPECT_FALSE(raw_ok("DELETE FROM audit WHERE seq = 5"));
  EXPECT_FALSE(raw_ok("DELETE FROM audit"));
  EXPECT_FALSE(raw_ok("UPDATE audit SET detail = '{}' WHERE seq = 5"));
  EXPECT_FALSE(raw_ok("DELETE FROM audit_anchor"));
  EXPECT_FALSE(raw_ok("UPDATE audit_anchor SET seq = 5"));
  auto v = verify();
  EXPECT_TRUE(v.ok) << v.problem;
  EXPECT_EQ(v.records, 4);
}

TEST_P(AuditPrune, ForgedAnchorIsDetected) {
  append(8);
  int64_t pruned = 0;
  ASSERT_TRUE(audit_->prune_before(kT0 + 2 * kDay, 1000, &pruned));
  ASSERT_EQ(pruned, 2);
  // An attacker with database access writes an anchor over record 5 (copying its hash, so
  // record 6 still chains) and deletes 3..5, which the engine then allows.
  std::vector<store::AuditRecord> recs;
  ASSERT_TRUE(store_->list_audit(4, 1, &recs));
  ASSERT_EQ(recs.size(), 1u);
  ASSERT_TRUE(raw()->exec("INSERT INTO audit_anchor (seq, hash, pruned) VALUES (5, $1, 0)",
                          {recs[0].hash}));
  ASSERT_TRUE(raw_ok("DELETE FROM audit WHERE seq <= 5"));
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.anchor_seq, 5);
  EXPECT_NE(v.problem.find("not confirmed by an audit.prune record"), std::string::npos)
      << v.problem;
  // Pruning refuses to run over a broken chain (it would erase the evidence).
  EXPECT_FALSE(audit_->prune_before(kT0 + 7 * kDay, 1000, &pruned));
  EXPECT_EQ(pruned, 0);
}

TEST_P(AuditPrune, EditsAndDeletedAnchorsAfterAPruneAreDetected) {
  append(6);
  int64_t pruned = 0;
  ASSERT_TRUE(audit_->prune_before(kT0 + 3 * kDay, 1000, &pruned));
  ASSERT_EQ(pruned, 3);
  // With the triggers out of the way, an edited record fails its hash.
  tamper("DROP TRIGGER audit_no_update; UPDATE audit SET detail = '{\"i\":9}' WHERE seq = 5;",
         "ALTER TABLE audit DISABLE TRIGGER audit_no_change; "
         "UPDATE audit SET detail = '{\"i\":9}' WHERE seq = 5;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.bad_seq, 5);
  EXPECT_NE(v.problem.find("hash mismatch"), std::string::npos) << v.problem;
}

TEST_P(AuditPrune, RemovingTheAnchorIsDetected) {
  append(6);
  int64_t pruned = 0;
  ASSERT_TRUE(audit_->prune_before(kT0 + 3 * kDay, 1000, &pruned));
  ASSERT_EQ(pruned, 3);
  tamper("DROP TRIGGER audit_anchor_no_delete; DELETE FROM audit_anchor;",
         "ALTER TABLE audit_anchor DISABLE TRIGGER audit_anchor_no_change; "
         "DELETE FROM audit_anchor;");
  auto v = verify();
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.anchor_seq, 0);
  EXPECT_NE(v.problem.find("record 1 is missing"), std::string::npos) << v.problem;
}

INSTANTIATE_TEST_SUITE_P(Backends, AuditPrune, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace cg::testing

#include "tests/unit/controlplane/controld/fixture.h"

namespace cg::testing {
namespace {

class CommitTest : public ControldFixture {
 protected:
  commit::ApplyResult apply(const std::string& src, uint32_t confirm = 0,
                            cp::Code want = cp::Code::kOk) {
    commit::ApplyResult r;
    auto s = commit_->apply({src, "school.yaml", "test", "alice", confirm}, &r);
    EXPECT_EQ(s.code(), want) << s.message();
    return r;
  }
  std::string current_source() {
    auto j = commit_->status_json();
    store::Revision r;
    EXPECT_TRUE(store_->get_revision(j["revision"]["number"].get<int64_t>(), &r));
    return r.source;
  }
};

TEST_F(CommitTest, ApplyPushesTwoPhaseAndRecordsARevision) {
  auto r = apply(example_policy());
  EXPECT_EQ(r.revision, 1);
  EXPECT_EQ(r.generation, 1u);
  EXPECT_EQ(dp_.source(), example_policy());
  EXPECT_EQ(dp_.revision(), 1u);  // the push named the revision it is recorded as
  store::Revision rev;
  ASSERT_TRUE(store_->get_revision(1, &rev));
  EXPECT_EQ(rev.user, "alice");
  EXPECT_EQ(rev.comment, "test");
  EXPECT_EQ(rev.source, example_policy());
  EXPECT_EQ(rev.sha256, cp::sha256_hex(example_policy()));
  auto j = commit_->status_json();
  EXPECT_TRUE(j["dataplane"]["in_sync"].get<bool>());
}

TEST_F(CommitTest, InvalidPolicyChangesNothing) {
  apply(example_policy());
  auto r = apply("school: {id: x\n", 0, cp::Code::kInvalid);
  EXPECT_FALSE(r.diagnostics.empty());
  EXPECT_NE(r.diagnostics[0].find("school.yaml:"), std::string::npos) << r.diagnostics[0];
  EXPECT_EQ(dp_.applies(), 1);
  dp_.reject_next_prepare();
  r = apply(example_policy("v2"), 0, cp::Code::kInvalid);
  EXPECT_EQ(dp_.applies(), 1);
  std::vector<store::Revision> revs;
  ASSERT_TRUE(store_->list_revisions(10, &revs));
  EXPECT_EQ(revs.size(), 1u);
  dp_.set_down(true);
  apply(example_policy("v3"), 0, cp::Code::kUnavailable);
  EXPECT_EQ(commit_->counters().dataplane_unreachable, 1u);
}

TEST_F(CommitTest, UnconfirmedCommitRevertsAtTheDeadline) {
  apply(example_policy("v1"));
  auto r = apply(example_policy("v2"), 30);
  EXPECT_EQ(r.confirm_deadline_us, kT0 + 30 * kSec);
  EXPECT_EQ(dp_.source(), example_policy("v2"));
  clock_.advance_us(29 * kSec);
  commit_->tick();
  EXPECT_EQ(dp_.source(), example_policy("v2"));
  clock_.advance_us(1 * kSec);
  commit_->tick();
  EXPECT_EQ(dp_.source(), example_policy("v1"));  // reverted, in place
  EXPECT_EQ(dp_.revision(), 3u);
  store::Revision rev;
  ASSERT_TRUE(store_->get_revision(3, &rev));
  EXPECT_EQ(rev.action, "revert");
  EXPECT_EQ(rev.source, example_policy("v1"));
  EXPECT_EQ(commit_->counters().reverts, 1u);
  EXPECT_TRUE(commit_->status_json()["pending"].is_null());
}

TEST_F(CommitTest, ConfirmStopsTheRevert) {
  apply(example_policy("v1"));
  apply(example_policy("v2"), 30);
  // A second change while one awaits confirmation is refused.
  apply(example_policy("v3"), 0, cp::Code::kConflict);
  int64_t rev = 0;
  ASSERT_TRUE(commit_->confirm("bob", &rev));
  EXPECT_EQ(rev, 2);
  clock_.advance_us(60 * kSec);
  commit_->tick();
  EXPECT_EQ(dp_.source(), example_policy("v2"));
  EXPECT_EQ(commit_->confirm("bob", &rev).code(), cp::Code::kNotFound);
}

TEST_F(CommitTest, PendingRevertSurvivesARestartOfControld) {
  apply(example_policy("v1"));
  apply(example_policy("v2"), 30);
  close();  // controld dies in the window (state is only what the store has)
  clock_.advance_us(45 * kSec);
  open();
  commit_->tick();
  EXPECT_EQ(dp_.source(), example_policy("v1"));
  EXPECT_EQ(current_source(), example_policy("v1"));
}

TEST_F(CommitTest, ConfirmNeedsSomethingToRevertTo) {
  apply(example_policy(), 30, cp::Code::kInvalid);
  EXPECT_EQ(dp_.applies(), 0);
  apply(example_policy());
  apply(example_policy("x"), 999999, cp::Code::kInvalid);  // beyond policy.max_confirm
}

TEST_F(CommitTest, DataplaneRestartGetsTheCurrentPolicyBack) {
  apply(example_policy("v1"));
  apply(example_policy("v2"));
  dp_.restart();  // generation 0: forwarding without policy
  commit_->tick();
  EXPECT_EQ(dp_.source(), example_policy("v2"));
  EXPECT_EQ(dp_.revision(), 2u);
  EXPECT_EQ(commit_->counters().repushes, 1u);
  commit_->tick();  // in sync: nothing to do
  EXPECT_EQ(commit_->counters().repushes, 1u);
  // The same text under another revision number (e.g. loaded with --policy, revision 0) is
  // pushed again so the dataplane names the commit in force.
  dpclient::Prepared prep;
  ASSERT_TRUE(dp_.policy_prepare(example_policy("v2"), "school.yaml", 0, &prep));
  ASSERT_TRUE(dp_.policy_apply(prep.generation, nullptr));
  EXPECT_FALSE(commit_->status_json()["dataplane"]["in_sync"].get<bool>());
  commit_->tick();
  EXPECT_EQ(dp_.revision(), 2u);
  EXPECT_EQ(commit_->counters().repushes, 2u);
  EXPECT_TRUE(commit_->status_json()["dataplane"]["in_sync"].get<bool>());
  // Unreachable dataplane: counted, nothing else.
  dp_.set_down(true);
  commit_->tick();
  EXPECT_EQ(commit_->counters().dataplane_unreachable, 1u);
}

TEST_F(CommitTest, RollbackReproducesTheRevisionExactly) {
  apply(example_policy("v1"));
  apply(example_policy("v2"));
  commit::ApplyResult r;
  ASSERT_TRUE(commit_->rollback(1, "alice", "", 0, &r));
  EXPECT_EQ(r.revision, 3);
  EXPECT_EQ(dp_.source(), example_policy("v1"));
  EXPECT_EQ(dp_.revision(), 3u);
  store::Revision rev;
  ASSERT_TRUE(store_->get_revision(3, &rev));
  EXPECT_EQ(rev.action, "rollback");
  EXPECT_EQ(rev.comment, "rollback to revision 1");
  store::Revision one;
  ASSERT_TRUE(store_->get_revision(1, &one));
  EXPECT_EQ(rev.sha256, one.sha256);
  EXPECT_EQ(commit_->rollback(99, "alice", "", 0, &r).code(), cp::Code::kNotFound);
}

TEST_F(CommitTest, HistoryKeepsAtLeastOneHundredRevisions) {
  for (int i = 0; i < 105; ++i) apply(example_policy("v" + std::to_string(i)));
  std::vector<store::Revision> revs;
  ASSERT_TRUE(store_->list_revisions(1000, &revs));
  EXPECT_EQ(revs.size(), 100u);  // keep_revisions in the fixture
  EXPECT_EQ(revs.front().number, 105);
  EXPECT_EQ(revs.back().number, 6);
}

TEST(UnifiedDiff, ShowsChangedLinesWithContext) {
  std::string a = "a\nb\nc\nd\ne\nf\ng\nh\n";
  std::string b = "a\nb\nc\nD\ne\nf\ng\nh\ni\n";
  auto d = commit::unified_diff(a, b, "r1", "r2");
  EXPECT_EQ(d,
            "--- r1\n+++ r2\n@@ -1,8 +1,9 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n h\n+i\n");
  EXPECT_EQ(commit::unified_diff(a, a, "r1", "r1"), "");
  EXPECT_EQ(commit::unified_diff("", "x\n", "r1", "r2"), "--- r1\n+++ r2\n@@ -0,0 +1,1 @@\n+x\n");
}

}  // namespace
}  // namespace cg::testing

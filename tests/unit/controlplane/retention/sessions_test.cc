// Sessions live in the store: they survive a controld restart, logout and expiry end them, and
// a session is worth nothing once its user is gone, has another role or a new password. Both
// backends.
#include "controlplane/auth/auth.h"
#include "controlplane/common/util.h"
#include "tests/unit/controlplane/retention/fixture.h"

namespace cg::testing {
namespace {

using auth::LoginResult;
constexpr const char* kPassword = "correct horse battery";

class Sessions : public BackendTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(cp::init_crypto());
    BackendTest::SetUp();
    make_auth();
  }
  void TearDown() override {
    auth_.reset();
    BackendTest::TearDown();
  }
  void make_auth() {
    // Cheap argon2 for tests; 120 s sessions.
    auth_ =
        std::make_unique<auth::Auth>(*store_, *audit_, clock_, auth::AuthConfig{5, 60, 120, 1, 8});
  }
  void restart() {
    auth_.reset();
    reopen();
    make_auth();
  }
  auth::Session login(const std::string& user) {
    auth::Session s;
    EXPECT_EQ(auth_->login(user, kPassword, "127.0.0.1", &s), LoginResult::kOk);
    return s;
  }
  std::unique_ptr<auth::Auth> auth_;
};

TEST_P(Sessions, SurviveARestartUntilLogout) {
  ASSERT_TRUE(auth_->add_user("alice", auth::Role::kSecadmin, kPassword, "root"));
  auth::Session s = login("alice");
  // Only the token's hash is stored.
  store::SessionRow row;
  ASSERT_TRUE(store_->get_session(cp::sha256_hex(s.token), &row));
  EXPECT_EQ(row.user, "alice");
  EXPECT_EQ(row.role, "secadmin");
  EXPECT_EQ(row.csrf, s.csrf);
  EXPECT_EQ(store_->get_session(s.token, &row).code(), cp::Code::kNotFound);
  EXPECT_EQ(auth_->counters().sessions, 1u);

  restart();
  auth::Session got;
  ASSERT_TRUE(auth_->authenticate(s.token, &got));
  EXPECT_EQ(got.user, "alice");
  EXPECT_EQ(got.role, auth::Role::kSecadmin);
  EXPECT_EQ(got.csrf, s.csrf);
  EXPECT_EQ(got.expires_us, s.expires_us);
  EXPECT_TRUE(got.token.empty());
  auth_->logout(s.token);
  EXPECT_FALSE(auth_->authenticate(s.token, &got));
  EXPECT_EQ(auth_->counters().sessions, 0u);
  restart();
  EXPECT_FALSE(auth_->authenticate(s.token, &got));
}

TEST_P(Sessions, ExpireAndAreDeleted) {
  ASSERT_TRUE(auth_->add_user("bob", auth::Role::kOperator, kPassword, "root"));
  auth::Session a = login("bob");
  clock_.advance_us(100 * kSec);
  auth::Session b = login("bob");
  auth::Session got;
  clock_.advance_us(30 * kSec);  // a expired (120 s), b not
  EXPECT_FALSE(auth_->authenticate(a.token, &got));
  EXPECT_TRUE(auth_->authenticate(b.token, &got));
  store::SessionRow row;
  EXPECT_EQ(store_->get_session(cp::sha256_hex(a.token), &row).code(), cp::Code::kNotFound);
  clock_.advance_us(100 * kSec);
  auth_->expire_sessions();
  EXPECT_EQ(store_->get_session(cp::sha256_hex(b.token), &row).code(), cp::Code::kNotFound);
  EXPECT_EQ(auth_->counters().sessions, 0u);
  EXPECT_FALSE(auth_->authenticate(std::string(64, 'a'), &got));
  EXPECT_FALSE(auth_->authenticate("short", &got));
}

TEST_P(Sessions, AnotherRoleOrAGoneUserEndsTheSession) {
  ASSERT_TRUE(auth_->add_user("carol", auth::Role::kSysadmin, kPassword, "root"));
  ASSERT_TRUE(auth_->add_user("dave", auth::Role::kSecadmin, kPassword, "root"));
  auth::Session c = login("carol");
  auth::Session d = login("dave");
  // carol is demoted: her sysadmin session must not go on as sysadmin (nor as operator: she
  // logs in again to get the new role).
  ASSERT_TRUE(auth_->add_user("carol", auth::Role::kOperator, kPassword, "root"));
  auth::Session got;
  EXPECT_FALSE(auth_->authenticate(c.token, &got));
  restart();
  EXPECT_FALSE(auth_->authenticate(c.token, &got));
  auth::Session c2 = login("carol");
  ASSERT_TRUE(auth_->authenticate(c2.token, &got));
  EXPECT_EQ(got.role, auth::Role::kOperator);
  // dave's account disappears from the store: his session ends.
  ASSERT_TRUE(raw()->exec("DELETE FROM users WHERE name = 'dave'", {}));
  EXPECT_FALSE(auth_->authenticate(d.token, &got));
}

TEST_P(Sessions, ANewPasswordEndsTheAccountsSessionsOnly) {
  ASSERT_TRUE(auth_->add_user("alice", auth::Role::kSecadmin, kPassword, "root"));
  ASSERT_TRUE(auth_->add_user("bob", auth::Role::kOperator, kPassword, "root"));
  auth::Session a1 = login("alice"), a2 = login("alice"), b = login("bob"), got;
  // Same role, new password: alice's sessions end, even the ones a restart brought back.
  restart();
  ASSERT_TRUE(auth_->add_user("alice", auth::Role::kSecadmin, "a brand new secret", "root"));
  EXPECT_FALSE(auth_->authenticate(a1.token, &got));
  EXPECT_FALSE(auth_->authenticate(a2.token, &got));
  EXPECT_TRUE(auth_->authenticate(b.token, &got));  // other accounts keep theirs
  EXPECT_EQ(auth_->login("alice", kPassword, "x", &got), LoginResult::kBadCredentials);
  ASSERT_EQ(auth_->login("alice", "a brand new secret", "x", &a1), LoginResult::kOk);
  EXPECT_TRUE(auth_->authenticate(a1.token, &got));
  std::vector<store::AuditRecord> recs;
  ASSERT_TRUE(store_->list_audit(0, 100, &recs));
  int ended = 0;
  for (const auto& r : recs)
    ended +=
        r.action == "user.put" && r.detail.find("\"sessions_ended\":true") != std::string::npos;
  EXPECT_EQ(ended, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, Sessions, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& p) { return p.param; });

}  // namespace
}  // namespace cg::testing

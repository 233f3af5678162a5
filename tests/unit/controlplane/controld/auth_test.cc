#include "tests/unit/controlplane/controld/fixture.h"

namespace cg::testing {
namespace {

using auth::LoginResult;

class AuthTest : public ControldFixture {};

TEST_F(AuthTest, PasswordsAreArgon2idAndTokensAre256Bits) {
  ASSERT_TRUE(auth_->add_user("alice", auth::Role::kSecadmin, "correct horse battery", "root"));
  store::User u;
  ASSERT_TRUE(store_->get_user("alice", &u));
  EXPECT_EQ(u.password_hash.rfind("$argon2id$", 0), 0u) << u.password_hash;
  auth::Session s;
  ASSERT_EQ(auth_->login("alice", "correct horse battery", "127.0.0.1", &s), LoginResult::kOk);
  EXPECT_EQ(s.token.size(), 64u);  // 32 random bytes as hex
  EXPECT_EQ(s.csrf.size(), 64u);
  EXPECT_EQ(s.role, auth::Role::kSecadmin);
  auth::Session got;
  ASSERT_TRUE(auth_->authenticate(s.token, &got));
  EXPECT_EQ(got.user, "alice");
  EXPECT_TRUE(got.token.empty());  // tokens are not kept in memory, only their hash
  auth_->logout(s.token);
  EXPECT_FALSE(auth_->authenticate(s.token, &got));
}

TEST_F(AuthTest, WeakPasswordsAndBadNamesAreRefused) {
  EXPECT_EQ(auth_->add_user("bob", auth::Role::kOperator, "short", "root").code(),
            cp::Code::kInvalid);
  EXPECT_EQ(auth_->add_user("bob smith", auth::Role::kOperator, "long enough pass", "root").code(),
            cp::Code::kInvalid);
}

TEST_F(AuthTest, LockoutAfterRepeatedFailuresThenExpiry) {
  ASSERT_TRUE(auth_->add_user("alice", auth::Role::kSecadmin, "correct horse battery", "root"));
  auth::Session s;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(auth_->login("alice", "wrong password!", "10.0.0.9", &s),
              LoginResult::kBadCredentials);
  // Locked: even the right password is refused until lockout_seconds (60) have passed.
  EXPECT_EQ(auth_->login("alice", "correct horse battery", "10.0.0.9", &s), LoginResult::kLocked);
  clock_.advance_us(61 * kSec);
  EXPECT_EQ(auth_->login("alice", "correct horse battery", "10.0.0.9", &s), LoginResult::kOk);
  auto c = auth_->counters();
  EXPECT_EQ(c.lockouts, 1u);
  EXPECT_EQ(c.failures, 4u);
  // A success resets the failure count.
  store::User u;
  ASSERT_TRUE(store_->get_user("alice", &u));
  EXPECT_EQ(u.failed, 0);
  // Lockout state survives a restart (it is in the store).
  for (int i = 0; i < 3; ++i) auth_->login("alice", "wrong password!", "10.0.0.9", &s);
  close();
  open();
  EXPECT_EQ(auth_->login("alice", "correct horse battery", "10.0.0.9", &s), LoginResult::kLocked);
}

TEST_F(AuthTest, SessionsExpireAndUnknownUsersFail) {
  ASSERT_TRUE(auth_->add_user("alice", auth::Role::kAuditor, "correct horse battery", "root"));
  auth::Session s, got;
  EXPECT_EQ(auth_->login("nobody", "whatever at all", "x", &s), LoginResult::kBadCredentials);
  ASSERT_EQ(auth_->login("alice", "correct horse battery", "x", &s), LoginResult::kOk);
  clock_.advance_us(3601 * kSec);
  EXPECT_FALSE(auth_->authenticate(s.token, &got));
  EXPECT_FALSE(auth_->authenticate(std::string(64, 'a'), &got));
  EXPECT_FALSE(auth_->authenticate("short", &got));
  // Every attempt is in the audit log.
  std::vector<store::AuditRecord> recs;
  ASSERT_TRUE(store_->list_audit(0, 100, &recs));
  int failed = 0, ok = 0;
  for (const auto& r : recs) {
    failed += r.action == "login_failed";
    ok += r.action == "login";
  }
  EXPECT_EQ(failed, 1);
  EXPECT_EQ(ok, 1);
}

}  // namespace
}  // namespace cg::testing

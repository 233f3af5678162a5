// Local accounts and sessions. Passwords: argon2id (libsodium crypto_pwhash_str_alg).
// Session tokens: 256 random bits (hex), stored (store `sessions` table) as SHA-256 only, so
// they survive a controld restart, with a per-session CSRF token for cookie-based (browser)
// sessions. A session is valid only while its user exists with the role it logged in with. Lockout: `lockout_failures` consecutive
// failures lock the account for `lockout_seconds` (persisted in the store).
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "controlplane/audit/audit_log.h"
#include "controlplane/common/util.h"
#include "controlplane/store/store.h"

namespace cg::auth {

using cp::Status;

enum class Role : unsigned { kSysadmin = 1, kSecadmin = 2, kAuditor = 4, kOperator = 8 };
using RoleMask = unsigned;
inline constexpr RoleMask kAllRoles = 15;
inline constexpr RoleMask mask(Role r) { return static_cast<RoleMask>(r); }
std::optional<Role> parse_role(const std::string& s);
const char* role_name(Role r);

struct AuthConfig {
  uint32_t lockout_failures = 5;
  uint32_t lockout_seconds = 900;
  uint32_t session_ttl_s = 28800;
  uint32_t opslimit = 2;
  uint32_t memlimit_kib = 65536;
};

struct Session {
  std::string token;  // only set by login()
  std::string csrf;
  std::string user;
  Role role = Role::kOperator;
  int64_t expires_us = 0;
};

enum class LoginResult { kOk, kBadCredentials, kLocked, kError };

class Auth {
 public:
  Auth(store::Store& store, audit::AuditLog& audit, const cp::Clock& clock, AuthConfig cfg)
      : store_(store), audit_(audit), clock_(clock), cfg_(cfg) {}

  // Creates the account, or replaces its role and password: then every session of the
  // account ends. Audits user.put.
  Status add_user(const std::string& name, Role role, const std::string& password,
                  const std::string& by);
  // Audits login / login_failed / login_locked.
  LoginResult login(const std::string& name, const std::string& password,
                    const std::string& peer, Session* out);
  // Looks up a session by token; false when unknown, expired, or its user was deleted or given
  // another role since the login (such a session is deleted).
  bool authenticate(const std::string& token, Session* out);
  void logout(const std::string& token);
  // Deletes expired sessions (retention calls it; login does too).
  void expire_sessions();

  struct Counters {
    uint64_t logins = 0, failures = 0, lockouts = 0, sessions = 0;
  };
  Counters counters();

 private:
  store::Store& store_;
  audit::AuditLog& audit_;
  const cp::Clock& clock_;
  AuthConfig cfg_;
  std::mutex mu_;
  Counters counters_;
  int64_t live_sessions_ = 0;  // as of the last expire_sessions()
};

}  // namespace cg::auth

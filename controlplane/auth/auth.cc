#include "controlplane/auth/auth.h"

#include <sodium.h>

#include <cctype>

namespace cg::auth {

std::optional<Role> parse_role(const std::string& s) {
  if (s == "sysadmin") return Role::kSysadmin;
  if (s == "secadmin") return Role::kSecadmin;
  if (s == "auditor") return Role::kAuditor;
  if (s == "operator") return Role::kOperator;
  return std::nullopt;
}

const char* role_name(Role r) {
  switch (r) {
    case Role::kSysadmin:
      return "sysadmin";
    case Role::kSecadmin:
      return "secadmin";
    case Role::kAuditor:
      return "auditor";
    case Role::kOperator:
      return "operator";
  }
  return "?";
}

Status Auth::add_user(const std::string& name, Role role, const std::string& password,
                      const std::string& by) {
  if (name.empty() || name.size() > 64) return cp::invalid("user name must be 1..64 characters");
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return cp::invalid("user name may contain letters, digits, '_', '-', '.' only");
  if (password.size() < 12) return cp::invalid("password must have at least 12 characters");
  char hash[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(hash, password.data(), password.size(), cfg_.opslimit,
                            static_cast<size_t>(cfg_.memlimit_kib) * 1024,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return cp::internal("argon2id hashing failed (out of memory?)");
  store::User old;
  const Status had = store_.get_user(name, &old);
  if (!had && had.code() != cp::Code::kNotFound) return had;
  store::User u{name, role_name(role), hash, 0, 0, clock_.now_us()};
  if (auto s = store_.put_user(u); !s) return s;
  // A new password ends the account's sessions: whoever knew the old one is logged out too.
  if (had)
    if (auto s = store_.delete_user_sessions(name); !s) return s;
  return audit_.append(by, "user.put", name,
                       {{"role", role_name(role)}, {"sessions_ended", static_cast<bool>(had)}});
}

LoginResult Auth::login(const std::string& name, const std::string& password,
                        const std::string& peer, Session* out) {
  store::User u;
  Status s = store_.get_user(name, &u);
  const int64_t now = clock_.now_us();
  if (!s && s.code() != cp::Code::kNotFound) return LoginResult::kError;
  if (!s) {
    // Same work as for a real account, so timing does not reveal which names exist.
    static const std::string dummy = [] {
      char h[crypto_pwhash_STRBYTES] = {};
      if (crypto_pwhash_str_alg(h, "x", 1, 1, 8192, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return std::string();
      return std::string(h);
    }();
    if (!dummy.empty() &&
        crypto_pwhash_str_verify(dummy.c_str(), password.data(), password.size()) == 0)
      return LoginResult::kError;  // cannot happen: nobody knows the dummy's password
    {
      std::lock_guard lock(mu_);
      ++counters_.failures;
    }
    audit_.append(name, "login_failed", name, {{"peer", peer}, {"reason", "unknown user"}});
    return LoginResult::kBadCredentials;
  }
  if (u.locked_until_us > now) {
    {
      std::lock_guard lock(mu_);
      ++counters_.failures;
    }
    audit_.append(name, "login_locked", name, {{"peer", peer}});
    return LoginResult::kLocked;
  }
  if (crypto_pwhash_str_verify(u.password_hash.c_str(), password.data(), password.size()) != 0) {
    int failed = u.failed + 1;
    int64_t until = 0;
    bool locks = failed >= static_cast<int>(cfg_.lockout_failures);
    if (locks) until = now + static_cast<int64_t>(cfg_.lockout_seconds) * 1000000;
    store_.set_login_state(name, locks ? 0 : failed, until);
    {
      std::lock_guard lock(mu_);
      ++counters_.failures;
      if (locks) ++counters_.lockouts;
    }
    audit_.append(name, "login_failed", name,
                  {{"peer", peer}, {"reason", "bad password"}, {"locked", locks}});
    return LoginResult::kBadCredentials;
  }
  if (u.failed != 0 || u.locked_until_us != 0) store_.set_login_state(name, 0, 0);
  auto role = parse_role(u.role);
  if (!role) return LoginResult::kError;
  Session sess{cp::random_hex(32), cp::random_hex(32), name, *role,
               now + static_cast<int64_t>(cfg_.session_ttl_s) * 1000000};
  expire_sessions();
  if (!store_.put_session(
          {cp::sha256_hex(sess.token), sess.csrf, name, u.role, sess.expires_us, now}))
    return LoginResult::kError;
  {
    std::lock_guard lock(mu_);
    ++counters_.logins;
    ++live_sessions_;
  }
  audit_.append(name, "login", name, {{"peer", peer}, {"role", u.role}});
  *out = sess;
  return LoginResult::kOk;
}

bool Auth::authenticate(const std::string& token, Session* out) {
  if (token.size() != 64) return false;
  const std::string key = cp::sha256_hex(token);
  store::SessionRow row;
  if (!store_.get_session(key, &row)) return false;
  auto role = parse_role(row.role);
  store::User u;
  bool valid = row.expires_us > clock_.now_us() && role;
  if (valid) {
    Status s = store_.get_user(row.user, &u);
    if (!s && s.code() != cp::Code::kNotFound) return false;  // store trouble: deny, keep it
    valid = s && u.role == row.role;
  }
  if (!valid) {
    store_.delete_session(key);
    return false;
  }
  *out = {"", row.csrf, row.user, *role, row.expires_us};
  return true;
}

void Auth::logout(const std::string& token) {
  store_.delete_session(cp::sha256_hex(token));
  expire_sessions();
}

void Auth::expire_sessions() {
  int64_t live = 0;
  if (!store_.expire_sessions(clock_.now_us(), &live)) return;
  std::lock_guard lock(mu_);
  live_sessions_ = live;
}

Auth::Counters Auth::counters() {
  std::lock_guard lock(mu_);
  Counters c = counters_;
  c.sessions = static_cast<uint64_t>(live_sessions_);
  return c;
}

}  // namespace cg::auth

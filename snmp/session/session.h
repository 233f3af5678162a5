// SnmpSession: the seam between discovery/polling and the network. NetSnmpSession talks to a
// real agent through net-snmp; FakeSession (fake_session.h) serves canned varbinds in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "snmp/session/status.h"
#include "snmp/session/types.h"

namespace cg::snmp {

enum class SnmpVersion { kV2c, kV3 };
enum class AuthProtocol { kNone, kMd5, kSha1, kSha224, kSha256, kSha384, kSha512 };
enum class PrivProtocol { kNone, kDes, kAes128, kAes192, kAes256 };

// "SHA", "SHA-256", "sha512", "MD5", ... -> protocol; nullopt-like kNone + false on error.
bool parse_auth_protocol(const std::string& name, AuthProtocol* out);
bool parse_priv_protocol(const std::string& name, PrivProtocol* out);

struct SessionConfig {
  std::string host;  // IPv4/IPv6 literal or name
  uint16_t port = 161;
  SnmpVersion version = SnmpVersion::kV2c;
  std::string community;  // v2c; never logged
  std::string user;       // v3 securityName
  AuthProtocol auth = AuthProtocol::kNone;
  std::string auth_pass;  // never logged
  PrivProtocol priv = PrivProtocol::kNone;
  std::string priv_pass;                    // never logged
  std::string context;                      // v3 contextName (empty = default)
  std::chrono::milliseconds timeout{2000};  // per request attempt
  int retries = 1;                          // extra attempts after the first, per request
  int max_repetitions = 25;                 // GETBULK; 0 = walk with GETNEXT
  double max_requests_per_second = 50;      // per-device rate limit; 0 = unlimited
  size_t max_walk_rows = 200000;            // safety bound on one walk

  // "host:port" for messages; contains no credentials.
  std::string peer() const;
};

// ADDRESS[:PORT], [v6]:port or a bare v6 literal. Returns false on garbage.
bool parse_address(const std::string& text, std::string* host, uint16_t* port);
// The host part of "host", "host:port", "[v6]:port" (what neighbours and ipAddrTable name); the
// text itself when it does not parse.
std::string host_of(const std::string& address);

// Per-session counters (exported by the poller later; asserted in tests).
struct SessionCounters {
  uint64_t requests = 0;            // PDUs handed to the transport (each retry counted by net-snmp)
  uint64_t responses = 0;           // answered PDUs
  uint64_t timeouts = 0;            // requests that got no answer after all retries
  uint64_t auth_failures = 0;       // v3 reports: wrong digest / unknown user / decryption
  uint64_t agent_errors = 0;        // error-status != noError
  uint64_t varbinds = 0;            // varbinds received
  uint64_t bulk_reductions = 0;     // max-repetitions halved after timeout/tooBig
  uint64_t non_increasing = 0;      // walks stopped because the agent went backwards
  uint64_t rate_limited_waits = 0;  // times the rate limiter made us wait
};

class SnmpSession {
 public:
  virtual ~SnmpSession() = default;
  // GET of the given instances; missing ones come back as noSuchObject/noSuchInstance values.
  virtual Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) = 0;
  // Every varbind strictly under `root`, in agent order (GETBULK, or GETNEXT when
  // max_repetitions == 0). An empty result means the agent has nothing there.
  virtual Result<std::vector<VarBind>> walk(const Oid& root) = 0;
  // Several columns of one table at once (GETBULK with one varbind per column still going, so
  // a poll of N columns costs about 1/N of the requests of N walks). Same result as walking
  // each column in turn and concatenating (the default implementation does exactly that).
  virtual Result<std::vector<VarBind>> walk_columns(const std::vector<Oid>& columns);
  virtual const SessionCounters& counters() const = 0;
  virtual std::string peer() const = 0;
};

// Clock seam for the rate limiter.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::steady_clock::time_point now() = 0;
  virtual void sleep_for(std::chrono::nanoseconds d) = 0;
  static Clock& system();
};

// Per-device request pacing: at most `rate` requests per second on average with a burst of
// `burst` (token bucket). acquire() blocks the caller (the session's thread) until allowed.
class RateLimiter {
 public:
  RateLimiter(double rate, double burst, Clock& clock);
  // Returns true if it had to wait.
  bool acquire();

 private:
  double rate_;
  double burst_;
  double tokens_;
  Clock& clock_;
  std::chrono::steady_clock::time_point last_;
};

// Opens a net-snmp session (v3: key localisation happens here, engine ID discovery on the first
// request). Fails with kInvalidArgument on a bad config; never logs credentials.
Result<std::unique_ptr<SnmpSession>> open_net_snmp_session(const SessionConfig& config);

}  // namespace cg::snmp

// NetSnmpSession: one device, net-snmp's single-session API (snmp_sess_*), synchronous requests.
// See README.md for why (concurrency = one such session per worker thread).
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "snmp/session/net_snmp_internal.h"
#include "snmp/session/session.h"

namespace cg::snmp {
namespace detail {

// net-snmp (Debian build, NETSNMP_REENTRANT undefined) keeps the USM user list in a global.
// Session open/close and a v3 session's first request (engine ID discovery, which adds the
// localised user) write it: exclusive lock. Later v3 requests only read it: shared lock. v2c
// requests take no lock; the only global they touch is net-snmp's request-id counter (replies are
// matched per session, so two sessions drawing the same id is harmless).
std::shared_mutex& library_mutex() {
  static std::shared_mutex m;
  return m;
}

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    // No config files, no persistent state in /var/lib/snmp, no MIB parsing, no log output:
    // the library is a transport here, and its log could carry agent-supplied text.
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
    setenv("MIBS", "", 0);
    snmp_disable_log();
    init_snmp("campusguard");
  });
}

}  // namespace detail
namespace {

using detail::convert_value;
using detail::init_library_once;
using detail::library_mutex;

struct ProtoOid {
  const oid* oid_ptr;
  size_t len;
};

ProtoOid auth_oid(AuthProtocol p) {
  switch (p) {
    case AuthProtocol::kMd5:
      return {usmHMACMD5AuthProtocol, USM_AUTH_PROTO_MD5_LEN};
    case AuthProtocol::kSha1:
      return {usmHMACSHA1AuthProtocol, USM_AUTH_PROTO_SHA_LEN};
    case AuthProtocol::kSha224:
      return {usmHMAC128SHA224AuthProtocol, OID_LENGTH(usmHMAC128SHA224AuthProtocol)};
    case AuthProtocol::kSha256:
      return {usmHMAC192SHA256AuthProtocol, OID_LENGTH(usmHMAC192SHA256AuthProtocol)};
    case AuthProtocol::kSha384:
      return {usmHMAC256SHA384AuthProtocol, OID_LENGTH(usmHMAC256SHA384AuthProtocol)};
    case AuthProtocol::kSha512:
      return {usmHMAC384SHA512AuthProtocol, OID_LENGTH(usmHMAC384SHA512AuthProtocol)};
    case AuthProtocol::kNone:
      break;
  }
  return {usmNoAuthProtocol, OID_LENGTH(usmNoAuthProtocol)};
}

ProtoOid priv_oid(PrivProtocol p) {
  switch (p) {
    case PrivProtocol::kDes:
      return {usmDESPrivProtocol, USM_PRIV_PROTO_DES_LEN};
    case PrivProtocol::kAes128:
      return {usmAESPrivProtocol, USM_PRIV_PROTO_AES_LEN};
    case PrivProtocol::kAes192:
      return {usmAES192PrivProtocol, OID_LENGTH(usmAES192PrivProtocol)};
    case PrivProtocol::kAes256:
      return {usmAES256PrivProtocol, OID_LENGTH(usmAES256PrivProtocol)};
    case PrivProtocol::kNone:
      break;
  }
  return {usmNoPrivProtocol, OID_LENGTH(usmNoPrivProtocol)};
}

bool is_auth_error(int liberr) {
  switch (liberr) {
    case SNMPERR_AUTHENTICATION_FAILURE:
    case SNMPERR_UNKNOWN_USER_NAME:
    case SNMPERR_UNSUPPORTED_SEC_LEVEL:
    case SNMPERR_DECRYPTION_ERR:
    case SNMPERR_NOT_IN_TIME_WINDOW:
    case SNMPERR_UNKNOWN_ENG_ID:
    case SNMPERR_USM_AUTHENTICATIONFAILURE:
    case SNMPERR_USM_UNKNOWNSECURITYNAME:
    case SNMPERR_USM_UNSUPPORTEDSECURITYLEVEL:
    case SNMPERR_USM_DECRYPTIONERROR:
    case SNMPERR_USM_NOTINTIMEWINDOW:
    case SNMPERR_USM_UNKNOWNENGINEID:
    case SNMPERR_KT_NOT_AVAILABLE:
      return true;
    default:
      return false;
  }
}

}  // namespace

Value detail::convert_value(const netsnmp_variable_list* v) {
  switch (v->type) {
    case ASN_INTEGER:
      return Value::make_integer(v->val.integer ? *v->val.integer : 0);
    case ASN_OCTET_STR:
    case ASN_OPAQUE:
    case ASN_IPADDRESS: {
      ValueType t = v->type == ASN_OCTET_STR ? ValueType::kOctetString
                    : v->type == ASN_OPAQUE  ? ValueType::kOpaque
                                             : ValueType::kIpAddress;
      std::string b;
      if (v->val.string && v->val_len)
        b.assign(reinterpret_cast<const char*>(v->val.string), v->val_len);
      return Value::make_bytes(t, std::move(b));
    }
    case ASN_OBJECT_ID: {
      Oid o;
      size_t n = v->val_len / sizeof(oid);
      for (size_t i = 0; i < n && v->val.objid; ++i)
        o.push_back(static_cast<uint32_t>(v->val.objid[i]));
      return Value::make_oid(std::move(o));
    }
    case ASN_COUNTER:
      return Value::make_unsigned(ValueType::kCounter32,
                                  v->val.integer ? static_cast<uint32_t>(*v->val.integer) : 0);
    case ASN_GAUGE:
      return Value::make_unsigned(ValueType::kGauge32,
                                  v->val.integer ? static_cast<uint32_t>(*v->val.integer) : 0);
    case ASN_TIMETICKS:
      return Value::make_unsigned(ValueType::kTimeTicks,
                                  v->val.integer ? static_cast<uint32_t>(*v->val.integer) : 0);
    case ASN_COUNTER64: {
      uint64_t x = 0;
      if (v->val.counter64)
        x = (static_cast<uint64_t>(v->val.counter64->high) << 32) |
            (v->val.counter64->low & 0xffffffffUL);
      return Value::make_unsigned(ValueType::kCounter64, x);
    }
    case SNMP_NOSUCHOBJECT: {
      Value x;
      x.type = ValueType::kNoSuchObject;
      return x;
    }
    case SNMP_NOSUCHINSTANCE: {
      Value x;
      x.type = ValueType::kNoSuchInstance;
      return x;
    }
    case SNMP_ENDOFMIBVIEW: {
      Value x;
      x.type = ValueType::kEndOfMibView;
      return x;
    }
    default:
      return Value{};
  }
}

namespace {

class NetSnmpSession final : public SnmpSession {
 public:
  NetSnmpSession(const SessionConfig& cfg, void* handle)
      : cfg_(cfg),
        handle_(handle),
        limiter_(cfg.max_requests_per_second, std::max(1.0, cfg.max_requests_per_second / 10),
                 Clock::system()),
        reps_(cfg.max_repetitions) {
    // Credentials are in net-snmp's session copy now; drop ours.
    cfg_.community.assign(cfg_.community.size(), '\0');
    cfg_.auth_pass.assign(cfg_.auth_pass.size(), '\0');
    cfg_.priv_pass.assign(cfg_.priv_pass.size(), '\0');
  }
  ~NetSnmpSession() override {
    std::unique_lock<std::shared_mutex> lock(library_mutex());
    snmp_sess_close(handle_);
  }

  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override {
    netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GET);
    for (const Oid& o : oids) add_null(pdu, o);
    std::vector<VarBind> out;
    Status st = request(pdu, &out);
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<VarBind>> walk(const Oid& root) override {
    std::vector<VarBind> rows;
    Oid cur = root;
    for (;;) {
      int reps = reps_;
      netsnmp_pdu* pdu = snmp_pdu_create(reps > 0 ? SNMP_MSG_GETBULK : SNMP_MSG_GETNEXT);
      if (reps > 0) {
        pdu->non_repeaters = 0;
        pdu->max_repetitions = reps;
      }
      add_null(pdu, cur);
      std::vector<VarBind> got;
      Status st = request(pdu, &got);
      bool too_big = st.code() == ErrorCode::kAgentError && last_errstat_ == SNMP_ERR_TOOBIG;
      if ((st.code() == ErrorCode::kTimeout || too_big) && reps > 1 && answered_) {
        // The device answers, just not this: large values (e.g. VLAN bitmaps) make big bulk
        // responses slow or too big. Halve and try again; the reduction sticks for the session.
        reps_ = std::max(1, reps / 2);
        ++counters_.bulk_reductions;
        continue;
      }
      if (!st.ok()) {
        if (st.code() == ErrorCode::kAgentError && last_errstat_ == SNMP_ERR_NOSUCHNAME) break;
        return Status(st.code(), st.message() + " (walking " + format_oid(root) + ")");
      }
      if (got.empty()) break;
      bool done = false;
      for (VarBind& vb : got) {
        if (vb.value.type == ValueType::kEndOfMibView || !oid_starts_with(vb.oid, root) ||
            vb.oid.size() == root.size()) {
          done = true;
          break;
        }
        if (!(cur < vb.oid)) {
          ++counters_.non_increasing;
          return Status(ErrorCode::kProtocol, peer() + ": agent returned non-increasing OID " +
                                                  format_oid(vb.oid) + " after " + format_oid(cur));
        }
        cur = vb.oid;
        rows.push_back(std::move(vb));
        if (rows.size() > cfg_.max_walk_rows) {
          return Status(ErrorCode::kProtocol, peer() + ": walk of " + format_oid(root) +
                                                  " exceeded " +
                                                  std::to_string(cfg_.max_walk_rows) + " rows");
        }
      }
      if (done) break;
    }
    return rows;
  }

  Result<std::vector<VarBind>> walk_columns(const std::vector<Oid>& columns) override {
    if (reps_ <= 0 || columns.size() <= 1) return SnmpSession::walk_columns(columns);
    std::vector<std::vector<VarBind>> per(columns.size());
    std::vector<Oid> cur = columns;
    std::vector<bool> active(columns.size(), true);
    size_t total = 0;
    for (;;) {
      std::vector<size_t> ask;
      for (size_t c = 0; c < columns.size(); ++c)
        if (active[c]) ask.push_back(c);
      if (ask.empty()) break;
      int reps = reps_;
      // Keep responses near the size of single-column walks (agents differ in what they send
      // before tooBig): with k columns, reps / min(k, 4) rows per request.
      int rows = std::max(1, reps / static_cast<int>(std::min<size_t>(ask.size(), 4)));
      netsnmp_pdu* pdu = snmp_pdu_create(SNMP_MSG_GETBULK);
      pdu->non_repeaters = 0;
      pdu->max_repetitions = rows;
      for (size_t c : ask) add_null(pdu, cur[c]);
      std::vector<VarBind> got;
      Status st = request(pdu, &got);
      bool too_big = st.code() == ErrorCode::kAgentError && last_errstat_ == SNMP_ERR_TOOBIG;
      if ((st.code() == ErrorCode::kTimeout || too_big) && reps > 1 && answered_) {
        reps_ = std::max(1, reps / 2);  // as in walk(): sticks for the session
        ++counters_.bulk_reductions;
        continue;
      }
      if (!st.ok()) {
        // An agent that cannot take several varbinds in one GETBULK: one column at a time.
        if (st.code() == ErrorCode::kAgentError && last_errstat_ == SNMP_ERR_NOSUCHNAME)
          return SnmpSession::walk_columns(columns);
        return Status(st.code(), st.message() + " (walking a table's columns)");
      }
      if (got.empty()) break;
      // Varbinds come row by row: position i belongs to column ask[i % ask.size()].
      for (size_t i = 0; i < got.size(); ++i) {
        size_t c = ask[i % ask.size()];
        if (!active[c]) continue;
        VarBind& vb = got[i];
        if (vb.value.type == ValueType::kEndOfMibView || !oid_starts_with(vb.oid, columns[c]) ||
            vb.oid.size() == columns[c].size()) {
          active[c] = false;
          continue;
        }
        if (!(cur[c] < vb.oid)) {
          ++counters_.non_increasing;
          return Status(ErrorCode::kProtocol, peer() + ": agent returned non-increasing OID " +
                                                  format_oid(vb.oid) + " after " +
                                                  format_oid(cur[c]));
        }
        cur[c] = vb.oid;
        per[c].push_back(std::move(vb));
        if (++total > cfg_.max_walk_rows) {
          return Status(ErrorCode::kProtocol,
                        peer() + ": walk exceeded " + std::to_string(cfg_.max_walk_rows) + " rows");
        }
      }
    }
    std::vector<VarBind> out;
    out.reserve(total);
    for (auto& column : per)
      for (auto& vb : column) out.push_back(std::move(vb));
    return out;
  }

  const SessionCounters& counters() const override { return counters_; }
  std::string peer() const override { return cfg_.peer(); }

 private:
  static void add_null(netsnmp_pdu* pdu, const Oid& o) {
    std::vector<oid> tmp(o.begin(), o.end());
    snmp_add_null_var(pdu, tmp.data(), tmp.size());
  }

  Status request(netsnmp_pdu* pdu, std::vector<VarBind>* out) {
    if (cfg_.max_requests_per_second > 0 && limiter_.acquire()) ++counters_.rate_limited_waits;
    ++counters_.requests;
    last_errstat_ = 0;
    netsnmp_pdu* resp = nullptr;
    int rc;
    if (cfg_.version != SnmpVersion::kV3) {
      rc = snmp_sess_synch_response(handle_, pdu, &resp);  // frees pdu
    } else if (!answered_) {
      std::unique_lock<std::shared_mutex> lock(library_mutex());
      rc = snmp_sess_synch_response(handle_, pdu, &resp);
    } else {
      std::shared_lock<std::shared_mutex> lock(library_mutex());
      rc = snmp_sess_synch_response(handle_, pdu, &resp);
    }
    if (rc == STAT_TIMEOUT) {
      ++counters_.timeouts;
      if (resp) snmp_free_pdu(resp);
      netsnmp_session* ss = snmp_sess_session(handle_);
      if (cfg_.version == SnmpVersion::kV3 && !answered_ && ss && ss->securityEngineIDLen > 0) {
        // Engine ID discovery worked, so the agent is there and speaks v3; agents silently drop
        // what they cannot decrypt (net-snmp's snmpd does), or requests a view forbids.
        return Status(ErrorCode::kAuthFailed,
                      peer() + ": the agent answered SNMPv3 discovery but not the " +
                          (cfg_.priv != PrivProtocol::kNone ? "encrypted" : "authenticated") +
                          " request (wrong privacy password or protocol, or no access)");
      }
      return Status(ErrorCode::kTimeout,
                    peer() + ": no response after " + std::to_string(cfg_.retries + 1) +
                        " attempt(s) of " + std::to_string(cfg_.timeout.count()) +
                        " ms (device unreachable, SNMP not enabled, or wrong " +
                        (cfg_.version == SnmpVersion::kV2c ? "community)" : "credentials)"));
    }
    if (rc != STAT_SUCCESS || resp == nullptr) {
      int liberr = 0, syserr = 0;
      char* msg = nullptr;
      snmp_sess_error(handle_, &syserr, &liberr, &msg);  // (C errno, SNMP errno)
      std::string text = msg ? msg : "unknown error";
      free(msg);  // NOLINT: allocated by net-snmp
      if (resp) snmp_free_pdu(resp);
      if (is_auth_error(liberr)) {
        ++counters_.auth_failures;
        return Status(
            ErrorCode::kAuthFailed,
            peer() + ": SNMPv3 " + text + " (check user, auth/priv protocol and passwords)");
      }
      if (liberr == SNMPERR_TIMEOUT) {  // v3 engine ID discovery got no answer
        ++counters_.timeouts;
        return Status(ErrorCode::kTimeout,
                      peer() + ": no response to SNMPv3 engine ID discovery after " +
                          std::to_string(cfg_.retries + 1) + " attempt(s) of " +
                          std::to_string(cfg_.timeout.count()) +
                          " ms (device unreachable or SNMPv3 not enabled)");
      }
      return Status(ErrorCode::kInternal, peer() + ": " + text);
    }
    answered_ = true;
    ++counters_.responses;
    if (resp->errstat != SNMP_ERR_NOERROR) {
      last_errstat_ = static_cast<int>(resp->errstat);
      ++counters_.agent_errors;
      std::string text = snmp_errstring(static_cast<int>(resp->errstat));
      long idx = resp->errindex;
      snmp_free_pdu(resp);
      return Status(ErrorCode::kAgentError,
                    peer() + ": agent error " + text + " (index " + std::to_string(idx) + ")");
    }
    for (netsnmp_variable_list* v = resp->variables; v; v = v->next_variable) {
      VarBind vb;
      vb.oid.reserve(v->name_length);
      for (size_t i = 0; i < v->name_length; ++i)
        vb.oid.push_back(static_cast<uint32_t>(v->name[i]));
      vb.value = convert_value(v);
      out->push_back(std::move(vb));
      ++counters_.varbinds;
    }
    snmp_free_pdu(resp);
    return {};
  }

  SessionConfig cfg_;
  void* handle_;
  RateLimiter limiter_;
  int reps_;
  bool answered_ = false;
  int last_errstat_ = 0;
  SessionCounters counters_;
};

}  // namespace

Result<std::unique_ptr<SnmpSession>> open_net_snmp_session(const SessionConfig& cfg) {
  if (cfg.host.empty()) return Status(ErrorCode::kInvalidArgument, "no device address");
  if (cfg.timeout.count() <= 0 || cfg.retries < 0 || cfg.retries > 10) {
    return Status(ErrorCode::kInvalidArgument, "timeout must be > 0 and retries 0..10");
  }
  if (cfg.max_repetitions < 0 || cfg.max_repetitions > 1000) {
    return Status(ErrorCode::kInvalidArgument, "max-repetitions must be 0..1000");
  }
  if (cfg.version == SnmpVersion::kV2c && cfg.community.empty()) {
    return Status(ErrorCode::kInvalidArgument, "SNMPv2c needs a community");
  }
  if (cfg.version == SnmpVersion::kV3) {
    if (cfg.user.empty()) return Status(ErrorCode::kInvalidArgument, "SNMPv3 needs a user");
    if (cfg.priv != PrivProtocol::kNone && cfg.auth == AuthProtocol::kNone) {
      return Status(ErrorCode::kInvalidArgument, "SNMPv3 privacy requires an auth protocol");
    }
    if (cfg.auth != AuthProtocol::kNone && cfg.auth_pass.size() < 8) {
      return Status(ErrorCode::kInvalidArgument,
                    "SNMPv3 auth password must be at least 8 characters");
    }
    if (cfg.priv != PrivProtocol::kNone && cfg.priv_pass.size() < 8) {
      return Status(ErrorCode::kInvalidArgument,
                    "SNMPv3 priv password must be at least 8 characters");
    }
  }
  init_library_once();

  netsnmp_session s;
  snmp_sess_init(&s);
  bool v6 = cfg.host.find(':') != std::string::npos;
  std::string peername =
      (v6 ? "udp6:[" + cfg.host + "]" : "udp:" + cfg.host) + ":" + std::to_string(cfg.port);
  s.peername = peername.data();
  s.timeout = static_cast<long>(cfg.timeout.count()) * 1000;
  s.retries = cfg.retries;
  std::string community = cfg.community, user = cfg.user, context = cfg.context;
  if (cfg.version == SnmpVersion::kV2c) {
    s.version = SNMP_VERSION_2c;
    s.community = reinterpret_cast<u_char*>(community.data());
    s.community_len = community.size();
  } else {
    s.version = SNMP_VERSION_3;
    s.securityName = user.data();
    s.securityNameLen = user.size();
    if (!context.empty()) {
      s.contextName = context.data();
      s.contextNameLen = context.size();
    }
    s.securityModel = SNMP_SEC_MODEL_USM;
    s.securityLevel = cfg.auth == AuthProtocol::kNone   ? SNMP_SEC_LEVEL_NOAUTH
                      : cfg.priv == PrivProtocol::kNone ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                                        : SNMP_SEC_LEVEL_AUTHPRIV;
    if (cfg.auth != AuthProtocol::kNone) {
      ProtoOid a = auth_oid(cfg.auth);
      s.securityAuthProto = snmp_duplicate_objid(a.oid_ptr, a.len);
      s.securityAuthProtoLen = a.len;
      s.securityAuthKeyLen = USM_AUTH_KU_LEN;
      std::string pass = cfg.auth_pass;
      int rc = generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
                           reinterpret_cast<const u_char*>(pass.data()), pass.size(),
                           s.securityAuthKey, &s.securityAuthKeyLen);
      std::fill(pass.begin(), pass.end(), '\0');
      if (rc != SNMPERR_SUCCESS) {
        SNMP_FREE(s.securityAuthProto);
        return Status(ErrorCode::kInvalidArgument, "cannot derive SNMPv3 auth key");
      }
    }
    if (cfg.priv != PrivProtocol::kNone) {
      ProtoOid p = priv_oid(cfg.priv);
      s.securityPrivProto = snmp_duplicate_objid(p.oid_ptr, p.len);
      s.securityPrivProtoLen = p.len;
      s.securityPrivKeyLen = USM_PRIV_KU_LEN;
      std::string pass = cfg.priv_pass;
      int rc = generate_Ku(s.securityAuthProto, static_cast<u_int>(s.securityAuthProtoLen),
                           reinterpret_cast<const u_char*>(pass.data()), pass.size(),
                           s.securityPrivKey, &s.securityPrivKeyLen);
      std::fill(pass.begin(), pass.end(), '\0');
      if (rc != SNMPERR_SUCCESS) {
        SNMP_FREE(s.securityAuthProto);
        SNMP_FREE(s.securityPrivProto);
        return Status(ErrorCode::kInvalidArgument, "cannot derive SNMPv3 privacy key");
      }
    }
  }
  void* handle = nullptr;
  std::string open_error;
  int open_liberr = 0;
  {
    std::unique_lock<std::shared_mutex> lock(library_mutex());
    handle = snmp_sess_open(&s);  // v3: probes the engine ID (one request + retries)
    if (!handle) {
      int syserr = 0;
      char* msg = nullptr;
      snmp_error(&s, &syserr, &open_liberr, &msg);  // (C errno, SNMP errno)
      open_error = msg ? msg : "cannot open session";
      free(msg);  // NOLINT: allocated by net-snmp
    }
  }
  SNMP_FREE(s.securityAuthProto);
  SNMP_FREE(s.securityPrivProto);
  std::fill(community.begin(), community.end(), '\0');
  std::memset(s.securityAuthKey, 0, sizeof(s.securityAuthKey));
  std::memset(s.securityPrivKey, 0, sizeof(s.securityPrivKey));
  if (!handle) {
    if (open_liberr == SNMPERR_TIMEOUT) {
      return Status(ErrorCode::kTimeout, cfg.peer() + ": no response to SNMPv3 engine ID " +
                                             "discovery (device unreachable or SNMP disabled)");
    }
    if (is_auth_error(open_liberr))
      return Status(ErrorCode::kAuthFailed, cfg.peer() + ": " + open_error);
    return Status(ErrorCode::kInternal, cfg.peer() + ": " + open_error);
  }
  return std::unique_ptr<SnmpSession>(new NetSnmpSession(cfg, handle));
}

}  // namespace cg::snmp

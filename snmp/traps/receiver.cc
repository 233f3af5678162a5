#include "snmp/traps/receiver.h"

#include <sys/select.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <map>
#include <mutex>

#include "snmp/session/net_snmp_internal.h"

namespace cg::snmp {
namespace {

const char* auth_name(AuthProtocol p) {
  switch (p) {
    case AuthProtocol::kMd5:
      return "MD5";
    case AuthProtocol::kSha1:
      return "SHA";
    case AuthProtocol::kSha224:
      return "SHA-224";
    case AuthProtocol::kSha256:
      return "SHA-256";
    case AuthProtocol::kSha384:
      return "SHA-384";
    case AuthProtocol::kSha512:
      return "SHA-512";
    case AuthProtocol::kNone:
      break;
  }
  return nullptr;
}

const char* priv_name(PrivProtocol p) {
  switch (p) {
    case PrivProtocol::kDes:
      return "DES";
    case PrivProtocol::kAes128:
      return "AES";
    case PrivProtocol::kAes192:
      return "AES-192";
    case PrivProtocol::kAes256:
      return "AES-256";
    case PrivProtocol::kNone:
      break;
  }
  return nullptr;
}

std::string to_hex(const u_char* b, size_t n) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

// "UDP: [127.0.0.1]:40001->[127.0.0.1]:1162" -> "127.0.0.1"
std::string sender_address(const std::string& formatted) {
  auto b = formatted.find('[');
  auto e = formatted.find(']', b == std::string::npos ? 0 : b);
  if (b == std::string::npos || e == std::string::npos) return "";
  return formatted.substr(b + 1, e - b - 1);
}

class NetSnmpTrapReceiver final : public TrapReceiver {
 public:
  NetSnmpTrapReceiver(std::vector<std::string> communities, std::map<std::string, int> levels)
      : communities_(std::move(communities)), levels_(std::move(levels)) {}
  ~NetSnmpTrapReceiver() override {
    for (auto& c : communities_) std::fill(c.begin(), c.end(), '\0');
    if (sess_) {
      std::unique_lock<std::shared_mutex> lock(detail::library_mutex());
      snmp_sess_close(sess_);
    }
  }

  Status attach(const std::string& listen) {
    netsnmp_transport* t = netsnmp_transport_open_server("snmptrap", listen.c_str());
    if (!t) return Status(ErrorCode::kInvalidArgument, "cannot listen on '" + listen + "'");
    netsnmp_session s;
    snmp_sess_init(&s);
    s.peername = SNMP_DEFAULT_PEERNAME;
    s.version = SNMP_DEFAULT_VERSION;
    s.community_len = SNMP_DEFAULT_COMMUNITY_LEN;
    s.retries = SNMP_DEFAULT_RETRIES;
    s.timeout = SNMP_DEFAULT_TIMEOUT;
    s.callback = &NetSnmpTrapReceiver::callback;
    s.callback_magic = this;
    s.authenticator = nullptr;
    s.isAuthoritative = SNMP_SESS_UNKNOWNAUTH;
    sess_ = snmp_sess_add(&s, t, nullptr, nullptr);
    if (!sess_) return Status(ErrorCode::kInternal, "cannot add a session on '" + listen + "'");
    return {};
  }

  Status poll(std::chrono::milliseconds wait,
              const std::function<void(const TopologyEvent&)>& on_event) override {
    fd_set fds;
    FD_ZERO(&fds);
    int numfds = 0, block = 1;
    timeval lib_tv{};
    snmp_sess_select_info(sess_, &numfds, &fds, &lib_tv, &block);
    timeval tv{static_cast<time_t>(wait.count() / 1000),
               static_cast<suseconds_t>((wait.count() % 1000) * 1000)};
    int n = select(numfds, &fds, nullptr, nullptr, &tv);
    if (n < 0) {
      if (errno == EINTR) return {};
      return Status(ErrorCode::kInternal, std::string("select: ") + std::strerror(errno));
    }
    std::unique_lock<std::shared_mutex> lock(detail::library_mutex());
    if (n > 0) {
      on_event_ = &on_event;
      snmp_sess_read(sess_, &fds);
      on_event_ = nullptr;
    } else {
      snmp_sess_timeout(sess_);
    }
    return {};
  }

  const TrapReceiverCounters& counters() const override { return counters_; }

  std::string engine_id_hex() const override {
    u_char buf[64];
    size_t n = snmpv3_get_engineID(buf, sizeof buf);
    return to_hex(buf, n);
  }

 private:
  static int callback(int op, netsnmp_session*, int, netsnmp_pdu* pdu, void* magic) {
    if (op == NETSNMP_CALLBACK_OP_RECEIVED_MESSAGE)
      static_cast<NetSnmpTrapReceiver*>(magic)->handle(pdu);
    return 1;
  }

  void handle(netsnmp_pdu* pdu) {
    if (pdu->version == SNMP_VERSION_1) {
      ++counters_.v1_dropped;
      return;
    }
    bool inform = pdu->command == SNMP_MSG_INFORM;
    if (pdu->command != SNMP_MSG_TRAP2 && !inform) {
      ++counters_.not_a_notification;
      return;
    }
    TrapMessage m;
    m.inform = inform;
    if (pdu->version == SNMP_VERSION_2c) {
      std::string c(reinterpret_cast<const char*>(pdu->community), pdu->community_len);
      bool ok = false;
      for (const auto& want : communities_) ok = ok || want == c;
      std::fill(c.begin(), c.end(), '\0');
      if (!ok) {
        ++counters_.bad_community;
        return;
      }
      m.version = "v2c";
    } else if (pdu->version == SNMP_VERSION_3) {
      std::string user(pdu->securityName ? pdu->securityName : "", pdu->securityNameLen);
      auto it = levels_.find(user);
      if (it == levels_.end() || pdu->securityLevel < it->second) {
        ++counters_.v3_rejected;
        return;
      }
      m.version = "v3";
      m.security_name = user;
    } else {
      ++counters_.not_a_notification;
      return;
    }
    if (netsnmp_transport* t = snmp_sess_transport(sess_); t && t->f_fmtaddr) {
      if (char* text = t->f_fmtaddr(t, pdu->transport_data, pdu->transport_data_length)) {
        m.source = sender_address(text);
        free(text);  // NOLINT: allocated by net-snmp
      }
    }
    for (netsnmp_variable_list* v = pdu->variables; v; v = v->next_variable) {
      VarBind vb;
      for (size_t i = 0; i < v->name_length; ++i)
        vb.oid.push_back(static_cast<uint32_t>(v->name[i]));
      vb.value = detail::convert_value(v);
      m.varbinds.push_back(std::move(vb));
    }
    if (inform) {
      netsnmp_pdu* reply = snmp_clone_pdu(pdu);
      if (reply) {
        reply->command = SNMP_MSG_RESPONSE;
        reply->errstat = 0;
        reply->errindex = 0;
        if (snmp_sess_send(sess_, reply))
          ++counters_.informs_acked;
        else
          snmp_free_pdu(reply);
      }
    }
    auto ev = trap_to_event(m, static_cast<int64_t>(std::time(nullptr)));
    if (!ev.ok()) {
      ++counters_.no_trap_oid;
      return;
    }
    ++counters_.received;
    if (on_event_) (*on_event_)(*ev);
  }

  void* sess_ = nullptr;
  std::vector<std::string> communities_;
  std::map<std::string, int> levels_;  // v3 user -> minimum securityLevel
  const std::function<void(const TopologyEvent&)>* on_event_ = nullptr;
  TrapReceiverCounters counters_;
};

}  // namespace

Result<std::unique_ptr<TrapReceiver>> open_trap_receiver(const TrapReceiverConfig& config) {
  if (config.communities.empty() && config.users.empty())
    return Status(ErrorCode::kInvalidArgument, "give at least one community or SNMPv3 user");
  std::map<std::string, int> levels;
  for (const TrapUser& u : config.users) {
    if (u.name.empty() || u.name.find_first_of(" \t\"") != std::string::npos)
      return Status(ErrorCode::kInvalidArgument, "bad SNMPv3 user name");
    if (u.priv != PrivProtocol::kNone && u.auth == AuthProtocol::kNone)
      return Status(ErrorCode::kInvalidArgument, "SNMPv3 privacy requires an auth protocol");
    for (const std::string* p : {&u.auth_pass, &u.priv_pass}) {
      if (p->find('"') != std::string::npos || p->find('\n') != std::string::npos)
        return Status(ErrorCode::kInvalidArgument, "SNMPv3 passwords cannot contain '\"'");
    }
    if ((u.auth != AuthProtocol::kNone && u.auth_pass.size() < 8) ||
        (u.priv != PrivProtocol::kNone && u.priv_pass.size() < 8))
      return Status(ErrorCode::kInvalidArgument, "SNMPv3 passwords need at least 8 characters");
    if (u.engine_id_hex.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos ||
        u.engine_id_hex.size() % 2 || u.engine_id_hex.size() > 64 ||
        (!u.engine_id_hex.empty() && u.engine_id_hex.size() < 10))
      return Status(ErrorCode::kInvalidArgument, "engine ID must be 5..32 bytes of hex");
    levels[u.name] = u.auth == AuthProtocol::kNone   ? SNMP_SEC_LEVEL_NOAUTH
                     : u.priv == PrivProtocol::kNone ? SNMP_SEC_LEVEL_AUTHNOPRIV
                                                     : SNMP_SEC_LEVEL_AUTHPRIV;
  }
  detail::init_library_once();
  auto receiver = std::make_unique<NetSnmpTrapReceiver>(config.communities, levels);
  std::unique_lock<std::shared_mutex> lock(detail::library_mutex());
  // USM users, exactly as snmptrapd's "createUser [-e ENGINEID] name auth pass priv pass": once
  // under our engine ID (informs) and, when given, once under the sender's (traps).
  for (const TrapUser& u : config.users) {
    std::string tail = u.name;
    if (const char* a = auth_name(u.auth))
      tail += std::string(" ") + a + " \"" + u.auth_pass + "\"";
    if (const char* p = priv_name(u.priv))
      tail += std::string(" ") + p + " \"" + u.priv_pass + "\"";
    std::vector<std::string> lines{tail};
    if (!u.engine_id_hex.empty()) lines.push_back("-e 0x" + u.engine_id_hex + " " + tail);
    for (std::string& line : lines) {
      usm_parse_create_usmUser("createUser", line.data());
      std::fill(line.begin(), line.end(), '\0');
    }
    std::fill(tail.begin(), tail.end(), '\0');
  }
  if (Status s = receiver->attach(config.listen); !s.ok()) return s;
  return std::unique_ptr<TrapReceiver>(std::move(receiver));
}

}  // namespace cg::snmp

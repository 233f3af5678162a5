#include "controlplane/alerting/channels.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <httplib.h>
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "controlplane/alerting/format.h"

namespace cg::alerting {

std::string robot_reply_error(ChannelType type, int http_status, const std::string& body) {
  if (http_status < 200 || http_status > 299) return "HTTP " + std::to_string(http_status);
  if (type == ChannelType::kWebhook) return "";
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object()) return "reply is not a JSON object";
  auto code_of = [&](const char* k) -> std::optional<int64_t> {
    auto it = j.find(k);
    if (it == j.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  std::optional<int64_t> code;
  std::string msg;
  if (type == ChannelType::kFeishu) {
    code = code_of("code");
    if (!code) code = code_of("StatusCode");
    msg = j.value("msg", j.value("StatusMessage", ""));
  } else {
    code = code_of("errcode");
    msg = j.value("errmsg", "");
  }
  if (!code) return "reply has no result code";
  if (*code != 0) return "robot error " + std::to_string(*code) + ": " + msg;
  return "";
}

namespace {

std::string local_hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "campusguard";
  return buf;
}

// ------------------------------------------------------------------------------------ HTTP

struct UrlParts {
  std::string origin;  // scheme://host:port
  std::string target;  // /path?query
};

std::optional<UrlParts> split_url(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return std::nullopt;
  size_t path = url.find('/', scheme_end + 3);
  size_t query = url.find('?', scheme_end + 3);
  size_t cut = std::min(path, query);
  UrlParts p;
  p.origin = url.substr(0, cut);
  p.target = cut == std::string::npos ? "/" : url.substr(cut);
  if (p.target[0] == '?') p.target = "/" + p.target;
  return p;
}

class HttpChannel final : public Channel {
 public:
  using Channel::Channel;

  SendResult send(const Alert& a, TimePoint now) override {
    std::string url = config_.url;
    nlohmann::json body;
    switch (config_.type) {
      case ChannelType::kWebhook:
        body = webhook_body(a);
        break;
      case ChannelType::kWecom:
        body = wecom_body(a, config_);
        break;
      case ChannelType::kDingtalk:
        body = dingtalk_body(a, config_);
        url = dingtalk_url(config_, to_ms(now));
        break;
      case ChannelType::kFeishu:
        body = feishu_body(a, config_, to_ms(now) / 1000);
        break;
      default:
        return {false, "not an HTTP channel"};
    }
    auto parts = split_url(url);
    if (!parts) return {false, "bad url"};
    httplib::Client cli(parts->origin);
    if (!cli.is_valid()) return {false, "unsupported url " + parts->origin};
    auto secs = std::chrono::duration_cast<std::chrono::seconds>(config_.timeout).count();
    auto usecs =
        std::chrono::duration_cast<std::chrono::microseconds>(config_.timeout).count() % 1'000'000;
    cli.set_connection_timeout(secs, usecs);
    cli.set_read_timeout(secs, usecs);
    cli.set_write_timeout(secs, usecs);
    if (!config_.ca_file.empty()) cli.set_ca_cert_path(config_.ca_file.c_str());
    cli.enable_server_certificate_verification(!config_.insecure_skip_verify);
    httplib::Headers headers;
    for (const auto& [k, v] : config_.headers) headers.emplace(k, v);
    headers.emplace("User-Agent", "campusguard-alerting/1");
    auto res = cli.Post(parts->target, headers, body.dump(), "application/json");
    if (!res) return {false, "http: " + httplib::to_string(res.error())};
    std::string err = robot_reply_error(config_.type, res->status, res->body);
    if (!err.empty()) return {false, err};
    return {true, ""};
  }
};

// ------------------------------------------------------------------------------------ SMTP

void curl_init_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

class EmailChannel final : public Channel {
 public:
  using Channel::Channel;

  SendResult send(const Alert& a, TimePoint now) override {
    curl_init_once();
    std::string host = local_hostname();
    std::string msg = email_message(a, config_, now, host);
    CURL* curl = curl_easy_init();
    if (!curl) return {false, "curl_easy_init failed"};
    struct Reader {
      const std::string* data;
      size_t pos = 0;
    } reader{&msg};
    auto read_cb = +[](char* buf, size_t size, size_t nmemb, void* ud) -> size_t {
      auto* r = static_cast<Reader*>(ud);
      size_t n = std::min(size * nmemb, r->data->size() - r->pos);
      std::memcpy(buf, r->data->data() + r->pos, n);
      r->pos += n;
      return n;
    };
    char errbuf[CURL_ERROR_SIZE] = {};
    curl_slist* rcpt = nullptr;
    for (const auto& t : config_.to) rcpt = curl_slist_append(rcpt, ("<" + t + ">").c_str());
    std::string from = "<" + config_.from + ">";
    curl_easy_setopt(curl, CURLOPT_URL, config_.url.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_FROM, from.c_str());
    curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_cb);
    curl_easy_setopt(curl, CURLOPT_READDATA, &reader);
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(config_.timeout.count()));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(config_.timeout.count()));
    if (config_.starttls == StartTls::kRequired)
      curl_easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));
    if (!config_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, config_.ca_file.c_str());
    if (config_.insecure_skip_verify) {
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!config_.username.empty()) {
      curl_easy_setopt(curl, CURLOPT_USERNAME, config_.username.c_str());
      curl_easy_setopt(curl, CURLOPT_PASSWORD, config_.password.c_str());
    }
    CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(rcpt);
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK)
      return {false, std::string("smtp: ") + (errbuf[0] ? errbuf : curl_easy_strerror(rc))};
    return {true, ""};
  }
};

// ---------------------------------------------------------------------------------- syslog

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string errno_text(const char* what) {
  return std::string(what) + ": " + strerror(errno);
}

// Connects (stream) or binds a connected datagram socket to host:port within the timeout.
int open_socket(const ChannelConfig& c, bool stream, std::string& error) {
  addrinfo hints{};
  hints.ai_socktype = stream ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_family = AF_UNSPEC;
  addrinfo* res = nullptr;
  std::string port = std::to_string(c.port);
  int rc = getaddrinfo(c.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    error = std::string("resolve ") + c.host + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) continue;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int soerr = 0;
      socklen_t len = sizeof soerr;
      if (poll(&p, 1, static_cast<int>(c.timeout.count())) == 1 &&
          getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == 0 && soerr == 0)
        break;
      errno = soerr ? soerr : ETIMEDOUT;
    }
    error = errno_text("connect");
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd >= 0) {
    int flags = 0;  // back to blocking with timeouts for the writes
    ioctl(fd, FIONBIO, &flags);
    timeval tv{static_cast<time_t>(c.timeout.count() / 1000),
               static_cast<suseconds_t>((c.timeout.count() % 1000) * 1000)};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  return fd;
}

std::string ssl_error_text() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown TLS error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  ERR_clear_error();
  return buf;
}

class SyslogChannel final : public Channel {
 public:
  explicit SyslogChannel(ChannelConfig c)
      : Channel(std::move(c)),
        hostname_(config_.hostname.empty() ? local_hostname() : config_.hostname) {}

  SendResult send(const Alert& a, TimePoint now) override {
    std::string msg = syslog_message(a, config_, now, hostname_, static_cast<int>(getpid()));
    std::string error;
    bool stream = config_.transport != SyslogTransport::kUdp;
    Fd fd(open_socket(config_, stream, error));
    if (fd.get() < 0) return {false, "syslog: " + error};
    if (config_.transport == SyslogTransport::kUdp) {
      if (::send(fd.get(), msg.data(), msg.size(), 0) != static_cast<ssize_t>(msg.size()))
        return {false, "syslog: " + errno_text("send")};
      return {true, ""};
    }
    std::string frame = octet_counted(msg);
    if (config_.transport == SyslogTransport::kTcp) {
      size_t off = 0;
      while (off < frame.size()) {
        ssize_t n = ::send(fd.get(), frame.data() + off, frame.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return {false, "syslog: " + errno_text("send")};
        off += static_cast<size_t>(n);
      }
      shutdown(fd.get(), SHUT_WR);
      return {true, ""};
    }
    return send_tls(fd.get(), frame);
  }

 private:
  SendResult send_tls(int fd, const std::string& frame) {
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()),
                                                          SSL_CTX_free);
    if (!ctx) return {false, "tls: " + ssl_error_text()};
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
    if (!config_.insecure_skip_verify) {
      SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
      int ok = config_.ca_file.empty()
                   ? SSL_CTX_set_default_verify_paths(ctx.get())
                   : SSL_CTX_load_verify_locations(ctx.get(), config_.ca_file.c_str(), nullptr);
      if (ok != 1) return {false, "tls: trust anchors: " + ssl_error_text()};
    }
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
    SSL_set_fd(ssl.get(), fd);
    in6_addr probe{};
    bool is_ip = inet_pton(AF_INET, config_.host.c_str(), &probe) == 1 ||
                 inet_pton(AF_INET6, config_.host.c_str(), &probe) == 1;
    if (!config_.insecure_skip_verify) {
      X509_VERIFY_PARAM* param = SSL_get0_param(ssl.get());
      if (is_ip)
        X509_VERIFY_PARAM_set1_ip_asc(param, config_.host.c_str());
      else
        X509_VERIFY_PARAM_set1_host(param, config_.host.c_str(), 0);
    }
    if (!is_ip) SSL_set_tlsext_host_name(ssl.get(), config_.host.c_str());
    if (SSL_connect(ssl.get()) != 1) return {false, "tls handshake: " + ssl_error_text()};
    size_t off = 0;
    while (off < frame.size()) {
      int n = SSL_write(ssl.get(), frame.data() + off, static_cast<int>(frame.size() - off));
      if (n <= 0) return {false, "tls write: " + ssl_error_text()};
      off += static_cast<size_t>(n);
    }
    SSL_shutdown(ssl.get());
    return {true, ""};
  }

  std::string hostname_;
};

// ------------------------------------------------------------------------------------ SNMP

void snmp_init_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
    netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_LOAD_HOST_FILES, 1);
    setenv("MIBS", "", 0);
    snmp_disable_log();
    init_snmp("campusguard");
  });
}

class SnmpChannel final : public Channel {
 public:
  explicit SnmpChannel(ChannelConfig c)
      : Channel(std::move(c)), start_(std::chrono::steady_clock::now()) {}

  SendResult send(const Alert& a, TimePoint) override {
    snmp_init_once();
    netsnmp_session s;
    snmp_sess_init(&s);
    s.version = SNMP_VERSION_2c;
    std::string peer = (config_.host.find(':') != std::string::npos ? "udp6:[" + config_.host + "]"
                                                                    : "udp:" + config_.host) +
                       ":" + std::to_string(config_.port);
    s.peername = peer.data();
    s.community = reinterpret_cast<u_char*>(config_.community.data());
    s.community_len = config_.community.size();
    s.timeout = static_cast<long>(config_.timeout.count()) * 1000;
    s.retries = config_.retries;
    void* sess = snmp_sess_open(&s);
    if (!sess) return {false, "snmp: cannot open session to " + peer};
    bool inform = config_.snmp_mode == SnmpMode::kInform;
    netsnmp_pdu* pdu = snmp_pdu_create(inform ? SNMP_MSG_INFORM : SNMP_MSG_TRAP2);
    std::string base = kEnterpriseOid;
    auto uptime_cs = std::chrono::duration_cast<std::chrono::milliseconds>(
                         std::chrono::steady_clock::now() - start_)
                         .count() /
                     10;
    std::string err;
    auto add = [&](const std::string& o, char type, const std::string& value) {
      oid name[MAX_OID_LEN];
      size_t len = MAX_OID_LEN;
      if (!read_objid(o.c_str(), name, &len)) {
        err = "bad oid " + o;
        return;
      }
      if (snmp_add_var(pdu, name, len, type, value.c_str()) != 0) err = "cannot add " + o;
    };
    add(".1.3.6.1.2.1.1.3.0", 't', std::to_string(uptime_cs));
    add(".1.3.6.1.6.3.1.1.4.1.0", 'o', "." + base + ".0.1");
    add("." + base + ".2.1", 'C', std::to_string(a.id));
    add("." + base + ".2.2", 's', a.rule);
    add("." + base + ".2.3", 'i', std::to_string(static_cast<int>(a.severity)));
    add("." + base + ".2.4", 's', utf8_truncate(a.summary, 255));
    add("." + base + ".2.5", 's', field_text(a.event, "src_ip").value_or(""));
    add("." + base + ".2.6", 's', field_text(a.event, "dest_ip").value_or(""));
    add("." + base + ".2.7", 'u', std::to_string(std::min<uint64_t>(a.events, 0xffffffffu)));
    add("." + base + ".2.8", 's', format_rfc3339(a.first_seen));
    add("." + base + ".2.9", 's', field_text(a.event, "school_id").value_or(""));
    if (!err.empty()) {
      snmp_free_pdu(pdu);
      snmp_sess_close(sess);
      return {false, "snmp: " + err};
    }
    SendResult r{true, ""};
    if (inform) {
      netsnmp_pdu* response = nullptr;
      int st = snmp_sess_synch_response(sess, pdu, &response);
      if (st != STAT_SUCCESS)
        r = {false, st == STAT_TIMEOUT ? "snmp: inform timed out" : "snmp: inform failed"};
      else if (response->errstat != SNMP_ERR_NOERROR)
        r = {false, std::string("snmp: ") + snmp_errstring(static_cast<int>(response->errstat))};
      if (response) snmp_free_pdu(response);
    } else if (snmp_sess_send(sess, pdu) == 0) {
      snmp_free_pdu(pdu);
      r = {false, "snmp: send failed"};
    }
    snmp_sess_close(sess);
    return r;
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

std::unique_ptr<Channel> make_channel(const ChannelConfig& config) {
  switch (config.type) {
    case ChannelType::kWebhook:
    case ChannelType::kWecom:
    case ChannelType::kDingtalk:
    case ChannelType::kFeishu:
      return std::make_unique<HttpChannel>(config);
    case ChannelType::kEmail:
      return std::make_unique<EmailChannel>(config);
    case ChannelType::kSyslog:
      return std::make_unique<SyslogChannel>(config);
    case ChannelType::kSnmp:
      return std::make_unique<SnmpChannel>(config);
  }
  return nullptr;
}

}  // namespace cg::alerting

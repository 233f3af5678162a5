// cg_alerting against real peers on 127.0.0.1, each started and stopped here: peers.py (HTTP
// receivers that check the robot APIs' exact JSON and signatures, an RFC 5424 syslog receiver
// on UDP/TCP/TLS, an aiosmtpd sink that requires STARTTLS) and snmptrapd. Peers that are
// missing fail the test with a message; nothing is skipped.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "controlplane/alerting/format.h"
#include "controlplane/alerting/service.h"

namespace cg::alerting {
namespace {

namespace fs = std::filesystem;
constexpr const char* kPython = "/usr/bin/python3";
constexpr const char* kSnmptrapd = "/usr/sbin/snmptrapd";

std::string source_dir() {
  const char* s = std::getenv("CG_SOURCE_DIR");
  return s ? s : ".";
}

int free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<nlohmann::json> json_lines(const fs::path& p) {
  std::vector<nlohmann::json> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Waits (bounded) until `pred` holds; readiness of peers, not a timing assertion.
template <class F>
bool eventually(F pred, int seconds = 20) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

// A child process; killed (SIGTERM, then SIGKILL) and reaped when destroyed, and killed by the
// kernel if this test process dies first (PR_SET_PDEATHSIG), so no peer outlives a crash.
class Peer {
 public:
  Peer(std::vector<std::string> argv, bool wait_ready_line) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      dup2(fds[1], STDOUT_FILENO);
      execv(args[0], args.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
    if (pid_ > 0 && wait_ready_line) ready_ = read_ready();
  }
  ~Peer() { stop(); }
  void stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int st;
      if (!eventually([&] { return waitpid(pid_, &st, WNOHANG) == pid_; }, 5)) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &st, 0);
      }
      pid_ = -1;
    }
    if (out_ >= 0) close(out_);
    out_ = -1;
  }
  bool ready() const { return ready_; }
  bool running() const { return pid_ > 0; }

 private:
  bool read_ready() {
    std::string got;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < end) {
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 200) == 1) {
        char buf[256];
        ssize_t n = read(out_, buf, sizeof buf);
        if (n <= 0) return false;
        got.append(buf, static_cast<size_t>(n));
        if (got.find("READY") != std::string::npos) return true;
      }
    }
    return false;
  }

  pid_t pid_ = -1;
  int out_ = -1;
  bool ready_ = false;
};

class AlertingIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("cg-alert-it-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::string cmd =
        "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost "
        "-addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl (Debian package openssl) is required";
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    ASSERT_TRUE(fs::exists(kPython)) << kPython << " is required (Debian python3)";
    name_ = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::create_directories(dir_ / name_);
  }

  fs::path path(const std::string& f) const { return dir_ / name_ / f; }
  std::string cert() const { return (dir_ / "cert.pem").string(); }
  std::string key() const { return (dir_ / "key.pem").string(); }

  std::unique_ptr<Service> service(const std::string& channels, const std::string& names) {
    std::string y = "version: 1\ndelivery:\n  queue: " + path("alerts.db").string() +
                    "\n  backoff: {initial: 2s, max: 1m}\nchannels:\n" + channels +
                    "rules:\n  - {name: scan, group_by: src_ip, match: {event_type: alert}, "
                    "channels: [" +
                    names + "]}\n";
    auto r = load_config(y, "it.yaml");
    for (const auto& e : r.errors) ADD_FAILURE() << format_diagnostic(e);
    if (!r.ok()) return nullptr;
    std::string err;
    auto s = Service::create(r.config, clock_, err);
    EXPECT_TRUE(s) << err;
    return s;
  }

  // The sample event (valid against dataplane/api/event.schema.json, checked below) with
  // another source address.
  static nlohmann::json event(const std::string& src) {
    static const nlohmann::json sample = nlohmann::json::parse(
        slurp(source_dir() + "/tests/integration/alerting/sample_alert_event.json"));
    nlohmann::json e = sample;
    e["src_ip"] = src;
    return e;
  }

  static inline fs::path dir_;
  std::string name_;
  cp::ManualClock clock_{cp::SystemClock().now_us()};  // real time: robots check timestamps
};

TEST_F(AlertingIntegration, SampleEventConformsToTheEventSchema) {
  std::string cmd = std::string(kPython) +
                    " -c 'import json, sys, jsonschema; "
                    "jsonschema.Draft202012Validator(json.load(open(sys.argv[1])))"
                    ".validate(json.load(open(sys.argv[2])))' " +
                    source_dir() + "/dataplane/api/event.schema.json " + source_dir() +
                    "/tests/integration/alerting/sample_alert_event.json";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << "needs python3-jsonschema; the sample must validate";
}

TEST_F(AlertingIntegration, WebhookAndRobotsInTheirDocumentedFormats) {
  int port = free_port();
  Peer peer({kPython, source_dir() + "/tests/integration/alerting/peers.py", "http", "--port",
             std::to_string(port), "--log", path("http.log").string(), "--dingtalk-secret",
             "SECdingtalk", "--feishu-secret", "feishu-key"},
            true);
  ASSERT_TRUE(peer.ready()) << "peers.py http did not start";
  std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto svc = service("  hook: {type: webhook, url: '" + base +
                         "/hook', headers: {X-Campusguard-Token: t0k}}\n"
                         "  wecom: {type: wecom, url: '" +
                         base +
                         "/cgi-bin/webhook/send?key=K1', "
                         "mention_users: [wangwei]}\n"
                         "  wecom_at: {type: wecom, url: '" +
                         base +
                         "/cgi-bin/webhook/send?key=K2', "
                         "mention_mobiles: ['13800000000'], mention_all: true}\n"
                         "  ding: {type: dingtalk, url: '" +
                         base +
                         "/robot/send?access_token=T', "
                         "secret: SECdingtalk, mention_mobiles: ['13800000000']}\n"
                         "  ding_bad: {type: dingtalk, url: '" +
                         base +
                         "/robot/send?access_token=T', "
                         "secret: SECwrong}\n"
                         "  feishu: {type: feishu, url: '" +
                         base +
                         "/open-apis/bot/v2/hook/abc', "
                         "secret: feishu-key}\n",
                     "hook, wecom, wecom_at, ding, ding_bad, feishu");
  ASSERT_TRUE(svc);
  auto raised = svc->ingest(event("10.20.3.4"));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(svc->pump(), 5u);
  // The wrongly signed DingTalk robot is refused by the receiver (errcode 310000) and stays
  // queued with the reason.
  auto ds = svc->deliveries(raised[0].id);
  ASSERT_EQ(ds.size(), 6u);
  for (const auto& d : ds) {
    if (d.channel == "ding_bad") {
      EXPECT_EQ(d.state, DeliveryState::kPending);
      EXPECT_EQ(d.last_error, "robot error 310000: sign not match");
    } else {
      EXPECT_EQ(d.state, DeliveryState::kDelivered) << d.channel << ": " << d.last_error;
    }
  }
  auto log = json_lines(path("http.log"));
  ASSERT_EQ(log.size(), 6u);
  int accepted = 0;
  for (const auto& e : log) {
    std::string kind = e["kind"];
    if (e.contains("rejected")) {
      EXPECT_EQ(kind, "dingtalk");
      EXPECT_EQ(e["rejected"], "sign not match");
      continue;
    }
    ++accepted;
    EXPECT_EQ(e["content_type"], "application/json");
    const auto& b = e["body"];
    if (kind == "webhook") {
      EXPECT_EQ(b["alert"]["id"], raised[0].id);
      EXPECT_EQ(b["alert"]["event"]["community_id"], "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
      EXPECT_EQ(b["alert"]["severity"], "high");
    } else if (kind == "wecom" && e["query"]["key"] == "K1") {
      EXPECT_EQ(b["msgtype"], "markdown");
      EXPECT_NE(std::string(b["markdown"]["content"]).find("<@wangwei>"), std::string::npos);
    } else if (kind == "wecom") {
      EXPECT_EQ(b["msgtype"], "text");
      EXPECT_EQ(b["text"]["mentioned_list"], nlohmann::json::parse(R"(["@all"])"));
    } else if (kind == "dingtalk") {
      EXPECT_EQ(b["at"]["atMobiles"], nlohmann::json::parse(R"(["13800000000"])"));
      EXPECT_NE(std::string(b["markdown"]["text"]).find("端口扫描"), std::string::npos);
    } else if (kind == "feishu") {
      EXPECT_EQ(b["content"]["post"]["zh_cn"]["title"],
                "campusguard [HIGH] scan: 端口扫描 vertical port scan 10.20.3.4 -> 10.20.0.5");
    }
  }
  EXPECT_EQ(accepted, 5);
}

TEST_F(AlertingIntegration, EmailOverSmtpWithStartTls) {
  int port = free_port();
  Peer peer(
      {kPython, source_dir() + "/tests/integration/alerting/peers.py", "smtp", "--port",
       std::to_string(port), "--cert", cert(), "--key", key(), "--log", path("smtp.log").string()},
      true);
  ASSERT_TRUE(peer.ready()) << "aiosmtpd sink did not start (Debian python3-aiosmtpd)";
  std::string url = "smtp://127.0.0.1:" + std::to_string(port);
  auto svc = service("  mail: {type: email, url: '" + url +
                         "', from: cg@s017.example, "
                         "to: [soc@city.example, admin@s017.example], ca_file: '" +
                         cert() +
                         "'}\n"
                         "  mail_plain: {type: email, url: '" +
                         url +
                         "', from: cg@s017.example, "
                         "to: [x@city.example], starttls: none}\n",
                     "mail, mail_plain");
  ASSERT_TRUE(svc);
  auto raised = svc->ingest(event("10.20.3.5"));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(svc->pump(), 1u);
  // Without STARTTLS the sink refuses the mail (require_starttls): delivery stays queued.
  for (const auto& d : svc->deliveries(raised[0].id)) {
    if (d.channel == "mail")
      EXPECT_EQ(d.state, DeliveryState::kDelivered) << d.last_error;
    else
      EXPECT_EQ(d.state, DeliveryState::kPending);
  }
  auto log = json_lines(path("smtp.log"));
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0]["tls"].get<bool>());
  EXPECT_EQ(log[0]["mail_from"], "cg@s017.example");
  EXPECT_EQ(log[0]["rcpt_tos"],
            nlohmann::json::parse(R"(["soc@city.example","admin@s017.example"])"));
  EXPECT_EQ(log[0]["subject"],
            "campusguard [HIGH] scan: 端口扫描 vertical port scan 10.20.3.5 -> 10.20.0.5");
  EXPECT_EQ(log[0]["alert_id"], std::to_string(raised[0].id));
  EXPECT_NE(
      std::string(log[0]["body"]).find("\"community_id\": \"1:LQU9qZlK+B5F3KDmev6m5PMibrg=\""),
      std::string::npos);
}

TEST_F(AlertingIntegration, SyslogRfc5424OverUdpTcpTls) {
  int udp = free_port(), tcp = free_port(), tls = free_port();
  Peer peer({kPython, source_dir() + "/tests/integration/alerting/peers.py", "syslog", "--udp",
             std::to_string(udp), "--tcp", std::to_string(tcp), "--tls", std::to_string(tls),
             "--cert", cert(), "--key", key(), "--log", path("syslog.log").string()},
            true);
  ASSERT_TRUE(peer.ready()) << "peers.py syslog did not start";
  auto svc = service("  su: {type: syslog, host: 127.0.0.1, port: " + std::to_string(udp) +
                         ", hostname: cg-s017}\n"
                         "  st: {type: syslog, transport: tcp, host: 127.0.0.1, port: " +
                         std::to_string(tcp) +
                         ", hostname: cg-s017}\n"
                         "  ss: {type: syslog, transport: tls, host: 127.0.0.1, port: " +
                         std::to_string(tls) + ", hostname: cg-s017, ca_file: '" + cert() +
                         "', facility: 10}\n",
                     "su, st, ss");
  ASSERT_TRUE(svc);
  auto raised = svc->ingest(event("10.20.3.6"));
  ASSERT_EQ(svc->pump(), 3u);
  ASSERT_TRUE(eventually([&] { return json_lines(path("syslog.log")).size() >= 3; }))
      << slurp(path("syslog.log"));
  std::set<std::string> transports;
  for (const auto& e : json_lines(path("syslog.log"))) {
    ASSERT_FALSE(e.contains("rejected")) << e.dump();
    std::string t = e["transport"];
    transports.insert(t);
    EXPECT_EQ(e["pri"], (t == "tls" ? 10 : 4) * 8 + 3);
    EXPECT_EQ(e["hostname"], "cg-s017");
    EXPECT_EQ(e["app"], "campusguard");
    EXPECT_EQ(e["msgid"], "ALERT");
    EXPECT_EQ(e["sd_id"], kSyslogSdId);
    EXPECT_EQ(e["sd"]["id"], std::to_string(raised[0].id));
    EXPECT_EQ(e["sd"]["src_ip"], "10.20.3.6");
    EXPECT_EQ(e["sd"]["community_id"], "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    EXPECT_TRUE(e["bom"].get<bool>());
    EXPECT_EQ(e["msg"], "scan: 端口扫描 vertical port scan 10.20.3.6 -> 10.20.0.5");
    EXPECT_TRUE(parse_rfc3339(e["timestamp"].get<std::string>()));
  }
  EXPECT_EQ(transports, (std::set<std::string>{"udp", "tcp", "tls"}));
}

TEST_F(AlertingIntegration, SnmpTrapAndInformToSnmptrapd) {
  ASSERT_TRUE(fs::exists(kSnmptrapd)) << kSnmptrapd << " is required (Debian snmptrapd)";
  int port = free_port();
  std::ofstream(path("snmptrapd.conf")) << "authCommunity log campus\n";
  setenv("SNMP_PERSISTENT_DIR", path("").c_str(), 1);
  Peer trapd({kSnmptrapd, "-f", "-C", "-c", path("snmptrapd.conf").string(), "-On", "-Lf",
              path("trapd.log").string(), "udp:127.0.0.1:" + std::to_string(port)},
             false);
  ASSERT_TRUE(eventually([&] {
    return slurp(path("trapd.log")).find("NET-SNMP version") != std::string::npos;
  })) << "snmptrapd did not start: "
      << slurp(path("trapd.log"));
  auto svc = service("  trap: {type: snmp, host: 127.0.0.1, port: " + std::to_string(port) +
                         ", community: campus}\n"
                         "  inform: {type: snmp, host: 127.0.0.1, port: " +
                         std::to_string(port) + ", community: campus, mode: inform}\n",
                     "trap, inform");
  ASSERT_TRUE(svc);
  auto raised = svc->ingest(event("10.20.3.7"));
  ASSERT_EQ(svc->pump(), 2u);  // the inform was acknowledged by snmptrapd
  std::string oid = std::string(".") + kEnterpriseOid;
  ASSERT_TRUE(eventually([&] {
    std::string l = slurp(path("trapd.log"));
    size_t n = 0;
    for (size_t p = 0; (p = l.find(oid + ".0.1", p)) != std::string::npos; ++p) ++n;
    return n >= 2;
  })) << slurp(path("trapd.log"));
  std::string l = slurp(path("trapd.log"));
  EXPECT_NE(l.find(oid + ".2.2 = STRING: \"scan\""), std::string::npos) << l;
  EXPECT_NE(l.find(oid + ".2.5 = STRING: \"10.20.3.7\""), std::string::npos) << l;
  EXPECT_NE(l.find(oid + ".2.1 = Counter64: " + std::to_string(raised[0].id)), std::string::npos)
      << l;
  EXPECT_NE(l.find(oid + ".2.3 = INTEGER: 3"), std::string::npos) << l;
}

TEST_F(AlertingIntegration, ChannelDownThenUpReceivesTheAlertAfterARestart) {
  int http = free_port(), smtp = free_port();
  std::string chans = "  hook: {type: webhook, url: 'http://127.0.0.1:" + std::to_string(http) +
                      "/hook', "
                      "timeout: 2s}\n"
                      "  mail: {type: email, url: 'smtp://127.0.0.1:" +
                      std::to_string(smtp) +
                      "', "
                      "from: cg@s017.example, to: [soc@city.example], ca_file: '" +
                      cert() + "', timeout: 2s}\n";
  uint64_t id;
  {
    auto svc = service(chans, "hook, mail");
    ASSERT_TRUE(svc);
    id = svc->ingest(event("10.20.3.8")).at(0).id;
    EXPECT_EQ(svc->pump(), 0u);  // both peers down
    for (const auto& d : svc->deliveries(id)) {
      EXPECT_EQ(d.state, DeliveryState::kPending);
      EXPECT_EQ(d.attempts, 1u);
      EXPECT_FALSE(d.last_error.empty());
    }
  }  // controld goes away with the deliveries owed
  Peer hp({kPython, source_dir() + "/tests/integration/alerting/peers.py", "http", "--port",
           std::to_string(http), "--log", path("http.log").string()},
          true);
  Peer sp(
      {kPython, source_dir() + "/tests/integration/alerting/peers.py", "smtp", "--port",
       std::to_string(smtp), "--cert", cert(), "--key", key(), "--log", path("smtp.log").string()},
      true);
  ASSERT_TRUE(hp.ready() && sp.ready());
  auto svc = service(chans, "hook, mail");
  ASSERT_TRUE(svc);
  EXPECT_EQ(svc->pump(), 0u);  // backoff: not due yet
  clock_.advance_us(2'000'000);
  EXPECT_EQ(svc->pump(), 2u);
  for (const auto& d : svc->deliveries(id)) {
    EXPECT_EQ(d.state, DeliveryState::kDelivered);
    EXPECT_EQ(d.attempts, 2u);
  }
  auto hl = json_lines(path("http.log"));
  ASSERT_EQ(hl.size(), 1u);
  EXPECT_EQ(hl[0]["body"]["alert"]["id"], id);
  auto ml = json_lines(path("smtp.log"));
  ASSERT_EQ(ml.size(), 1u);
  EXPECT_EQ(ml[0]["alert_id"], std::to_string(id));
}

TEST_F(AlertingIntegration, DeliveryThreadDeliversWithoutManualPumps) {
  int port = free_port();
  Peer peer({kPython, source_dir() + "/tests/integration/alerting/peers.py", "http", "--port",
             std::to_string(port), "--log", path("http.log").string()},
            true);
  ASSERT_TRUE(peer.ready());
  auto svc = service(
      "  hook: {type: webhook, url: 'http://127.0.0.1:" + std::to_string(port) + "/hook'}\n",
      "hook");
  ASSERT_TRUE(svc);
  svc->start(Millis(200));
  for (int i = 0; i < 20; ++i) svc->ingest(event("10.20.4." + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return svc->pending_deliveries() == 0; }));
  svc->stop();
  EXPECT_EQ(json_lines(path("http.log")).size(), 20u);
}

}  // namespace
}  // namespace cg::alerting

#include "snmp/session/session.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "snmp/session/concurrency.h"
#include "snmp/session/fake_session.h"

namespace cg::snmp {
namespace {

TEST(Oid, ParseAndFormat) {
  auto o = parse_oid("1.3.6.1.2.1.1.5.0");
  ASSERT_TRUE(o);
  EXPECT_EQ(format_oid(*o), "1.3.6.1.2.1.1.5.0");
  EXPECT_TRUE(parse_oid(".1.3.6"));
  EXPECT_EQ(parse_oid("4294967295")->at(0), 4294967295u);
  for (const char* bad : {"", ".", "1..2", "1.2.", "1.a", "4294967296", "1.-2", "1 .2"}) {
    EXPECT_FALSE(parse_oid(bad)) << bad;
  }
  EXPECT_TRUE(oid_starts_with({1, 2, 3}, {1, 2}));
  EXPECT_FALSE(oid_starts_with({1, 2}, {1, 2, 3}));
  EXPECT_EQ(oid_suffix({1, 2, 3, 4}, {1, 2}), (Oid{3, 4}));
}

TEST(Address, Parse) {
  std::string h;
  uint16_t p = 0;
  ASSERT_TRUE(parse_address("10.0.0.1", &h, &p));
  EXPECT_EQ(h, "10.0.0.1");
  EXPECT_EQ(p, 161);
  ASSERT_TRUE(parse_address("127.0.0.1:1161", &h, &p));
  EXPECT_EQ(p, 1161);
  ASSERT_TRUE(parse_address("[::1]:162", &h, &p));
  EXPECT_EQ(h, "::1");
  EXPECT_EQ(p, 162);
  ASSERT_TRUE(parse_address("fe80::1", &h, &p));
  EXPECT_EQ(h, "fe80::1");
  EXPECT_EQ(p, 161);
  for (const char* bad :
       {"", ":161", "host:0", "host:65536", "host:x", "a b", "[::1", "[::1]x", "h;rm"}) {
    EXPECT_FALSE(parse_address(bad, &h, &p)) << bad;
  }
  EXPECT_EQ(host_of("127.0.0.1:1161"), "127.0.0.1");
  EXPECT_EQ(host_of("[::1]:162"), "::1");
  EXPECT_EQ(host_of("fe80::1"), "fe80::1");
  EXPECT_EQ(host_of("a b"), "a b");  // not an address: the text itself
}

TEST(Protocols, Parse) {
  AuthProtocol a;
  PrivProtocol p;
  EXPECT_TRUE(parse_auth_protocol("sha-256", &a));
  EXPECT_EQ(a, AuthProtocol::kSha256);
  EXPECT_TRUE(parse_auth_protocol("SHA", &a));
  EXPECT_EQ(a, AuthProtocol::kSha1);
  EXPECT_TRUE(parse_auth_protocol("SHA512", &a));
  EXPECT_EQ(a, AuthProtocol::kSha512);
  EXPECT_FALSE(parse_auth_protocol("SHA-999", &a));
  EXPECT_TRUE(parse_priv_protocol("aes", &p));
  EXPECT_EQ(p, PrivProtocol::kAes128);
  EXPECT_TRUE(parse_priv_protocol("AES-256", &p));
  EXPECT_EQ(p, PrivProtocol::kAes256);
  EXPECT_FALSE(parse_priv_protocol("3DES", &p));
}

class FakeClock : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return t; }
  void sleep_for(std::chrono::nanoseconds d) override {
    t += d;
    slept += d;
  }
  std::chrono::steady_clock::time_point t{};
  std::chrono::nanoseconds slept{0};
};

TEST(RateLimiter, PacesToRate) {
  FakeClock clock;
  RateLimiter limiter(10.0, 1.0, clock);  // 10 requests/s, no burst
  int waits = 0;
  for (int i = 0; i < 11; ++i) waits += limiter.acquire() ? 1 : 0;
  EXPECT_EQ(waits, 10);  // the first is free
  EXPECT_NEAR(std::chrono::duration<double>(clock.slept).count(), 1.0, 0.01);
}

TEST(RateLimiter, BurstThenPace) {
  FakeClock clock;
  RateLimiter limiter(100.0, 5.0, clock);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.acquire());
  EXPECT_TRUE(limiter.acquire());
  clock.t += std::chrono::seconds(1);  // idle refills the bucket, capped at the burst
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.acquire());
  EXPECT_TRUE(limiter.acquire());
}

TEST(RateLimiter, ZeroMeansUnlimited) {
  FakeClock clock;
  RateLimiter limiter(0, 1, clock);
  for (int i = 0; i < 100; ++i) EXPECT_FALSE(limiter.acquire());
  EXPECT_EQ(clock.slept.count(), 0);
}

TEST(Concurrency, EveryItemOnceBoundedParallelism) {
  std::vector<std::atomic<int>> seen(200);
  std::atomic<int> running{0}, peak{0};
  run_concurrently(seen.size(), 4, [&](size_t i) {
    int now = ++running;
    int p = peak.load();
    while (now > p && !peak.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
    ++seen[i];
    --running;
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(peak.load(), 2);
}

TEST(Snmprec, ParsesTypesAndCountsBadLines) {
  size_t bad = 0;
  auto tree = parse_snmprec(
      "1.3.6.1.2.1.1.5.0|4|sw1\n"
      "1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9\n"
      "1.3.6.1.2.1.2.2.1.5.1|66|1000000000\n"
      "1.3.6.1.2.1.2.2.1.2.1|4x|476931\n"
      "1.3.6.1.2.1.4.20.1.1.10.0.0.1|64|10.0.0.1\n"
      "1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n"
      "1.3.6.1.2.1.2.2.1.8.1|2|-1\n"
      "garbage\n"
      "1.3.6|2|notanumber\n"
      "1.3.6|64|<private>\n"
      "1.3.6|4x|abc\n"
      "1.3.6|99|x\n"
      "1.3.6|66|4294967296\n",
      &bad);
  EXPECT_EQ(bad, 6u);
  ASSERT_EQ(tree.size(), 7u);
  EXPECT_EQ(tree.at(*parse_oid("1.3.6.1.2.1.2.2.1.2.1")).bytes, "Gi1");
  EXPECT_EQ(tree.at(*parse_oid("1.3.6.1.2.1.4.20.1.1.10.0.0.1")).bytes,
            std::string("\x0a\0\0\x01", 4));
  EXPECT_EQ(tree.at(*parse_oid("1.3.6.1.2.1.31.1.1.1.6.1")).unsigned_, UINT64_MAX);
  EXPECT_EQ(tree.at(*parse_oid("1.3.6.1.2.1.2.2.1.8.1")).integer, -1);
}

TEST(FakeSession, WalkAndGetSemantics) {
  FakeSession s(
      parse_snmprec("1.3.6.1.2.1.1.5.0|4|sw\n1.3.6.1.2.1.2.2.1.2.1|4|a\n"
                    "1.3.6.1.2.1.2.2.1.2.2|4|b\n1.3.6.1.2.1.2.2.1.3.1|2|6\n",
                    nullptr));
  auto w = s.walk({1, 3, 6, 1, 2, 1, 2, 2, 1, 2});
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 2u);
  EXPECT_EQ((*w)[1].value.bytes, "b");
  auto g = s.get({{1, 3, 6, 1, 2, 1, 1, 5, 0}, {1, 3, 6, 1, 2, 1, 1, 6, 0}});
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)[0].value.bytes, "sw");
  EXPECT_EQ((*g)[1].value.type, ValueType::kNoSuchInstance);
  // Several columns at once: the per-column walks, concatenated in column order.
  auto cols = s.walk_columns({{1, 3, 6, 1, 2, 1, 2, 2, 1, 3}, {1, 3, 6, 1, 2, 1, 2, 2, 1, 2}});
  ASSERT_TRUE(cols.ok());
  ASSERT_EQ(cols->size(), 3u);
  EXPECT_EQ((*cols)[0].value.integer, 6);
  EXPECT_EQ((*cols)[2].value.bytes, "b");
  s.fail_under({1, 3, 6, 1, 2, 1, 2}, Status(ErrorCode::kTimeout, "t"));
  EXPECT_EQ(s.walk({1, 3, 6, 1, 2, 1, 2, 2, 1, 2}).status().code(), ErrorCode::kTimeout);
  EXPECT_EQ(s.walk_columns({{1, 3, 6, 1, 2, 1, 2, 2, 1, 2}}).status().code(), ErrorCode::kTimeout);
}

TEST(NetSnmpSession, RejectsBadConfigWithoutTraffic) {
  SessionConfig c;
  c.host = "127.0.0.1";
  EXPECT_EQ(open_net_snmp_session(c).status().code(), ErrorCode::kInvalidArgument);  // community
  c.version = SnmpVersion::kV3;
  c.user = "u";
  c.auth = AuthProtocol::kSha256;
  c.auth_pass = "short";
  auto r = open_net_snmp_session(c);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(r.status().message().find("short"), std::string::npos);  // no secret in messages
  c.auth = AuthProtocol::kNone;
  c.priv = PrivProtocol::kAes128;
  c.priv_pass = "longenough";
  EXPECT_EQ(open_net_snmp_session(c).status().code(), ErrorCode::kInvalidArgument);
}

// A real net-snmp session against a loopback port where nothing listens: one request, timeout
// and retries honoured, counted, the message names the peer and not the community.
TEST(NetSnmpSession, TimeoutIsBoundedAndCounted) {
  int fd_port = 0;
  {
    // Find a free UDP port by binding and closing.
    auto s = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    fd_port = ntohs(a.sin_port);
    ::close(s);
  }
  SessionConfig c;
  c.host = "127.0.0.1";
  c.port = static_cast<uint16_t>(fd_port);
  c.community = "secret-community-xyz";
  c.timeout = std::chrono::milliseconds(100);
  c.retries = 1;
  auto s = open_net_snmp_session(c);
  ASSERT_TRUE(s.ok()) << s.status().to_string();
  auto t0 = std::chrono::steady_clock::now();
  auto r = (*s)->walk({1, 3, 6, 1, 2, 1, 2});
  auto dt = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.status().code(), ErrorCode::kTimeout);
  EXPECT_EQ(r.status().message().find("secret-community-xyz"), std::string::npos);
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(fd_port)), std::string::npos);
  EXPECT_LT(dt, std::chrono::milliseconds(1500));
  EXPECT_EQ((*s)->counters().timeouts, 1u);
  EXPECT_EQ((*s)->counters().requests, 1u);
  EXPECT_EQ((*s)->counters().bulk_reductions, 0u);  // never answered: no adaptive retries
}

}  // namespace
}  // namespace cg::snmp

// The control thread's event stream: rings -> JSON lines -> subscribers (bounded, overflow
// reported) and eve.json (rotated by size); the resume backlog (stream_seq, events.subscribe
// "after") directly and through the real ControlServer.
#include "dataplane/export/event_hub.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dataplane/runtime/control_server.h"

namespace cg::exporter {
namespace {

Event alert(uint64_t seq) {
  Event e;
  e.kind = EventKind::kPortScan;
  e.ts_ns = 1'000'000'000ull + seq;
  e.src = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 9};
  e.dst = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  e.proto = 6;
  e.count = e.threshold = 20;
  e.window_ms = 10000;
  e.worker = 0;
  e.seq = seq;
  return e;
}

// A connected Unix stream pair with 4 KiB socket buffers, so a subscriber that does not read
// fills its socket after a few lines.
bool small_socketpair(int sv[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return false;
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  return true;
}

// Reads what the socket holds; a partial last line waits for the next call.
struct LineReader {
  int fd;
  std::string rest;
  std::vector<nlohmann::json> read() {
    char buf[65536];
    ssize_t n;
    while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
      rest.append(buf, static_cast<size_t>(n));
    std::vector<nlohmann::json> out;
    size_t start = 0;
    for (size_t nl; (nl = rest.find('\n', start)) != std::string::npos; start = nl + 1)
      out.push_back(nlohmann::json::parse(rest.substr(start, nl - start)));
    rest.erase(0, start);
    return out;
  }
};

// Everything the socket holds, which must be whole lines.
std::vector<nlohmann::json> read_lines(int fd) {
  LineReader rd{fd, {}};
  auto out = rd.read();
  EXPECT_TRUE(rd.rest.empty()) << "only whole lines";
  return out;
}

TEST(EventHub, RingsToSubscribersAsJsonLines) {
  EventRing r0(64), r1(64);
  EventHub hub({}, {});
  hub.add_ring(&r0, 0);
  hub.add_ring(&r1, 1);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  hub.subscribe(sv[0]);
  for (uint64_t i = 1; i <= 10; ++i) (i % 2 ? r0 : r1).push(alert(i));
  EXPECT_EQ(hub.poll(5), 10u);
  auto lines = read_lines(sv[1]);
  ASSERT_EQ(lines.size(), 10u);
  for (const auto& j : lines) {
    EXPECT_EQ(j["event_type"], "alert");
    EXPECT_EQ(j["detector"], "port_scan");
  }
  EXPECT_EQ(hub.counter(HubCounter::kDelivered), 10u);
  close(sv[1]);
  r0.push(alert(11));
  hub.poll(6);
  EXPECT_EQ(hub.subscribers(), 0u) << "a closed subscriber is dropped";
  EXPECT_EQ(hub.counter(HubCounter::kSubscriberDropped), 1u);
}

TEST(EventHub, SlowSubscriberLossIsCountedAndReported) {
  EventRing r(1024);
  EventHub::Config cfg;
  cfg.subscriber_buffer = 4096;
  cfg.backlog_bytes = 0;  // without a backlog what does not fit is lost (and reported)
  EventHub hub(cfg, {});
  hub.add_ring(&r, 0);
  int sv[2];
  ASSERT_TRUE(small_socketpair(sv));
  hub.subscribe(sv[0]);
  for (uint64_t i = 1; i <= 500; ++i) r.push(alert(i));
  hub.poll(1);  // nobody reads: socket and buffer fill up
  const uint64_t lost = hub.counter(HubCounter::kSubscriberLost);
  EXPECT_GT(lost, 0u);
  uint64_t got = 0, reported = 0;
  for (int round = 0; round < 50; ++round) {
    for (const auto& j : read_lines(sv[1])) {
      if (j["event_type"] == "overflow") {
        EXPECT_EQ(j["overflow"]["where"], "subscriber");
        reported += j["overflow"]["lost"].get<uint64_t>();
      } else {
        ++got;
      }
    }
    r.push(alert(1000 + static_cast<uint64_t>(round)));
    hub.poll(2);
  }
  for (const auto& j : read_lines(sv[1])) got += j["event_type"] == "alert";
  EXPECT_EQ(reported, lost) << "every lost line is reported to the subscriber";
  EXPECT_EQ(got + lost, 550u) << "nothing silent: delivered + reported lost = produced";
  close(sv[1]);
}

TEST(EventHub, RingOverflowBecomesAnOverflowEvent) {
  EventRing r(16);
  for (uint64_t i = 1; i <= 20; ++i) r.push(alert(i));
  EventHub hub({}, {});
  hub.add_ring(&r, 3);
  EXPECT_EQ(hub.poll(9), 16u);
  ASSERT_EQ(hub.last_lines().size(), 17u);
  auto j = nlohmann::json::parse(hub.last_lines()[0]);
  EXPECT_EQ(j["event_type"], "overflow");
  EXPECT_EQ(j["overflow"]["where"], "worker_ring");
  EXPECT_EQ(j["overflow"]["lost"], 4);
  EXPECT_EQ(j["overflow"]["worker"], 3);
  EXPECT_EQ(j["event_id"], "00000000-hub-1") << "hub-made events have ids of their own";
  EXPECT_EQ(j["stream_seq"], 1);
  EXPECT_EQ(nlohmann::json::parse(hub.last_lines()[16])["stream_seq"], 17);
  hub.poll(10);
  EXPECT_TRUE(hub.last_lines().empty()) << "reported once";
}

// ---- resume backlog -----------------------------------------------------------------------

constexpr uint32_t kRun = 0xc0ffee42;

EventContext run_ctx() {
  EventContext c;
  c.run_id = kRun;
  return c;
}

struct Pair {
  int sub = -1, peer = -1;
  Pair() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    sub = sv[0];
    peer = sv[1];
  }
  ~Pair() { close(peer); }
};

SubscribeArgs after(const std::string& run, uint64_t seq) {
  SubscribeArgs a;
  a.after = true;
  a.run = run;
  a.seq = seq;
  return a;
}

std::vector<uint64_t> seqs(const std::vector<nlohmann::json>& lines) {
  std::vector<uint64_t> out;
  for (const auto& j : lines)
    if (j["event_type"] == "alert") out.push_back(j["stream_seq"].get<uint64_t>());
  return out;
}

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> v;
  for (uint64_t i = from; i <= to; ++i) v.push_back(i);
  return v;
}

TEST(Backlog, KeepsTheNewestLinesWithinItsBytesAcrossTheWrap) {
  Backlog b(1000);
  std::vector<std::string> lines;
  for (uint64_t i = 1; i <= 40; ++i) {
    lines.push_back(std::string(60 + (i * 37) % 90, static_cast<char>('a' + i % 26)));
    b.push(i, lines.back());
    EXPECT_LE(b.bytes(), 1000u);
  }
  EXPECT_EQ(b.last_seq(), 40u);
  EXPECT_EQ(b.evicted() + b.lines(), 40u);
  EXPECT_EQ(b.first_seq(), 40u - b.lines() + 1);
  std::string out;
  uint64_t n = 0;
  EXPECT_EQ(b.copy_from(0, 1u << 20, &out, &n), 41u);
  EXPECT_EQ(n, b.lines());
  std::string want;
  for (uint64_t i = b.first_seq(); i <= 40; ++i) want += lines[i - 1] + "\n";
  EXPECT_EQ(out, want) << "every line byte for byte, also those that wrapped";
  // A byte limit stops before the first line that does not fit.
  out.clear();
  n = 0;
  const uint64_t next = b.copy_from(38, lines[37].size() + 1 + lines[38].size(), &out, &n);
  EXPECT_EQ(next, 39u);
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(out, lines[37] + "\n");
  // A line larger than the whole ring is not kept (and empties it: the gap is seen as loss).
  b.push(41, std::string(1001, 'x'));
  EXPECT_EQ(b.lines(), 0u);
  EXPECT_EQ(b.bytes(), 0u);
  EXPECT_EQ(b.evicted(), 41u);
}

TEST(EventHub, ParsesSubscribeArgumentsStrictly) {
  SubscribeArgs a;
  std::string err;
  ASSERT_TRUE(parse_subscribe({{"v", 1}, {"cmd", "events.subscribe"}}, &a, &err));
  EXPECT_FALSE(a.after);
  ASSERT_TRUE(parse_subscribe(
      nlohmann::json::parse(R"({"cmd":"events.subscribe","after":{"run":"c0ffee42","seq":7}})"), &a,
      &err))
      << err;
  EXPECT_TRUE(a.after);
  EXPECT_EQ(a.run, "c0ffee42");
  EXPECT_EQ(a.seq, 7u);
  ASSERT_TRUE(parse_subscribe(nlohmann::json::parse(R"({"after":{"run":"","seq":0}})"), &a, &err));
  EXPECT_TRUE(a.after);
  for (const char* bad :
       {R"({"after":5})", R"({"after":{"run":"c0ffee42"}})", R"({"after":{"seq":1}})",
        R"({"after":{"run":"c0ffee42","seq":-1}})", R"({"after":{"run":"c0ffee42","seq":1.5}})",
        R"({"after":{"run":"C0FFEE42","seq":1}})", R"({"after":{"run":"c0ffee421","seq":1}})",
        R"({"after":{"run":7,"seq":1}})", R"({"after":{"run":"c0ffee42","seq":1,"x":0}})"}) {
    err.clear();
    EXPECT_FALSE(parse_subscribe(nlohmann::json::parse(bad), &a, &err)) << bad;
    EXPECT_NE(err.find("after"), std::string::npos) << bad;
  }
}

TEST(EventHub, KeepsEventsWithNoSubscriberAndResumesAfterASeqOfTheSameRun) {
  EventRing r(64);
  EventHub hub({}, run_ctx());
  hub.add_ring(&r, 0);
  for (uint64_t i = 1; i <= 10; ++i) r.push(alert(i));
  hub.poll(1'000'000'000);  // nobody subscribed: kept in the backlog only
  EXPECT_EQ(hub.backlog()->lines(), 10u);
  EXPECT_EQ(hub.stream_seq(), 10u);
  Pair p;
  auto ack = hub.subscribe(p.sub, after("c0ffee42", 4));
  EXPECT_EQ(ack["run"], "c0ffee42");
  EXPECT_EQ(ack["seq"], 10);
  EXPECT_EQ(ack["replay_from"], 5);
  EXPECT_EQ(ack["replay_lines"], 6);
  EXPECT_EQ(ack["lost"], 0);
  EXPECT_TRUE(read_lines(p.peer).empty()) << "nothing written before the next poll (the ack)";
  for (uint64_t i = 11; i <= 12; ++i) r.push(alert(i));
  hub.poll(2'000'000'000);
  auto lines = read_lines(p.peer);
  EXPECT_EQ(seqs(lines), range(5, 12)) << "the replay, then live events, in stream order";
  EXPECT_EQ(lines.front()["event_id"], "c0ffee42-0-5");
  EXPECT_EQ(hub.counter(HubCounter::kResumes), 1u);
  EXPECT_EQ(hub.counter(HubCounter::kReplayed), 8u);
  r.push(alert(13));
  hub.poll(3'000'000'000);
  EXPECT_EQ(seqs(read_lines(p.peer)), range(13, 13)) << "live again";
  EXPECT_EQ(hub.counter(HubCounter::kDelivered), 1u);
  // Up to date already: nothing to replay.
  Pair q;
  ack = hub.subscribe(q.sub, after("c0ffee42", 13));
  EXPECT_EQ(ack["replay_from"], 0);
  EXPECT_EQ(ack["replay_lines"], 0);
  hub.poll(4'000'000'000);
  EXPECT_TRUE(read_lines(q.peer).empty());
}

TEST(EventHub, AnotherRunGetsTheWholeBacklogAndNoAfterOnlyLiveEvents) {
  EventRing r(64);
  EventHub hub({}, run_ctx());
  hub.add_ring(&r, 0);
  for (uint64_t i = 1; i <= 5; ++i) r.push(alert(i));
  hub.poll(1);
  Pair other, first_time, live;
  EXPECT_EQ(hub.subscribe(other.sub, after("0badcafe", 900))["replay_lines"], 5);
  EXPECT_EQ(hub.subscribe(first_time.sub, after("", 0))["replay_from"], 1);
  auto ack = hub.subscribe(live.sub);
  EXPECT_EQ(ack["run"], "c0ffee42");
  EXPECT_FALSE(ack.contains("replay_from"));
  r.push(alert(6));
  hub.poll(2);
  EXPECT_EQ(seqs(read_lines(other.peer)), range(1, 6));
  EXPECT_EQ(seqs(read_lines(first_time.peer)), range(1, 6));
  EXPECT_EQ(seqs(read_lines(live.peer)), range(6, 6));
  EXPECT_EQ(hub.counter(HubCounter::kResumes), 0u) << "no subscriber named this run";
}

TEST(EventHub, EvictedLinesAreReportedAsOneBacklogOverflowBeforeTheReplay) {
  EventRing r(256);
  EventHub::Config cfg;
  cfg.backlog_bytes = 8192;  // ~20 lines
  EventHub hub(cfg, run_ctx());
  hub.add_ring(&r, 0);
  for (uint64_t i = 1; i <= 100; ++i) r.push(alert(i));
  hub.poll(7'000'000'000);
  const uint64_t first = hub.backlog()->first_seq();
  ASSERT_GT(first, 1u);
  EXPECT_EQ(hub.counter(HubCounter::kBacklogEvicted), first - 1);
  EXPECT_LE(hub.backlog()->bytes(), 8192u);
  Pair p;
  auto ack = hub.subscribe(p.sub, after("c0ffee42", 10));
  EXPECT_EQ(ack["lost"], first - 11);
  EXPECT_EQ(ack["replay_from"], first);
  hub.poll(9'000'000'000);  // the clock of this poll stamps the notice
  auto lines = read_lines(p.peer);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0]["event_type"], "overflow");
  EXPECT_EQ(lines[0]["overflow"]["where"], "backlog");
  EXPECT_EQ(lines[0]["overflow"]["lost"], first - 11);
  EXPECT_EQ(lines[0]["timestamp"], eve_timestamp(9'000'000'000));
  EXPECT_FALSE(lines[0].contains("stream_seq"))
      << "a notice to one subscriber is not in the stream";
  EXPECT_EQ(seqs(lines), range(first, 100));
  EXPECT_EQ(hub.counter(HubCounter::kBacklogLost), first - 11);
}

// A subscriber that does not read: its budget fills, it goes on from the backlog as its socket
// drains, and gets every event in order without a single loss.
TEST(EventHub, SlowSubscriberCatchesUpFromTheBacklogWithoutLoss) {
  EventRing r(2048);
  EventHub::Config cfg;
  cfg.subscriber_buffer = 4096;
  EventHub hub(cfg, run_ctx());
  hub.add_ring(&r, 0);
  int sv[2];
  ASSERT_TRUE(small_socketpair(sv));
  hub.subscribe(sv[0]);
  for (uint64_t i = 1; i <= 1000; ++i) r.push(alert(i));
  hub.poll(1);
  EXPECT_GT(hub.counter(HubCounter::kDelivered), 0u);
  std::vector<nlohmann::json> got;
  LineReader rd{sv[1], {}};
  for (int round = 0; round < 2000 && seqs(got).size() < 1050; ++round) {
    auto lines = rd.read();
    got.insert(got.end(), lines.begin(), lines.end());
    if (round < 50) r.push(alert(2000 + static_cast<uint64_t>(round)));
    hub.poll(2);
  }
  EXPECT_EQ(seqs(got), range(1, 1050));
  EXPECT_EQ(hub.counter(HubCounter::kSubscriberLost), 0u);
  EXPECT_EQ(hub.counter(HubCounter::kBacklogLost), 0u);
  EXPECT_GT(hub.counter(HubCounter::kReplayed), 0u);
  EXPECT_EQ(hub.counter(HubCounter::kReplayed) + hub.counter(HubCounter::kDelivered), 1050u);
  close(sv[1]);
}

// The same with a backlog too small to cover the lag: the loss is exactly what was evicted
// before the subscriber got to it, and it is told so.
TEST(EventHub, SlowSubscriberLosesOnlyWhatTheBacklogEvictedAndIsTold) {
  EventRing r(2048);
  EventHub::Config cfg;
  cfg.subscriber_buffer = 4096;
  cfg.backlog_bytes = 16384;
  EventHub hub(cfg, run_ctx());
  hub.add_ring(&r, 0);
  int sv[2];
  ASSERT_TRUE(small_socketpair(sv));
  hub.subscribe(sv[0]);
  for (uint64_t i = 1; i <= 1000; ++i) r.push(alert(i));
  hub.poll(1);
  uint64_t got = 0, reported = 0;
  LineReader rd{sv[1], {}};
  for (int round = 0; round < 2000 && got + reported < 1000; ++round) {
    for (const auto& j : rd.read()) {
      if (j["event_type"] == "overflow") {
        EXPECT_EQ(j["overflow"]["where"], "backlog");
        reported += j["overflow"]["lost"].get<uint64_t>();
      } else {
        ++got;
      }
    }
    hub.poll(2);
  }
  EXPECT_GT(reported, 0u);
  EXPECT_EQ(reported, hub.counter(HubCounter::kBacklogLost));
  EXPECT_EQ(got + reported, 1000u) << "nothing silent";
  close(sv[1]);
}

TEST(EventHub, WithoutABacklogAResumeIsToldEverythingIsGone) {
  EventRing r(64);
  EventHub::Config cfg;
  cfg.backlog_bytes = 0;
  EventHub hub(cfg, run_ctx());
  hub.add_ring(&r, 0);
  for (uint64_t i = 1; i <= 5; ++i) r.push(alert(i));
  hub.poll(1);
  EXPECT_EQ(hub.backlog(), nullptr);
  Pair p;
  auto ack = hub.subscribe(p.sub, after("c0ffee42", 2));
  EXPECT_EQ(ack["lost"], 3);
  EXPECT_EQ(ack["replay_lines"], 0);
  r.push(alert(6));
  hub.poll(2);
  auto lines = read_lines(p.peer);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["overflow"]["where"], "backlog");
  EXPECT_EQ(lines[0]["overflow"]["lost"], 3);
  EXPECT_EQ(lines[1]["stream_seq"], 6);
}

// The sockets a control loop should poll for POLLOUT: those with lines queued that they did not
// take yet, until the reader has drained them.
TEST(EventHub, NamesTheSocketsWithLinesWaiting) {
  EventRing r(2048);
  EventHub hub({}, run_ctx());
  hub.add_ring(&r, 0);
  int sv[2];
  ASSERT_TRUE(small_socketpair(sv));
  hub.subscribe(sv[0]);
  std::vector<int> fds;
  hub.waiting_fds(&fds);
  EXPECT_TRUE(fds.empty());
  for (uint64_t i = 1; i <= 200; ++i) r.push(alert(i));
  hub.poll(1);
  hub.waiting_fds(&fds);
  EXPECT_EQ(fds, std::vector<int>{sv[0]}) << "the socket is full, lines are queued";
  size_t got = 0;
  LineReader rd{sv[1], {}};
  for (int round = 0; round < 1000 && !fds.empty(); ++round) {
    got += rd.read().size();
    hub.poll(2);
    fds.clear();
    hub.waiting_fds(&fds);
  }
  got += rd.read().size();
  EXPECT_TRUE(fds.empty());
  EXPECT_EQ(got, 200u);
  close(sv[1]);
}

// The real ControlServer in front of the hub, wired as cg-dataplane wires it: the ack names the
// run and the replay; a malformed "after" is refused and the connection stays usable.
TEST(EventHub, SubscribeThroughTheControlServer) {
  EventRing r(64);
  EventHub hub({}, run_ctx());
  hub.add_ring(&r, 0);
  for (uint64_t i = 1; i <= 8; ++i) r.push(alert(i));
  hub.poll(1);
  std::string path = "/tmp/cg-hub-test-" + std::to_string(getpid()) + "/dp.sock";
  runtime::ControlServer server([](const nlohmann::json&) {
    return nlohmann::json{{"ok", true}, {"health", "fine"}};
  });
  server.set_stream("events.subscribe", [&hub](const nlohmann::json& req, int fd) {
    SubscribeArgs args;
    std::string error;
    if (!parse_subscribe(req, &args, &error))
      return nlohmann::json{{"ok", false}, {"error", error}};
    return hub.subscribe(fd, args);
  });
  std::atomic<uint64_t> now{2};
  server.set_tick([&] { hub.poll(now++); });
  std::string err;
  ASSERT_TRUE(server.listen(path, &err)) << err;
  std::atomic<bool> stop{false};
  std::thread t([&] { server.serve(stop); });

  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  std::string in;
  auto read_line = [&]() {
    for (;;) {
      if (size_t nl = in.find('\n'); nl != std::string::npos) {
        auto j = nlohmann::json::parse(in.substr(0, nl));
        in.erase(0, nl + 1);
        return j;
      }
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) return nlohmann::json();
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof(buf), 0);
      if (n <= 0) return nlohmann::json();
      in.append(buf, static_cast<size_t>(n));
    }
  };
  auto send_line = [&](const std::string& s) {
    ASSERT_EQ(send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
  };
  send_line(R"({"v":1,"cmd":"events.subscribe","after":{"run":"c0ffee42","seq":"6"}})"
            "\n");
  auto refused = read_line();
  EXPECT_EQ(refused["ok"], false);
  EXPECT_NE(refused["error"].get<std::string>().find("after"), std::string::npos);
  send_line(R"({"v":1,"cmd":"health"})"
            "\n");
  EXPECT_EQ(read_line()["health"], "fine") << "still a request/response connection";
  send_line(R"({"v":1,"cmd":"events.subscribe","after":{"run":"c0ffee42","seq":6}})"
            "\n");
  auto ack = read_line();
  EXPECT_EQ(ack["ok"], true);
  EXPECT_EQ(ack["v"], 1);
  EXPECT_EQ(ack["stream"], "events.subscribe");
  EXPECT_EQ(ack["run"], "c0ffee42");
  EXPECT_EQ(ack["replay_from"], 7);
  EXPECT_EQ(ack["replay_lines"], 2);
  EXPECT_EQ(read_line()["stream_seq"], 7);
  EXPECT_EQ(read_line()["stream_seq"], 8);
  r.push(alert(9));
  EXPECT_EQ(read_line()["stream_seq"], 9);
  close(fd);
  stop = true;
  t.join();
}

TEST(EveWriter, RotatesBySizeAndKeepsN) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(::testing::TempDir()) / "cg_eve_test";
  fs::remove_all(dir);
  fs::create_directories(dir);
  EventRing r(1024);
  EventHub::Config cfg;
  cfg.eve_path = (dir / "eve.json").string();
  cfg.eve_max_bytes = 4000;
  cfg.eve_keep = 2;
  EventHub hub(cfg, {});
  std::string err;
  ASSERT_TRUE(hub.open(&err)) << err;
  hub.add_ring(&r, 0);
  for (uint64_t i = 1; i <= 200; ++i) r.push(alert(i));
  hub.poll(1);
  EXPECT_EQ(hub.counter(HubCounter::kEveLines), 200u);
  EXPECT_TRUE(fs::exists(dir / "eve.json"));
  EXPECT_TRUE(fs::exists(dir / "eve.json.1"));
  EXPECT_TRUE(fs::exists(dir / "eve.json.2"));
  EXPECT_FALSE(fs::exists(dir / "eve.json.3"));
  for (const char* f : {"eve.json", "eve.json.1", "eve.json.2"}) {
    EXPECT_LE(fs::file_size(dir / f), 4000u);
    std::ifstream in(dir / f);
    std::string line;
    while (std::getline(in, line)) EXPECT_EQ(nlohmann::json::parse(line)["event_type"], "alert");
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cg::exporter

// The control thread's event stream: rings -> JSON lines -> subscribers (bounded, overflow
// reported) and eve.json (rotated by size).
#include "dataplane/export/event_hub.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

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

std::vector<nlohmann::json> read_lines(int fd) {
  std::string all;
  char buf[65536];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
    all.append(buf, static_cast<size_t>(n));
  std::vector<nlohmann::json> out;
  size_t start = 0;
  for (size_t nl; (nl = all.find('\n', start)) != std::string::npos; start = nl + 1)
    out.push_back(nlohmann::json::parse(all.substr(start, nl - start)));
  EXPECT_EQ(start, all.size()) << "only whole lines";
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
  EventHub hub(cfg, {});
  hub.add_ring(&r, 0);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  int small = 4096;
  setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
  setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
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
  hub.poll(10);
  EXPECT_TRUE(hub.last_lines().empty()) << "reported once";
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

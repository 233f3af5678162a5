// Per-host level with a fake clock: fair shares inside a classroom (the Balancer's host round,
// one worker and two), per-host caps never exceeded, the hashed host table's collisions.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <span>
#include <vector>

#include "dataplane/qos/balancer.h"
#include "dataplane/qos/policer.h"
#include "tests/unit/qos/never_above.h"

namespace cg::qos {
namespace {

constexpr uint64_t kMbit = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kPeriod = 5'000'000;  // the Balancer's period in cg-dataplane

using Addr = std::array<uint8_t, 16>;

Addr v4(uint32_t a) {
  Addr x{};
  x[10] = x[11] = 0xff;
  x[12] = static_cast<uint8_t>(a >> 24);
  x[13] = static_cast<uint8_t>(a >> 16);
  x[14] = static_cast<uint8_t>(a >> 8);
  x[15] = static_cast<uint8_t>(a);
  return x;
}

// Uplink 1 Gbit; classroom 0 (VLAN 101) of a zone at `room_bps` with the given per-host mode;
// classroom 1 (VLAN 102) of a zone without per-host; unzoned. One class ("video", no cap) +
// default.
api::QosImage plan(uint64_t room_bps, bool fair, uint64_t host_cap_bps, uint32_t burst_ms = 0) {
  api::QosImage q;
  q.enabled = true;
  q.uplink_bps[0] = q.uplink_bps[1] = 1000 * kMbit;
  q.burst_ms = burst_ms;
  api::QosZone z;
  z.zone = 0;
  z.rate_bps = room_bps;
  z.host_fair = fair;
  z.host_cap_bps = host_cap_bps;
  q.zones.push_back(z);
  api::QosZone plain;
  plain.zone = 1;
  plain.rate_bps = room_bps;
  q.zones.push_back(plain);
  q.classrooms.push_back({0, 101});
  q.classrooms.push_back({1, 102});
  q.classrooms.push_back({api::kNoQosZone, 0});
  api::QosClass c;
  c.name = "video";
  q.classes.push_back(c);
  return q;
}

struct Source {
  Addr host{};
  uint64_t offered_bps = 0;
  size_t worker = 0;
  uint32_t room = 0, cls = 1;
  uint64_t next_ns = 0, passed = 0, dropped = 0;
};

// Every source sends 1500-byte packets (gaps jittered +-50 %) from `start` to `end`; the
// balancer (if any) runs every kPeriod over `workers`.
void run(std::span<Policer* const> workers, Balancer* balancer, std::vector<Source>& srcs,
         uint64_t start_ns, uint64_t end_ns) {
  std::mt19937_64 rng(11);
  uint64_t next_balance = start_ns + kPeriod;
  for (auto& s : srcs) s.next_ns = std::max(s.next_ns, start_ns);
  for (;;) {
    Source* next = nullptr;
    for (auto& s : srcs)
      if (s.offered_bps && (!next || s.next_ns < next->next_ns)) next = &s;
    if (!next || next->next_ns >= end_ns) return;
    while (balancer && next_balance <= next->next_ns) {
      balancer->rebalance(workers, kPeriod);
      next_balance += kPeriod;
    }
    if (workers[next->worker]->admit(Dir::kDown, next->room, next->cls, 1500, next->next_ns,
                                     nullptr, &next->host))
      next->passed += 1500;
    else
      next->dropped += 1500;
    const uint64_t gap = 1500 * 8 * kSec / next->offered_bps;
    next->next_ns += gap / 2 + rng() % (gap + 1);
  }
}

double mbps(uint64_t bytes, uint64_t ns) {
  return static_cast<double>(bytes) * 8.0 * 1e3 / static_cast<double>(ns);
}

// Two addresses of distinct slots (and a pair in one slot, for collisions).
Addr host_a() {
  return v4(0x0a4d000b);
}  // 10.77.0.11
Addr host_b() {
  return v4(0x0a4d000c);
}  // 10.77.0.12

std::pair<Addr, Addr> colliding_pair() {
  const uint32_t want = host_slot_of(host_a());
  for (uint32_t a = 0x0a4e0000;; ++a)
    if (host_slot_of(v4(a)) == want && v4(a) != host_a()) return {host_a(), v4(a)};
}

TEST(QosHost, TwoSaturatingHostsInOneClassroomGetHalfEach) {
  Policer p(plan(20 * kMbit, true, 0));
  ASSERT_TRUE(p.hosts_enabled());
  Balancer bal;
  Policer* w[] = {&p};
  std::vector<Source> s{{host_a(), 30 * kMbit}, {host_b(), 30 * kMbit}};
  run(w, &bal, s, kSec, 2 * kSec);  // settle
  for (auto& x : s) x.passed = x.dropped = 0;
  run(w, &bal, s, 2 * kSec, 7 * kSec);
  const double a = mbps(s[0].passed, 5 * kSec), b = mbps(s[1].passed, 5 * kSec);
  EXPECT_NEAR(a, 10.0, 0.5);
  EXPECT_NEAR(b, 10.0, 0.5);
  EXPECT_LE(a + b, 20.0 * 1.005);
  EXPECT_GT(p.drops(DropReason::kHostRate), 0u);  // the hosts' shares bind, not the classroom
  EXPECT_GT(bal.hosts_rebalanced(), 0u);
  EXPECT_EQ(bal.active_hosts(), 2u);
}

TEST(QosHost, WithoutFairShareOneHostTakesWhatItCan) {
  // The same traffic into the classroom without per-host: the classroom's rate holds but the
  // split is whatever the arrivals give (here: a 25 Mbit/s and a 5 Mbit/s sender).
  Policer plain(plan(20 * kMbit, true, 0));
  Policer* w[] = {&plain};
  std::vector<Source> s{{host_a(), 40 * kMbit, 0, 1}, {host_b(), 10 * kMbit, 0, 1}};
  run(w, nullptr, s, kSec, 6 * kSec);  // room 1: the zone without per-host
  EXPECT_GT(mbps(s[0].passed, 5 * kSec), 12.0);
  EXPECT_LT(mbps(s[1].passed, 5 * kSec), 8.0);
}

TEST(QosHost, AnIdleHostsShareGoesToTheOther) {
  Policer p(plan(20 * kMbit, true, 0));
  Balancer bal;
  Policer* w[] = {&p};
  // b sends 3 Mbit/s (below its half): it gets all of it, a gets the rest of the classroom.
  std::vector<Source> s{{host_a(), 30 * kMbit}, {host_b(), 3 * kMbit}};
  run(w, &bal, s, kSec, 2 * kSec);
  for (auto& x : s) x.passed = x.dropped = 0;
  run(w, &bal, s, 2 * kSec, 7 * kSec);
  EXPECT_NEAR(mbps(s[1].passed, 5 * kSec), 3.0, 0.15);
  EXPECT_NEAR(mbps(s[0].passed, 5 * kSec), 17.0, 0.85);
  EXPECT_LT(s[1].dropped, s[1].passed / 100);  // the light host is (almost) never dropped
  // b stops: within a second a has the whole classroom.
  s[1].offered_bps = 0;
  run(w, &bal, s, 7 * kSec, 8 * kSec);
  s[0].passed = 0;
  run(w, &bal, s, 8 * kSec, 11 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 3 * kSec), 20.0, 1.0);
}

TEST(QosHost, ANewHostGetsItsShareWithinMilliseconds) {
  Policer p(plan(20 * kMbit, true, 0));
  Balancer bal;
  Policer* w[] = {&p};
  std::vector<Source> s{{host_a(), 30 * kMbit}, {host_b(), 0}};
  run(w, &bal, s, kSec, 3 * kSec);  // a alone has the classroom
  s[1].offered_bps = 30 * kMbit;
  s[1].next_ns = 3 * kSec;
  run(w, &bal, s, 3 * kSec, 3 * kSec + 100'000'000);  // 100 ms to converge
  for (auto& x : s) x.passed = 0;
  run(w, &bal, s, 3 * kSec + 100'000'000, 5 * kSec + 100'000'000);
  EXPECT_NEAR(mbps(s[0].passed, 2 * kSec), 10.0, 0.5);
  EXPECT_NEAR(mbps(s[1].passed, 2 * kSec), 10.0, 0.5);
}

TEST(QosHost, CapPerHostIsNeverExceeded) {
  // Cap 4 Mbit/s per host, fair share on too, balanced every 5 ms; random bursty traffic of 8
  // hosts in two classes: every interval of every host stays under cap x t + depth.
  Policer p(plan(20 * kMbit, true, 4 * kMbit, 20));
  Balancer bal;
  Policer* w[] = {&p};
  std::mt19937_64 rng(42);
  std::vector<std::vector<std::pair<uint64_t, uint32_t>>> passed(8);
  uint64_t now = kSec, next_balance = kSec;
  for (int i = 0; i < 400'000; ++i) {
    now += rng() % 20'000;
    while (next_balance <= now) {
      bal.rebalance(w, kPeriod);
      next_balance += kPeriod;
    }
    const auto h = static_cast<uint32_t>(rng() % 8);
    const auto len = static_cast<uint32_t>(64 + rng() % 1455);
    const Addr addr = v4(0x0a4d0010 + h);
    if (p.admit(Dir::kDown, 0, static_cast<uint32_t>(rng() % 2), len, now, nullptr, &addr))
      passed[h].emplace_back(now, len);
  }
  EXPECT_GT(p.drops(DropReason::kHostRate), 0u);
  for (const auto& ph : passed) {
    ASSERT_GT(ph.size(), 1000u);
    expect_never_above(ph, 4 * kMbit, 10'000);  // depth: 20 ms of 4 Mbit/s
  }
}

TEST(QosHost, CapAloneNeedsNoBalancer) {
  // cap only (no fair share), no Balancer (one worker, or --replay): the cap holds per host.
  Policer p(plan(20 * kMbit, false, 5 * kMbit));
  Policer* w[] = {&p};
  std::vector<Source> s{{host_a(), 30 * kMbit}, {host_b(), 30 * kMbit}};
  run(w, nullptr, s, kSec, 6 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 5 * kSec), 5.0, 0.5);  // + one full bucket (156 KB)
  EXPECT_NEAR(mbps(s[1].passed, 5 * kSec), 5.0, 0.5);
}

TEST(QosHost, ClassroomsWithoutPerHostDoNotTouchTheTable) {
  Policer p(plan(20 * kMbit, true, 5 * kMbit));
  Policer* w[] = {&p};
  std::vector<Source> s{{host_a(), 30 * kMbit, 0, 1}};  // room 1: no per-host
  run(w, nullptr, s, kSec, 2 * kSec);
  s[0].passed = 0;
  run(w, nullptr, s, 2 * kSec, 4 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 2 * kSec), 20.0, 1.0);
  EXPECT_EQ(p.host_claims(), 0u);
  EXPECT_EQ(p.host_stats(host_slot_of(host_a())).seen_ns, 0u);
}

TEST(QosHost, CollidingHostsShareOneSlotAndAreCounted) {
  const auto [a, c] = colliding_pair();
  ASSERT_EQ(host_slot_of(a), host_slot_of(c));
  // Cap 5 Mbit/s per host: two colliding hosts share one 5 Mbit/s ceiling, a third host (own
  // slot) keeps its own.
  Policer p(plan(50 * kMbit, false, 5 * kMbit));
  Policer* w[] = {&p};
  std::vector<Source> s{{a, 30 * kMbit}, {c, 30 * kMbit}, {host_b(), 30 * kMbit}};
  run(w, nullptr, s, kSec, 6 * kSec);
  EXPECT_NEAR(mbps(s[0].passed + s[1].passed, 5 * kSec), 5.0, 0.5);
  EXPECT_NEAR(mbps(s[2].passed, 5 * kSec), 5.0, 0.5);
  EXPECT_GT(p.host_collisions(), 1000u);
  EXPECT_EQ(p.host_claims(), 2u);  // a (or c) and b took a free slot; the other collided
}

TEST(QosHost, AnIdleSlotIsTakenOverWithFullBuckets) {
  const auto [a, c] = colliding_pair();
  Policer p(plan(50 * kMbit, false, 5 * kMbit));
  Policer* w[] = {&p};
  std::vector<Source> s{{a, 30 * kMbit}};
  run(w, nullptr, s, kSec, 2 * kSec);
  std::vector<Source> later{{c, 30 * kMbit}};
  run(w, nullptr, later, 2 * kSec + kHostIdleNs, 3 * kSec + kHostIdleNs);
  EXPECT_EQ(p.host_collisions(), 0u);
  EXPECT_EQ(p.host_claims(), 2u);
  EXPECT_EQ(p.host_stats(host_slot_of(c)).addr, c);
  EXPECT_NEAR(mbps(later[0].passed, kSec), 5.0 + 156'250 * 8 / 1e6, 0.3);  // rate + a full bucket
}

TEST(QosHost, TwoWorkersShareOneHostsFairShare) {
  // Host a's flows on two workers, host b on one: a's two halves together get a's share.
  const api::QosImage q = plan(20 * kMbit, true, 0);
  Policer w0(q), w1(q);
  Balancer bal;
  Policer* w[] = {&w0, &w1};
  std::vector<Source> s{
      {host_a(), 20 * kMbit, 0}, {host_a(), 20 * kMbit, 1}, {host_b(), 30 * kMbit, 1}};
  run(w, &bal, s, kSec, 2 * kSec);
  for (auto& x : s) x.passed = 0;
  run(w, &bal, s, 2 * kSec, 7 * kSec);
  const double a = mbps(s[0].passed + s[1].passed, 5 * kSec), b = mbps(s[2].passed, 5 * kSec);
  EXPECT_NEAR(a, 10.0, 1.0);
  EXPECT_NEAR(b, 10.0, 1.0);
  EXPECT_LE(a + b, 20.0 * 1.01);
}

TEST(QosHost, MaxMinSharesAreFair) {
  // The shared max-min code: demands 1, 2, 10, 10 of capacity 12 -> 1, 2, 4.5, 4.5.
  const uint64_t demand[] = {1000, 2000, 10000, 10000};
  uint32_t share[4], order[4];
  max_min_shares(demand, 4, 12000, 0, share, order);
  const double one = Policer::kShareOne;
  EXPECT_NEAR(share[0] / one * 12, 1.0, 0.01);
  EXPECT_NEAR(share[1] / one * 12, 2.0, 0.01);
  EXPECT_NEAR(share[2] / one * 12, 4.5, 0.01);
  EXPECT_NEAR(share[3] / one * 12, 4.5, 0.01);
  // Less demand than capacity: the spare is split evenly (room to grow).
  const uint64_t low[] = {1000, 2000};
  max_min_shares(low, 2, 12000, 0, share, order);
  EXPECT_NEAR(share[0] / one * 12, 5.5, 0.01);
  EXPECT_NEAR(share[1] / one * 12, 6.5, 0.01);
}

}  // namespace
}  // namespace cg::qos

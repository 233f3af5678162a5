// Balancer with a fake clock: two workers' Policers of one image police as one tree.
#include "dataplane/qos/balancer.h"

#include <gtest/gtest.h>

#include <array>
#include <random>

namespace cg::qos {
namespace {

constexpr uint64_t kMbit = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;
constexpr uint64_t kPeriod = 5'000'000;  // rebalanced every 5 ms, like cg-dataplane

api::QosImage tree(uint64_t room_bps, uint64_t cap_bps = 0) {
  api::QosImage q;
  q.enabled = true;
  q.uplink_bps[0] = q.uplink_bps[1] = 1000 * kMbit;
  q.burst_ms = 20;
  q.zones.push_back({0, room_bps, 0, true});
  q.classrooms.push_back({0, 101});
  q.classrooms.push_back({0, 102});
  q.classrooms.push_back({api::kNoQosZone, 0});
  api::QosClass c;
  c.name = "capped";
  c.cap_bps = cap_bps;
  q.classes.push_back(c);
  return q;
}

struct Source {
  size_t worker = 0;
  uint32_t room = 0, cls = 1;  // class 1: the default
  uint64_t offered_bps = 0;
  uint64_t next_ns = 0, passed = 0;
};

// Every source sends 1500-byte packets with jittered gaps into its worker's Policer; the
// balancer runs every kPeriod of fake time (when `balancer` is set).
void run(std::array<Policer*, 2> workers, Balancer* balancer, std::vector<Source>& srcs,
         uint64_t end_ns) {
  std::mt19937_64 rng(3);
  uint64_t next_balance = kPeriod;
  for (;;) {
    Source* next = nullptr;
    for (auto& s : srcs)
      if (!next || s.next_ns < next->next_ns) next = &s;
    if (next->next_ns >= end_ns) return;
    while (balancer && next_balance <= next->next_ns) {
      balancer->rebalance(workers, kPeriod);
      next_balance += kPeriod;
    }
    if (workers[next->worker]->admit(Dir::kDown, next->room, next->cls, 1500, next->next_ns,
                                     nullptr))
      next->passed += 1500;
    const uint64_t gap = 1500 * 8 * kSec / next->offered_bps;
    next->next_ns += gap / 2 + rng() % (gap + 1);
  }
}

double mbps(uint64_t bytes, uint64_t ns) {
  return bytes * 8.0 * 1e3 / static_cast<double>(ns);
}

TEST(Balancer, WithoutItTwoWorkersGetTwiceTheRate) {
  const api::QosImage q = tree(20 * kMbit);
  Policer a(q), b(q);
  std::vector<Source> s{{0, 0, 1, 30 * kMbit}, {1, 0, 1, 30 * kMbit}};
  run({&a, &b}, nullptr, s, 10 * kSec);
  EXPECT_GT(mbps(s[0].passed + s[1].passed, 10 * kSec), 39.0);  // the bug the Balancer fixes
}

TEST(Balancer, TwoBusyWorkersShareOneClassroom) {
  const api::QosImage q = tree(20 * kMbit);
  Policer a(q), b(q);
  Balancer bal;
  std::vector<Source> s{{0, 0, 1, 30 * kMbit}, {1, 0, 1, 30 * kMbit}};
  run({&a, &b}, &bal, s, 10 * kSec);
  const double total = mbps(s[0].passed + s[1].passed, 10 * kSec);
  EXPECT_NEAR(total, 20.0, 0.4);
  EXPECT_NEAR(mbps(s[0].passed, 10 * kSec), 10.0, 1.5);
  EXPECT_NEAR(mbps(s[1].passed, 10 * kSec), 10.0, 1.5);
  EXPECT_GT(bal.rounds(), 1900u);
  EXPECT_GT(bal.nodes_rebalanced(), 0u);
}

TEST(Balancer, OneBusyWorkerGetsTheWholeRate) {
  const api::QosImage q = tree(20 * kMbit);
  Policer a(q), b(q);
  Balancer bal;
  std::vector<Source> s{{0, 0, 1, 30 * kMbit}};
  run({&a, &b}, &bal, s, 10 * kSec);
  // Work-conserving: all but the 1/64 an idle worker keeps.
  const double got = mbps(s[0].passed, 10 * kSec);
  EXPECT_GT(got, 20.0 * (1 - 1.0 / Balancer::kIdleShareDiv) - 0.2);
  EXPECT_LT(got, 20.2);
}

TEST(Balancer, MaxMinFairBetweenUnequalWorkers) {
  const api::QosImage q = tree(20 * kMbit);
  Policer a(q), b(q);
  Balancer bal;
  std::vector<Source> s{{0, 0, 1, 5 * kMbit}, {1, 0, 1, 30 * kMbit}};
  run({&a, &b}, &bal, s, 10 * kSec);
  EXPECT_GT(mbps(s[0].passed, 10 * kSec), 4.7);  // the small sender gets what it asks for
  EXPECT_NEAR(mbps(s[0].passed + s[1].passed, 10 * kSec), 20.0, 0.4);
}

TEST(Balancer, ClassCapAndClassroomsAcrossWorkers) {
  const api::QosImage q = tree(20 * kMbit, 5 * kMbit);
  Policer a(q), b(q);
  Balancer bal;
  // Room 0: the capped class on both workers; room 1: default traffic on both.
  std::vector<Source> s{{0, 0, 0, 10 * kMbit}, {1, 0, 0, 10 * kMbit}, {0, 1, 1, 15 * kMbit},
                        {1, 1, 1, 15 * kMbit}};
  run({&a, &b}, &bal, s, 10 * kSec);
  EXPECT_LT(mbps(s[0].passed + s[1].passed, 10 * kSec), 5.0 * 1.02);
  EXPECT_GT(mbps(s[0].passed + s[1].passed, 10 * kSec), 5.0 * 0.95);
  EXPECT_NEAR(mbps(s[2].passed + s[3].passed, 10 * kSec), 20.0, 0.4);
}

TEST(Balancer, NewGenerationStartsEvenAndOneWorkerIsNoop) {
  const api::QosImage q = tree(20 * kMbit);
  Policer a(q), b(q);
  Balancer bal;
  std::array<Policer*, 1> one{&a};
  bal.rebalance(one, kPeriod);
  EXPECT_EQ(bal.resets(), 0u);
  std::array<Policer*, 2> two{&a, &b};
  bal.rebalance(two, kPeriod);  // new set: even split, no round yet
  EXPECT_EQ(bal.resets(), 1u);
  EXPECT_EQ(bal.rounds(), 0u);
  bal.rebalance(two, kPeriod);
  EXPECT_EQ(bal.rounds(), 1u);
  // Even split: each worker alone passes about half of the room's rate.
  std::vector<Source> s{{0, 0, 1, 30 * kMbit}};
  run({&a, &b}, nullptr, s, 10 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 10 * kSec), 10.0, 0.3);
}

}  // namespace
}  // namespace cg::qos

// Hierarchical policer with a fake clock: every test drives `now_ns` itself.
#include "dataplane/qos/policer.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/qos/never_above.h"

namespace cg::qos {
namespace {

constexpr uint64_t kMbit = 1'000'000;
constexpr uint64_t kSec = 1'000'000'000;

// A tree: uplink, `rooms` classrooms of one zone at `room_bps`, the given classes.
api::QosImage plan(uint64_t uplink_bps, uint64_t room_bps, uint32_t rooms,
                   std::vector<api::QosClass> classes, uint32_t burst_ms = 20) {
  api::QosImage q;
  q.enabled = true;
  q.uplink_bps[0] = q.uplink_bps[1] = uplink_bps;
  q.burst_ms = burst_ms;
  q.zones.push_back({0, room_bps, 0, true});
  for (uint32_t r = 0; r < rooms; ++r) q.classrooms.push_back({0, static_cast<uint16_t>(101 + r)});
  q.classrooms.push_back({api::kNoQosZone, 0});  // unzoned
  q.classes = std::move(classes);
  return q;
}

api::QosClass klass(std::string name, uint64_t cap, uint64_t guaranteed = 0,
                    bool priority = false) {
  api::QosClass c;
  c.name = std::move(name);
  c.cap_bps = cap;
  c.guaranteed_bps = guaranteed;
  c.priority = priority;
  return c;
}

// A constant-rate sender into one leaf.
struct Source {
  uint32_t room = 0, cls = 0;
  uint64_t offered_bps = 0;
  uint32_t size = 1500;
  Dir dir = Dir::kUp;
  uint64_t next_ns = 0;
  uint64_t passed = 0, dropped = 0;
};

// Runs every source from t=start to t=end (fake clock, packets in time order). `jitter` spreads
// each gap uniformly over +-50% (same mean), so equal senders are not phase-locked.
void run(Policer& p, std::vector<Source>& srcs, uint64_t start_ns, uint64_t end_ns,
         bool jitter = false) {
  std::mt19937_64 rng(7);
  for (auto& s : srcs) s.next_ns = std::max(s.next_ns, start_ns);
  for (;;) {
    Source* next = nullptr;
    for (auto& s : srcs)
      if (s.offered_bps && (!next || s.next_ns < next->next_ns)) next = &s;
    if (!next || next->next_ns >= end_ns) return;
    DropReason why;
    if (p.admit(next->dir, next->room, next->cls, next->size, next->next_ns, &why))
      next->passed += next->size;
    else
      next->dropped += next->size;
    const uint64_t gap = next->size * 8ull * kSec / next->offered_bps;
    next->next_ns += jitter ? gap / 2 + rng() % (gap + 1) : gap;
  }
}

double mbps(uint64_t bytes, uint64_t ns) {
  return bytes * 8.0 * 1e3 / static_cast<double>(ns);
}

TEST(Bucket, FixedPointRefillIsExact) {
  Bucket b;
  init_bucket(&b, 20 * kMbit, 20);  // 2.5 MB/s, depth 50,000 bytes
  EXPECT_EQ(b.depth, bytes_fixed(50'000));
  b.tokens = 0;
  refill(&b, kSec / 100);  // 10 ms -> 25,000 bytes
  EXPECT_NEAR(static_cast<double>(b.tokens >> kTokenShift), 25'000.0, 1.0);
  refill(&b, 10 * kSec);  // long idle: full, never more
  EXPECT_EQ(b.tokens, b.depth);
  Bucket slow;
  init_bucket(&slow, 8'000, 20);  // 1 byte/ms; depth floored at two frames
  EXPECT_EQ(slow.depth, bytes_fixed(3036));
  slow.tokens = 0;
  refill(&slow, 1000 * kSec / 1000);  // 1 s -> 1000 bytes
  EXPECT_NEAR(static_cast<double>(slow.tokens >> kTokenShift), 1000.0, 1.0);
}

TEST(Bucket, AutomaticDepthIsSizedForTcp) {
  // burst_ms = auto: max(20 ms, min(250 ms, 16 MiB)) of the rate, at least two frames.
  EXPECT_EQ(depth_bytes(8'000, api::kQosAutoBurst), 3036u);                 // two frames
  EXPECT_EQ(depth_bytes(5 * kMbit, api::kQosAutoBurst), 156'250u);          // 250 ms
  EXPECT_EQ(depth_bytes(20 * kMbit, api::kQosAutoBurst), 625'000u);         // 250 ms
  EXPECT_EQ(depth_bytes(1000 * kMbit, api::kQosAutoBurst), 16u << 20);      // one big window
  EXPECT_EQ(depth_bytes(10'000 * kMbit, api::kQosAutoBurst), 25'000'000u);  // 20 ms
  // An explicit burst-ms is taken as written (floored at two frames).
  EXPECT_EQ(depth_bytes(20 * kMbit, 20), 50'000u);
  EXPECT_EQ(depth_bytes(20 * kMbit, 1000), 2'500'000u);
  EXPECT_EQ(depth_bytes(8'000, 1), 3036u);
}

TEST(Policer, RateAccuracyOfAClassroom) {
  for (uint64_t rate : {2 * kMbit, 20 * kMbit, 1000 * kMbit}) {
    Policer p(plan(10'000 * kMbit, rate, 1, {}));
    std::vector<Source> s{{0, 0, 3 * rate, 1500}};
    run(p, s, 0, 10 * kSec);
    const double got = mbps(s[0].passed, 10 * kSec);
    // rate * 10 s + the initial burst (20 ms) and at most one frame of rounding
    EXPECT_NEAR(got, rate / 1e6 * 1.002, rate / 1e6 * 0.003) << rate;
    EXPECT_GT(p.drops(DropReason::kClassroomRate), 0u);
  }
}

TEST(Policer, BurstIsTheBucketDepth) {
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 1, {}, 20));  // depth 50,000 bytes
  uint64_t passed = 0;
  DropReason why{};
  for (int i = 0; i < 100; ++i)
    if (p.admit(Dir::kUp, 0, 0, 1000, kSec, &why)) passed += 1000;
  EXPECT_EQ(passed, 50'000u);
  EXPECT_EQ(why, DropReason::kClassroomRate);
  // Directions are separate trees.
  EXPECT_TRUE(p.admit(Dir::kDown, 0, 0, 1000, kSec, &why));
  // 4 ms later: 10,000 bytes refilled (+1 us for the fixed-point rate's rounding).
  passed = 0;
  for (int i = 0; i < 100; ++i)
    if (p.admit(Dir::kUp, 0, 0, 1000, kSec + 4'001'000, &why)) passed += 1000;
  EXPECT_EQ(passed, 10'000u);
}

TEST(Policer, UnusedBandwidthIsBorrowedWithinTheClassroom) {
  // classroom 20 Mbit/s; video capped at 5; bulk uncapped.
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 1, {klass("video", 5 * kMbit)}));
  std::vector<Source> s{{0, 1, 40 * kMbit}};  // the default class alone gets the whole room
  run(p, s, 0, 10 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 10 * kSec), 20.0, 0.2);
  std::vector<Source> v{{0, 0, 40 * kMbit}};  // the capped class alone stays at its cap
  run(p, v, 20 * kSec, 30 * kSec);
  EXPECT_NEAR(mbps(v[0].passed, 10 * kSec), 5.0, 0.05);
  EXPECT_GT(p.drops(DropReason::kClassCap), 0u);
  // Both: video at its cap, the rest to the default class.
  std::vector<Source> both{{0, 0, 40 * kMbit}, {0, 1, 40 * kMbit}};
  run(p, both, 40 * kSec, 50 * kSec);
  EXPECT_NEAR(mbps(both[0].passed, 10 * kSec), 5.0, 0.05);
  EXPECT_NEAR(mbps(both[1].passed, 10 * kSec), 15.0, 0.3);
}

TEST(Policer, PriorityClassKeepsItsGuaranteeUnderCongestion) {
  // classroom 20; teaching: priority, guaranteed 8; bulk (default) floods at 100.
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 1, {klass("teaching", 0, 8 * kMbit, true)}));
  std::vector<Source> s{{0, 0, 8 * kMbit, 1200}, {0, 1, 100 * kMbit, 1500}};
  run(p, s, 0, 20 * kSec);
  EXPECT_EQ(s[0].dropped, 0u) << "teaching lost packets within its guarantee";
  EXPECT_NEAR(mbps(s[0].passed, 20 * kSec), 8.0, 0.05);
  EXPECT_NEAR(mbps(s[1].passed, 20 * kSec), 12.0, 0.3);
  // The classroom as a whole stays within its rate (+ one bucket depth).
  const NodeStats room = p.classroom_stats(Dir::kUp, 0, 20 * kSec);
  EXPECT_LE(room.bytes, 20 * kMbit / 8 * 20 + 2 * 50'000);
}

TEST(Policer, PriorityClassBorrowsBeforeBulk) {
  // teaching offers 15 (guaranteed 5, priority), bulk floods: teaching gets its 15.
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 1, {klass("teaching", 0, 5 * kMbit, true)}));
  std::vector<Source> s{{0, 0, 15 * kMbit, 1200}, {0, 1, 100 * kMbit, 1500}};
  run(p, s, 0, 20 * kSec);
  EXPECT_GT(mbps(s[0].passed, 20 * kSec), 14.5);
  EXPECT_LT(mbps(s[0].passed + s[1].passed, 20 * kSec), 20.2);
}

TEST(Policer, ClassroomsAreIsolated) {
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 2, {}));
  std::vector<Source> s{{0, 0, 200 * kMbit}, {1, 0, 15 * kMbit}};
  run(p, s, 0, 10 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 10 * kSec), 20.0, 0.2);
  EXPECT_EQ(s[1].dropped, 0u);
}

TEST(Policer, UplinkBoundsTheSumOfClassrooms) {
  Policer p(plan(50 * kMbit, 20 * kMbit, 5, {}));
  std::vector<Source> s;
  for (uint32_t r = 0; r < 5; ++r) s.push_back({r, 0, 30 * kMbit});
  run(p, s, 0, 10 * kSec, true);
  uint64_t total = 0;
  for (auto& x : s) {
    total += x.passed;
    EXPECT_NEAR(mbps(x.passed, 10 * kSec), 10.0, 1.5);  // shared roughly evenly
  }
  EXPECT_NEAR(mbps(total, 10 * kSec), 50.0, 0.5);
  EXPECT_GT(p.drops(DropReason::kUplinkRate), 0u);
  // Unzoned traffic goes to the last classroom, limited only by the uplink.
  EXPECT_EQ(p.classrooms(), 6u);
}

TEST(Policer, CapIsNeverExceededOnRandomTraffic) {
  std::mt19937_64 rng(42);
  Policer p(plan(10'000 * kMbit, 100 * kMbit, 3,
                 {klass("video", 5 * kMbit), klass("teaching", 0, 10 * kMbit, true),
                  klass("p2p", 2 * kMbit)}));
  std::vector<std::pair<uint64_t, uint32_t>> video, p2p;
  uint64_t now = kSec;
  for (int i = 0; i < 400'000; ++i) {
    now += rng() % 20'000;  // bursty arrivals: up to 20 us apart
    const auto room = static_cast<uint32_t>(rng() % 3);
    const auto cls = static_cast<uint32_t>(rng() % 4);
    const auto len = static_cast<uint32_t>(64 + rng() % 1455);
    if (p.admit(Dir::kDown, room, cls, len, now, nullptr) && room == 1) {
      if (cls == 0) video.emplace_back(now, len);
      if (cls == 2) p2p.emplace_back(now, len);
    }
  }
  ASSERT_GT(video.size(), 1000u);
  // depth = max(rate * 20 ms, two frames)
  expect_never_above(video, 5 * kMbit, 12'500);
  expect_never_above(p2p, 2 * kMbit, 5'000);
}

TEST(Policer, StatsCountPassedDroppedAndCurrentRate) {
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 1, {klass("video", 5 * kMbit)}));
  std::vector<Source> s{{0, 0, 10 * kMbit}};
  run(p, s, 0, 2 * kSec);
  const NodeStats c = p.class_stats(Dir::kUp, 0, 0, 2 * kSec);
  EXPECT_EQ(c.bytes, s[0].passed);
  EXPECT_EQ(c.drop_bytes, s[0].dropped);
  EXPECT_NEAR(static_cast<double>(c.rate_bps), 5e6, 5e6 * 0.05);
  const NodeStats room = p.classroom_stats(Dir::kUp, 0, 2 * kSec);
  EXPECT_EQ(room.bytes, c.bytes);
  EXPECT_EQ(p.uplink_stats(Dir::kUp, 2 * kSec).drop_packets, c.drop_packets);
  EXPECT_EQ(p.passed_bytes(), s[0].passed);
  // Idle for two windows: the current rate reads 0.
  EXPECT_EQ(p.class_stats(Dir::kUp, 0, 0, 3 * kSec).rate_bps, 0u);
  EXPECT_EQ(drop_reason_name(DropReason::kClassCap), "qos_drop_class_cap");
}

TEST(Policer, ScalesTo500ClassroomsBy8Classes) {
  std::vector<api::QosClass> classes;
  for (int i = 0; i < 7; ++i) classes.push_back(klass("c" + std::to_string(i), (i + 1) * kMbit));
  Policer p(plan(10'000 * kMbit, 20 * kMbit, 500, classes));
  EXPECT_EQ(p.classrooms(), 501u);
  EXPECT_EQ(p.classes(), 8u);
  // Class 3 (cap 4 Mbit/s) of the last zoned classroom is its own bucket.
  std::vector<Source> s{{499, 3, 10 * kMbit}, {0, 3, 10 * kMbit}};
  run(p, s, 0, 5 * kSec);
  EXPECT_NEAR(mbps(s[0].passed, 5 * kSec), 4.0, 0.05);
  EXPECT_NEAR(mbps(s[1].passed, 5 * kSec), 4.0, 0.05);
  // Out-of-range indexes are clamped, never out of bounds.
  EXPECT_TRUE(p.admit(Dir::kUp, 100'000, 99, 100, 6 * kSec, nullptr));
}

}  // namespace
}  // namespace cg::qos

#include "dataplane/flow/flow_table.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "dataplane/packet/parser.h"

namespace cg::flow {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

packet::Parsed pkt(uint32_t src, uint16_t sp, uint32_t dst, uint16_t dp, uint8_t proto = 6) {
  packet::Parsed p{};
  p.l3 = packet::L3Type::kIpv4;
  p.src[10] = p.src[11] = p.dst[10] = p.dst[11] = 0xff;
  for (int i = 0; i < 4; ++i) {
    p.src[12 + i] = static_cast<uint8_t>(src >> (24 - 8 * i));
    p.dst[12 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
  }
  p.src_port = sp;
  p.dst_port = dp;
  p.l4_proto = proto;
  p.has_l4 = true;
  return p;
}

struct Ended {
  std::vector<std::pair<FlowKey, EndReason>> v;
  static void cb(void* ctx, FlowEntry& e, EndReason why) {
    static_cast<Ended*>(ctx)->v.push_back({e.key, why});
  }
};

struct Fixture {
  TableConfig cfg;
  Ended ended;
  std::unique_ptr<FlowTable> t;
  explicit Fixture(uint32_t cap = 1024, OnFull full = OnFull::kEvict) {
    cfg.capacity = cap;
    cfg.on_full = full;
    t = std::make_unique<FlowTable>(cfg, nullptr);
    t->set_end_callback(&Ended::cb, &ended);
  }
  // One packet through lookup + account; returns the flow.
  FlowEntry* send(const packet::Parsed& p, uint64_t now, uint8_t flags = 0x10,
                  uint32_t bytes = 100) {
    FlowKey k;
    bool lo = make_key(p, &k);
    bool created;
    FlowEntry* e = t->lookup_one(k, hash_key(k), lo, now, &created);
    return e ? t->account(e, lo, bytes, flags, now) : nullptr;
  }
};

TEST(FlowKey, BothDirectionsFoldToOneKey) {
  FlowKey a, b;
  bool lo_a = make_key(pkt(0x0a000001, 40000, 0x08080808, 443), &a);
  bool lo_b = make_key(pkt(0x08080808, 443, 0x0a000001, 40000), &b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(hash_key(a), hash_key(b));
  EXPECT_NE(lo_a, lo_b);
  FlowKey c;
  make_key(pkt(0x0a000001, 40001, 0x08080808, 443), &c);
  EXPECT_FALSE(a == c);
  auto v = pkt(0x0a000001, 40000, 0x08080808, 443);
  v.vlan_outer = 101;
  FlowKey d;
  make_key(v, &d);
  EXPECT_FALSE(a == d) << "VLAN is part of the key";
  // Same address both ends: ports decide the direction.
  FlowKey e, f;
  make_key(pkt(1, 5, 1, 6), &e);
  make_key(pkt(1, 6, 1, 5), &f);
  EXPECT_EQ(e, f);
}

TEST(FlowTable, DirectionFoldingAndCounters) {
  Fixture fx;
  auto* e1 = fx.send(pkt(1, 1000, 2, 80), 1 * kSec, 0x02, 60);
  auto* e2 = fx.send(pkt(2, 80, 1, 1000), 1 * kSec, 0x12, 60);
  auto* e3 = fx.send(pkt(1, 1000, 2, 80), 2 * kSec, 0x10, 1500);
  ASSERT_EQ(e1, e2);
  ASSERT_EQ(e1, e3);
  EXPECT_EQ(fx.t->size(), 1u);
  EXPECT_EQ(e1->packets[0], 2u);
  EXPECT_EQ(e1->packets[1], 1u);
  EXPECT_EQ(e1->bytes[0], 1560u);
  EXPECT_EQ(e1->tcp_state, TcpState::kEstablished);
  EXPECT_EQ(e1->first_seen_ns, 1 * kSec);
  EXPECT_EQ(e1->last_seen_ns, 2 * kSec);
  EXPECT_EQ(fx.t->counter(TableCounter::kCreated), 1u);
  EXPECT_EQ(fx.t->counter(TableCounter::kHits), 2u);
}

TEST(FlowTable, TcpCloseThenShortExpiry) {
  Fixture fx;
  fx.send(pkt(1, 1000, 2, 80), kSec, 0x02);
  fx.send(pkt(2, 80, 1, 1000), kSec, 0x12);
  fx.send(pkt(1, 1000, 2, 80), kSec, 0x10);
  fx.send(pkt(1, 1000, 2, 80), kSec, 0x11);
  auto* e = fx.send(pkt(2, 80, 1, 1000), kSec, 0x11);
  EXPECT_EQ(e->tcp_state, TcpState::kClosed);
  fx.t->expire(kSec);
  fx.t->expire(kSec + fx.cfg.timeouts.tcp_closed + kSec);
  ASSERT_EQ(fx.ended.v.size(), 1u);
  EXPECT_EQ(fx.ended.v[0].second, EndReason::kTcpClosed);
  EXPECT_EQ(fx.t->size(), 0u);
}

TEST(FlowTable, PerProtocolIdleTimeouts) {
  Fixture fx;
  fx.send(pkt(1, 53, 2, 53, 17), kSec);       // UDP: 120 s
  fx.send(pkt(1, 0, 2, 0, 1), kSec);          // ICMP: 30 s
  fx.send(pkt(1, 1, 3, 2, 6), kSec, 0x02);    // embryonic TCP: 30 s
  fx.send(pkt(1, 1, 4, 2, 6), kSec, 0x10);    // mid-stream TCP: established, 3600 s
  fx.t->expire(kSec);
  fx.t->expire(kSec + 31 * kSec);
  EXPECT_EQ(fx.t->size(), 2u) << "ICMP and embryonic TCP expired after 30 s";
  fx.t->expire(kSec + 121 * kSec);
  EXPECT_EQ(fx.t->size(), 1u) << "UDP expired after 120 s";
  fx.t->expire(kSec + 3601 * kSec);
  EXPECT_EQ(fx.t->size(), 0u);
  EXPECT_EQ(fx.t->counter(TableCounter::kExpiredIdle), 4u);
}

TEST(FlowTable, ActivityKeepsAFlowAlive) {
  Fixture fx;
  for (int s = 0; s < 600; s += 10) {
    fx.send(pkt(1, 53, 2, 53, 17), s * kSec);
    fx.t->expire(s * kSec);
  }
  EXPECT_EQ(fx.t->size(), 1u);
  EXPECT_TRUE(fx.ended.v.empty());
}

TEST(FlowTable, SweepIsBoundedPerCallAndCarriesWhatIsOwed) {
  Fixture fx(4096);
  fx.cfg.sweep_max_per_call = 100;
  fx.t = std::make_unique<FlowTable>(fx.cfg, nullptr);
  fx.t->set_end_callback(&Ended::cb, &fx.ended);
  for (uint32_t i = 0; i < 1000; ++i) fx.send(pkt(100 + i, 53, 9, 53, 17), kSec);
  fx.t->expire(kSec);
  // An hour later all 1,000 are idle, but one call checks at most 100 entries.
  EXPECT_EQ(fx.t->expire(3600 * kSec), 100u);
  EXPECT_EQ(fx.t->size(), 900u);
  // The rest is owed: the next calls (no time passing) go on 100 at a time.
  uint32_t calls = 1;
  while (fx.t->size() > 0 && calls < 100) {
    EXPECT_LE(fx.t->expire(3600 * kSec), 100u);
    ++calls;
  }
  EXPECT_EQ(calls, 10u);
  EXPECT_EQ(fx.t->counter(TableCounter::kExpiredIdle), 1000u);
  // Nothing is owed beyond one table: a later call checks only what its own time asks for.
  EXPECT_EQ(fx.t->expire(3600 * kSec), 0u);
}

TEST(FlowTable, FullTableEvictsEmbryonicFirst) {
  Fixture fx(64);
  // 63 established UDP flows (2-way), then 1 embryonic TCP flow: the table is full.
  for (uint32_t i = 0; i < 63; ++i) {
    fx.send(pkt(100 + i, 1, 9, 2, 17), kSec + i);
    fx.send(pkt(9, 2, 100 + i, 1, 17), kSec + i);
  }
  fx.send(pkt(7, 7, 9, 80, 6), 2 * kSec, 0x02);
  ASSERT_EQ(fx.t->size(), 64u);
  uint64_t evicted = 0;
  for (uint32_t i = 0; i < 200; ++i) {
    auto* e = fx.send(pkt(5000 + i, 1, 9, 2, 17), 3 * kSec + i);
    ASSERT_NE(e, nullptr);
    EXPECT_LE(fx.t->size(), 64u) << "never grows beyond capacity";
  }
  for (auto& [k, why] : fx.ended.v) evicted += why == EndReason::kEvicted;
  EXPECT_EQ(evicted, 200u);
  EXPECT_GE(fx.t->counter(TableCounter::kEvictedEmbryonic), 1u);
  EXPECT_EQ(fx.t->counter(TableCounter::kEvictedEmbryonic) +
                fx.t->counter(TableCounter::kEvictedIdle),
            200u);
}

TEST(FlowTable, FullTableEvictsOldestIdleAmongCandidates) {
  Fixture fx(16);
  for (uint32_t i = 0; i < 16; ++i) {  // all two-way (not embryonic); flow i last seen at i
    fx.send(pkt(100 + i, 1, 9, 2, 17), i * kSec);
    fx.send(pkt(9, 2, 100 + i, 1, 17), i * kSec);
  }
  fx.send(pkt(999, 1, 9, 2, 17), 100 * kSec);
  ASSERT_EQ(fx.ended.v.size(), 1u);
  // The victim is the oldest among the candidates it looked at, never the newest.
  FlowKey newest;
  make_key(pkt(115, 1, 9, 2, 17), &newest);
  EXPECT_FALSE(fx.ended.v[0].first == newest);
}

TEST(FlowTable, FullTableForwardOrDropPolicies) {
  for (OnFull mode : {OnFull::kForward, OnFull::kDrop}) {
    Fixture fx(16, mode);
    for (uint32_t i = 0; i < 16; ++i) ASSERT_NE(fx.send(pkt(100 + i, 1, 9, 2, 17), kSec), nullptr);
    EXPECT_EQ(fx.send(pkt(5000, 1, 9, 2, 17), kSec), nullptr);
    EXPECT_EQ(fx.t->size(), 16u);
    auto c = mode == OnFull::kForward ? TableCounter::kFullForward : TableCounter::kFullDrop;
    EXPECT_EQ(fx.t->counter(c), 1u);
    // Existing flows are still found.
    EXPECT_NE(fx.send(pkt(100, 1, 9, 2, 17), kSec), nullptr);
  }
}

TEST(FlowTable, ReusedTupleAfterCloseStartsANewFlow) {
  Fixture fx;
  fx.send(pkt(1, 1000, 2, 80), kSec, 0x02);
  fx.send(pkt(2, 80, 1, 1000), kSec, 0x14);  // RST
  auto* e = fx.send(pkt(1, 1000, 2, 80), 2 * kSec, 0x02);
  ASSERT_EQ(fx.ended.v.size(), 1u);
  EXPECT_EQ(fx.ended.v[0].second, EndReason::kReused);
  EXPECT_EQ(e->packets[0], 1u);
  EXPECT_EQ(e->tcp_state, TcpState::kSynSent);
  EXPECT_EQ(fx.t->size(), 1u);
}

TEST(FlowTable, BurstLookupMatchesSingleLookups) {
  Fixture fx(4096);
  std::vector<FlowKey> keys;
  std::vector<uint32_t> hashes;
  bool lo[64];
  for (uint32_t i = 0; i < 64; ++i) {
    FlowKey k;
    lo[i] = make_key(pkt(1 + i % 20, 1000, 2, 80), &k);  // duplicates inside the burst
    keys.push_back(k);
    hashes.push_back(hash_key(k));
  }
  FlowEntry* out[64];
  uint8_t created[64];
  fx.t->lookup_burst(keys.data(), hashes.data(), lo, 64, kSec, out, created);
  EXPECT_EQ(fx.t->size(), 20u);
  int new_count = 0;
  for (uint32_t i = 0; i < 64; ++i) {
    new_count += created[i];
    EXPECT_EQ(out[i], fx.t->find(keys[i], hashes[i]));
  }
  EXPECT_EQ(new_count, 20);
}

TEST(FlowTable, ManyFlowsStayFindable) {
  Fixture fx(1 << 16);
  std::map<uint32_t, FlowEntry*> seen;
  for (uint32_t i = 0; i < (1 << 16); ++i) {
    auto* e = fx.send(pkt(i, static_cast<uint16_t>(i), ~i, 443, 6), kSec, 0x10);
    ASSERT_NE(e, nullptr);
    seen[i] = e;
  }
  EXPECT_EQ(fx.t->size(), 1u << 16);
  EXPECT_EQ(fx.t->counter(TableCounter::kEvictedIdle) +
                fx.t->counter(TableCounter::kEvictedEmbryonic),
            0u)
      << "a table filled to capacity finds room for every flow";
  for (uint32_t i = 0; i < (1 << 16); i += 97) {
    FlowKey k;
    make_key(pkt(i, static_cast<uint16_t>(i), ~i, 443, 6), &k);
    EXPECT_EQ(fx.t->find(k, hash_key(k)), seen[i]);
  }
  fx.t->flush(EndReason::kShutdown);
  EXPECT_EQ(fx.t->size(), 0u);
  EXPECT_EQ(fx.ended.v.size(), 1u << 16);
}

TEST(ExtRegistry, SlotsAreAlignedBoundedAndReleased) {
  ExtRegistry reg;
  static int released = 0;
  int a = reg.add("ndpi", 8, 8, [](void* s, void*) { released += *static_cast<uint64_t*>(s) != 0; },
                  nullptr);
  int b = reg.add("verdict", 4, 4, nullptr, nullptr);
  int c = reg.add("qos", 2, 2, nullptr, nullptr);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 8);
  EXPECT_EQ(c, 12);
  EXPECT_EQ(reg.add("too-big", 32, 8, nullptr, nullptr), -1);
  EXPECT_EQ(reg.add("bad-align", 1, 3, nullptr, nullptr), -1);
  TableConfig cfg;
  cfg.capacity = 64;
  FlowTable t(cfg, &reg);
  FlowKey k;
  make_key(pkt(1, 2, 3, 4), &k);
  bool created;
  FlowEntry* e = t.lookup_one(k, hash_key(k), true, kSec, &created);
  *ExtRegistry::get<uint64_t>(*e, a) = 42;
  EXPECT_EQ(*ExtRegistry::get<uint32_t>(*e, b), 0u) << "slots start zeroed";
  t.flush(EndReason::kShutdown);
  EXPECT_EQ(released, 1);
}

}  // namespace
}  // namespace cg::flow

// FlowAudit (worker side of the live IPFIX flow export) and FlowAuditDrain: records at flow end,
// interim records at the active timeout whose counts sum to the flow's, bounded ring and
// long-flow table (losses counted), and the drain into a real UDP socket.
#include "dataplane/export/flow_export.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vector>

namespace cg::exporter {
namespace {

constexpr uint64_t kSec = 1'000'000'000ull;

std::array<uint8_t, 16> v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
  return {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
}

class FlowAuditTest : public ::testing::Test {
 protected:
  FlowAuditTest() : table_(table_cfg(), &ext_) {}
  static flow::TableConfig table_cfg() {
    flow::TableConfig c;
    c.capacity = 1024;
    return c;
  }
  // Accounts `fwd` packets from the client (10.0.0.N:40000+N) and `rev` back from the server.
  flow::FlowEntry* traffic(uint8_t n, uint32_t fwd, uint32_t rev, uint64_t now) {
    packet::Parsed p{};
    p.l3 = packet::L3Type::kIpv4;
    p.src = v4(10, 0, 0, n);
    p.dst = v4(192, 0, 2, 1);
    p.src_port = static_cast<uint16_t>(40000 + n);
    p.dst_port = 80;
    p.l4_proto = 17;
    flow::FlowKey k;
    const bool lo = flow::make_key(p, &k);
    const uint32_t h = flow::hash_key(k);
    bool created = false;
    flow::FlowEntry* e = table_.lookup_one(k, h, lo, now, &created);
    if (created) e->first_seen_ns = e->last_seen_ns = now;
    for (uint32_t i = 0; i < fwd; ++i) e = table_.account(e, lo, 100, 0, now);
    for (uint32_t i = 0; i < rev; ++i) e = table_.account(e, !lo, 1000, 0, now);
    return e;
  }
  std::vector<FlowRecord> drain(FlowAudit& a) {
    std::vector<FlowRecord> out(1024);
    out.resize(a.ring().pop(out.data(), 1024));
    return out;
  }
  void end_into(FlowAudit& a) {
    table_.set_end_callback(
        [](void* ctx, flow::FlowEntry& e, flow::EndReason why) {
          static_cast<FlowAudit*>(ctx)->on_flow_end(e, why, nullptr, nullptr);
        },
        &a);
  }
  flow::ExtRegistry ext_;
  flow::FlowTable table_;
};

TEST_F(FlowAuditTest, FlowEndQueuesOneRecordWithTheFlowsCounts) {
  FlowExportConfig cfg;
  FlowAudit audit(cfg);
  end_into(audit);
  traffic(1, 3, 2, 1 * kSec);
  table_.flush(flow::EndReason::kShutdown);
  auto recs = drain(audit);
  ASSERT_EQ(recs.size(), 1u);
  const FlowRecord& r = recs[0];
  EXPECT_EQ(r.src_addr, v4(10, 0, 0, 1));
  EXPECT_EQ(r.src_port, 40001);
  EXPECT_EQ(r.packets[0], 3u);
  EXPECT_EQ(r.packets[1], 2u);
  EXPECT_EQ(r.bytes[0], 300u);
  EXPECT_EQ(r.bytes[1], 2000u);
  EXPECT_FALSE(r.interim);
  EXPECT_EQ(r.end_reason, static_cast<int8_t>(flow::EndReason::kShutdown));
  EXPECT_EQ(ipfix_flow(r, nullptr, static_cast<const api::PolicyImage*>(nullptr), "").end_reason,
            4);  // forced end
  EXPECT_EQ(audit.counter(FlowAuditCounter::kRecordsQueued), 1u);
}

TEST_F(FlowAuditTest, ActiveTimeoutRecordsCarryDeltasThatSumToTheFlow) {
  FlowExportConfig cfg;
  cfg.active_timeout_ns = 10 * kSec;
  FlowAudit audit(cfg);
  end_into(audit);
  traffic(1, 5, 4, 100 * kSec);
  traffic(2, 1, 1, 100 * kSec);
  audit.tick(table_, 105 * kSec, nullptr, nullptr);  // not due yet
  EXPECT_TRUE(drain(audit).empty());
  audit.tick(table_, 111 * kSec, nullptr, nullptr);  // both due: first interim records
  auto first = drain(audit);
  ASSERT_EQ(first.size(), 2u);
  for (const auto& r : first) {
    EXPECT_TRUE(r.interim);
    EXPECT_EQ(ipfix_flow(r, nullptr, static_cast<const api::PolicyImage*>(nullptr), "").end_reason,
              2);  // active timeout
  }
  traffic(1, 7, 3, 112 * kSec);                      // flow 1 goes on, flow 2 is idle
  audit.tick(table_, 115 * kSec, nullptr, nullptr);  // within the period: nothing
  EXPECT_TRUE(drain(audit).empty());
  audit.tick(table_, 122 * kSec, nullptr, nullptr);  // flow 1: the 10 new packets; flow 2: none
  auto second = drain(audit);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].src_port, 40001);
  EXPECT_EQ(second[0].packets[0], 7u);
  EXPECT_EQ(second[0].packets[1], 3u);
  EXPECT_EQ(second[0].bytes[0], 700u);
  EXPECT_EQ(second[0].first_seen_ns, 111 * kSec);
  traffic(1, 1, 0, 123 * kSec);
  table_.flush(flow::EndReason::kShutdown);
  auto last = drain(audit);
  ASSERT_EQ(last.size(), 2u);
  // Every flow's records add up to what the table counted.
  uint64_t pk[2][2] = {}, by[2][2] = {};
  for (const auto* set : {&first, &second, &last})
    for (const auto& r : *set)
      for (int d = 0; d < 2; ++d) {
        pk[r.src_port - 40001][d] += r.packets[d];
        by[r.src_port - 40001][d] += r.bytes[d];
      }
  EXPECT_EQ(pk[0][0], 13u);
  EXPECT_EQ(pk[0][1], 7u);
  EXPECT_EQ(by[0][0], 1300u);
  EXPECT_EQ(by[0][1], 7000u);
  EXPECT_EQ(pk[1][0], 1u);
  EXPECT_EQ(pk[1][1], 1u);
  EXPECT_EQ(audit.counter(FlowAuditCounter::kActiveRecords), 3u);
  EXPECT_EQ(audit.counter(FlowAuditCounter::kRecordsQueued), 5u);
}

TEST_F(FlowAuditTest, FullRingCountsTheLostRecordAndNeverBlocks) {
  FlowExportConfig cfg;
  cfg.ring = 2;
  FlowAudit audit(cfg);
  end_into(audit);
  for (uint8_t n = 1; n <= 3; ++n) traffic(n, 1, 0, kSec);
  table_.flush(flow::EndReason::kShutdown);
  EXPECT_EQ(drain(audit).size(), 2u);
  EXPECT_EQ(audit.counter(FlowAuditCounter::kRecordsLostRingFull), 1u);
  EXPECT_EQ(audit.counter(FlowAuditCounter::kRecordsQueued), 2u);
}

TEST_F(FlowAuditTest, FullLongFlowTableSkipsInterimRecordsButNotCounts) {
  FlowExportConfig cfg;
  cfg.active_timeout_ns = 10 * kSec;
  cfg.active_flows = 12;  // 16 slots, at most 12 in use
  FlowAudit audit(cfg);
  end_into(audit);
  for (uint8_t n = 1; n <= 14; ++n) traffic(n, 2, 1, kSec);
  audit.tick(table_, 20 * kSec, nullptr, nullptr);
  EXPECT_EQ(drain(audit).size(), 12u);
  EXPECT_EQ(audit.counter(FlowAuditCounter::kActiveTableFull), 2u);
  table_.flush(flow::EndReason::kShutdown);
  auto last = drain(audit);
  ASSERT_EQ(last.size(), 14u);
  uint64_t full = 0;
  for (const auto& r : last) full += r.packets[0] == 2;
  EXPECT_EQ(full, 2u);  // the two without an interim record carry everything
}

TEST(FlowAuditDrain, ExportsRingsToARealUdpSocketWithZoneAndRule) {
  int rx = socket(AF_INET, SOCK_DGRAM, 0);
  ASSERT_GE(rx, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(rx, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
  socklen_t al = sizeof(a);
  getsockname(rx, reinterpret_cast<sockaddr*>(&a), &al);
  IpfixConfig icfg;
  icfg.collector = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  std::string err;
  auto x = IpfixExporter::create(icfg, &err);
  ASSERT_TRUE(x) << err;
  FlowAuditDrain drain(std::move(x));
  FlowExportConfig cfg;
  FlowAudit w0(cfg), w1(cfg);
  drain.add(&w0);
  drain.add(&w1);
  FlowRecord r{};
  r.src_addr = v4(10, 1, 0, 7);
  r.dst_addr = v4(192, 0, 2, 1);
  r.proto = 6;
  r.packets[0] = 3;
  r.judged = true;
  r.verdict.flags = enforce::FlowVerdict::kJudged | enforce::FlowVerdict::kDeny;
  r.verdict.rule = 1;
  ASSERT_TRUE(w0.ring().push(r));
  ASSERT_TRUE(w1.ring().push(r));
  api::PolicyImage im;
  api::Zone z;
  z.name = "classrooms";
  z.v4.push_back({0x0a010000u, 16});
  im.zones.push_back(z);
  api::Rule rule;
  rule.name = "no-games";
  im.rules.push_back(rule);
  const IpfixFlow f = ipfix_flow(r, nullptr, &im, "");
  EXPECT_EQ(f.verdict, 2);
  EXPECT_EQ(f.rule, "no-games");
  EXPECT_EQ(drain.poll(5 * kSec, nullptr, &im), 2u);
  EXPECT_EQ(drain.poll(5 * kSec, nullptr, &im), 0u);  // rings empty: the message goes out
  EXPECT_EQ(drain.exporter().counter(IpfixCounter::kRecords), 2u);
  EXPECT_EQ(drain.exporter().counter(IpfixCounter::kMessages), 1u);
  std::vector<uint8_t> buf(65536);
  const ssize_t n = recv(rx, buf.data(), buf.size(), 0);
  ASSERT_GT(n, 16);
  const std::string msg(buf.begin(), buf.begin() + n);
  EXPECT_NE(msg.find("classrooms"), std::string::npos);  // zone of the initiator 10.1.0.7
  EXPECT_NE(msg.find("no-games"), std::string::npos);
  close(rx);
}

}  // namespace
}  // namespace cg::exporter

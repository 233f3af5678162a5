#include "dataplane/pipeline/pipeline.h"

#include <gtest/gtest.h>

#include "tests/unit/dataplane/frame_builder.h"

namespace cg::pipeline {
namespace {

using namespace cg::testing;

struct Harness {
  Pipeline p;
  explicit Harness(PipelineConfig c = {}) : p(with_small_table(c)) {}
  static PipelineConfig with_small_table(PipelineConfig c) {
    c.table.capacity = 1024;
    c.classify = false;  // classification has its own tests
    return c;
  }
  std::vector<Verdict> send(const std::vector<Bytes>& frames, uint64_t ts = 1'000'000'000) {
    std::vector<PacketRef> refs;
    for (const auto& f : frames)
      refs.push_back({f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()),
                      ts, 0});
    std::vector<Verdict> v(frames.size());
    p.process(refs.data(), static_cast<uint32_t>(refs.size()), v.data());
    return v;
  }
};

TEST(Pipeline, ForwardsIpAndNonIpAndTracksFlows) {
  Harness r;
  Bytes arp = eth(0x0806);
  arp.fill(28);
  auto v = r.send({frame(eth(0x0800), ipv4(ip4("10.0.0.1"), ip4("10.0.0.2"), 6, tcp(1, 80, 2))),
                   frame(eth(0x0800), ipv4(ip4("10.0.0.2"), ip4("10.0.0.1"), 6, tcp(80, 1, 0x12))),
                   arp});
  for (auto x : v) EXPECT_EQ(x, Verdict::kForward);
  EXPECT_EQ(r.p.table().size(), 1u);
  EXPECT_EQ(r.p.counter(Counter::kPackets), 3u);
  EXPECT_EQ(r.p.counter(Counter::kForwarded), 3u);
  EXPECT_EQ(r.p.counter(Counter::kNonIpPackets), 1u);
}

TEST(Pipeline, MalformedAndNonIpActionsAreConfigurable) {
  Bytes bad = frame(eth(0x0800), ipv4(1, 2, 6, tcp(1, 2, 2)));
  bad[14] = 0x41;  // IHL 4
  Bytes lldp = eth(0x88cc);
  lldp.fill(30);
  Harness def;
  auto v = def.send({bad, lldp});
  EXPECT_EQ(v[0], Verdict::kDrop) << "malformed frames are dropped by default";
  EXPECT_EQ(v[1], Verdict::kForward) << "non-IP frames pass a transparent bridge by default";
  EXPECT_EQ(def.p.counter(Counter::kDropMalformed), 1u);
  PipelineConfig c;
  c.malformed = FrameAction::kForward;
  c.non_ip = FrameAction::kDrop;
  Harness alt(c);
  v = alt.send({bad, lldp});
  EXPECT_EQ(v[0], Verdict::kForward);
  EXPECT_EQ(v[1], Verdict::kDrop);
  EXPECT_EQ(alt.p.counter(Counter::kDropNonIp), 1u);
}

TEST(Pipeline, LaterFragmentsJoinTheFlowOfTheirFirstFragment) {
  Harness r;
  Bytes rest;
  rest.fill(100, 3);
  auto v = r.send({frame(eth(0x0800), ipv4(1, 2, 17, udp(5353, 53, 100, 208), 0, 0x2000, -1, 77)),
                   frame(eth(0x0800), ipv4(1, 2, 17, rest, 0, 0x000e, -1, 77)),
                   frame(eth(0x0800), ipv4(1, 2, 17, rest, 0, 0x000e, -1, 78))});
  EXPECT_EQ(r.p.counter(Counter::kFragmentsMatched), 1u);
  EXPECT_EQ(r.p.counter(Counter::kFragmentsUnmatched), 1u);
  EXPECT_EQ(r.p.table().size(), 2u) << "matched fragment joins the UDP flow; unmatched: port 0";
}

TEST(Pipeline, FlowTableFullDropIsCountedAsADropReason) {
  PipelineConfig c;
  c.table.on_full = flow::OnFull::kDrop;
  Pipeline p([&] {
    auto x = c;
    x.table.capacity = 16;
    x.classify = false;
    return x;
  }());
  std::vector<Bytes> frames;
  for (uint32_t i = 0; i < 20; ++i) frames.push_back(frame(eth(0x0800), ipv4(i, 99, 17, udp(1, 2))));
  std::vector<PacketRef> refs;
  for (auto& f : frames) refs.push_back({f.data(), (uint32_t)f.size(), (uint32_t)f.size(), 1, 0});
  std::vector<Verdict> v(refs.size());
  p.process(refs.data(), (uint32_t)refs.size(), v.data());
  EXPECT_EQ(p.counter(Counter::kDropFlowTableFull), 4u);
  EXPECT_EQ(p.counter(Counter::kForwarded), 16u);
}

}  // namespace
}  // namespace cg::pipeline

// Micro benchmark: flow-table lookups of existing flows at 10k and 1M flows, one at a time and
// in bursts of 32 with precomputed hashes (what the pipeline does).
#include <benchmark/benchmark.h>

#include <array>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "dataplane/flow/flow_table.h"
#include "dataplane/pipeline/pipeline.h"

namespace {

using cg::flow::FlowKey;

struct World {
  std::unique_ptr<cg::flow::FlowTable> table;
  std::vector<FlowKey> keys;
  std::vector<uint32_t> hashes;
  std::vector<uint32_t> order;  // random access order
};

World& world(uint32_t n) {
  static std::map<uint32_t, std::unique_ptr<World>> cache;
  auto& w = cache[n];
  if (w) return *w;
  w = std::make_unique<World>();
  cg::flow::TableConfig cfg;
  cfg.capacity = n + n / 4;
  cfg.prefault = true;
  w->table = std::make_unique<cg::flow::FlowTable>(cfg, nullptr);
  for (uint32_t i = 0; i < n; ++i) {
    cg::packet::Parsed p{};
    p.src[10] = p.src[11] = p.dst[10] = p.dst[11] = 0xff;
    p.src[12] = 10;
    p.src[13] = static_cast<uint8_t>(i >> 16);
    p.src[14] = static_cast<uint8_t>(i >> 8);
    p.src[15] = static_cast<uint8_t>(i);
    p.dst[12] = 203;
    p.src_port = static_cast<uint16_t>(1024 + (i >> 24));
    p.dst_port = 443;
    p.l4_proto = 6;
    FlowKey k;
    bool lo = cg::flow::make_key(p, &k);
    uint32_t h = cg::flow::hash_key(k);
    bool created;
    w->table->lookup_one(k, h, lo, 1, &created);
    w->keys.push_back(k);
    w->hashes.push_back(h);
  }
  w->order.resize(1 << 20);
  std::mt19937 rng(42);
  for (auto& x : w->order) x = rng() % n;
  return *w;
}

void BM_LookupOne(benchmark::State& st) {
  World& w = world(static_cast<uint32_t>(st.range(0)));
  size_t i = 0;
  for (auto _ : st) {
    uint32_t k = w.order[i++ & (w.order.size() - 1)];
    benchmark::DoNotOptimize(w.table->find(w.keys[k], w.hashes[k]));
  }
  st.SetItemsProcessed(st.iterations());
}

void BM_LookupBurst32(benchmark::State& st) {
  World& w = world(static_cast<uint32_t>(st.range(0)));
  FlowKey keys[32];
  uint32_t hashes[32];
  bool lo[32] = {};
  cg::flow::FlowEntry* out[32];
  uint8_t created[32];
  size_t i = 0;
  for (auto _ : st) {
    for (int j = 0; j < 32; ++j) {
      uint32_t k = w.order[i++ & (w.order.size() - 1)];
      keys[j] = w.keys[k];
      hashes[j] = w.hashes[k];
    }
    w.table->lookup_burst(keys, hashes, lo, 32, 2, out, created);
    benchmark::DoNotOptimize(out[0]);
  }
  st.SetItemsProcessed(st.iterations() * 32);
}

// The whole pipeline (parse + fragments + flow) without DPDK: 64-byte TCP frames of N flows.
void BM_PipelineBurst32(benchmark::State& st) {
  uint32_t n = static_cast<uint32_t>(st.range(0));
  cg::pipeline::PipelineConfig cfg;
  cfg.table.capacity = n + n / 4;
  cfg.table.prefault = true;
  cfg.classify = false;  // parse + flow only (the foundation's figure)
  cg::pipeline::Pipeline pipe(cfg);
  constexpr uint32_t kFrames = 1 << 16;
  std::vector<std::array<uint8_t, 64>> frames(kFrames);
  std::mt19937 rng(7);
  for (auto& f : frames) {
    f.fill(0);
    uint32_t id = rng() % n;
    f[12] = 0x08;
    f[14] = 0x45;
    f[17] = 46;  // total length 46
    f[22] = 64;
    f[23] = 6;
    f[26] = 10;
    f[27] = static_cast<uint8_t>(id >> 16);
    f[28] = static_cast<uint8_t>(id >> 8);
    f[29] = static_cast<uint8_t>(id);
    f[30] = 203;
    f[34] = static_cast<uint8_t>(0x80 | (id >> 24));
    f[36] = 0x01;
    f[37] = 0xbb;
    f[46] = 0x50;
    f[47] = 0x10;
  }
  cg::pipeline::PacketRef refs[32];
  cg::pipeline::Verdict v[32];
  size_t i = 0;
  uint64_t now = 1;
  for (auto _ : st) {
    for (int j = 0; j < 32; ++j) {
      auto& f = frames[i++ & (kFrames - 1)];
      refs[j] = {f.data(), 60, 60, now, 0};
    }
    pipe.process(refs, 32, v);
    pipe.tick(now);
    now += 1000;
  }
  st.SetItemsProcessed(st.iterations() * 32);
}

BENCHMARK(BM_LookupOne)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(BM_LookupBurst32)->Arg(10'000)->Arg(1'000'000);
BENCHMARK(BM_PipelineBurst32)->Arg(10'000)->Arg(1'000'000);

}  // namespace

BENCHMARK_MAIN();

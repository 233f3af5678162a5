// Pipeline benchmark: parse + flow tracking on one worker lcore over an in-memory DPDK port.
//
// A net_ring port whose RX and TX share one rte_ring is pre-filled with synthetic packets
// (IMIX sizes; TCP/UDP, IPv4 with some IPv6 and VLAN-tagged), so packets circulate
// rx_burst → work → tx_burst forever with no generator core. Before each TX the source address
// and port of every packet are rewritten to the next flow id, so `--flows` distinct flows are
// live at once. Two modes on the same port, in the same run:
//   io:       rx → rewrite → tx                  (the port's own cost, our baseline)
//   pipeline: rx → parse + flow lookup/update → rewrite → tx
// Prints Mpps, cycles per packet (worker core busy-polling), the flow table's memory per flow.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/pipeline.h"

namespace {

struct Options {
  uint32_t flows = 1'000'000;
  uint32_t ring = 8192;
  double seconds = 5;
  int runs = 3;
  bool smoke = false;
};

std::atomic<bool> g_stop{false};

struct Job {
  uint16_t port;
  bool pipeline;
  uint32_t flows;
  uint32_t ring;
  cg::pipeline::Pipeline* pipe;
  uint64_t packets = 0;
  uint64_t cycles = 0;
};

// Per-packet state in the mbuf's private area (the pool is created with 8 bytes of it):
// bits 0-31 the current flow id, 32-47 the address offset, 48-63 the L4 offset.
inline uint64_t& state(rte_mbuf* m) { return *static_cast<uint64_t*>(rte_mbuf_to_priv(m)); }

inline void rewrite(rte_mbuf* m, uint32_t flows, uint32_t step) {
  uint64_t id = (state(m) & 0xffffffffu) + step;
  if (id >= flows) id -= flows * (id / flows);
  uint32_t off = static_cast<uint32_t>(state(m) >> 32);
  auto* p = rte_pktmbuf_mtod(m, uint8_t*);
  uint16_t ip_off = static_cast<uint16_t>(off & 0xffff), l4 = static_cast<uint16_t>(off >> 16);
  // flow id → 3 address bytes + (id >> 24) into the port, so up to 2^32 distinct flows
  p[ip_off] = static_cast<uint8_t>(id >> 16);
  p[ip_off + 1] = static_cast<uint8_t>(id >> 8);
  p[ip_off + 2] = static_cast<uint8_t>(id);
  p[l4] = static_cast<uint8_t>(0x80 | (id >> 24));
  state(m) = (state(m) & ~0xffffffffull) | id;
}

int worker(void* arg) {
  auto& j = *static_cast<Job*>(arg);
  rte_mbuf* pkts[32];
  cg::pipeline::PacketRef refs[32];
  cg::pipeline::Verdict v[32];
  uint64_t t0 = rte_rdtsc(), n_total = 0;
  uint64_t now_ns = 1'000'000'000ull;
  while (!g_stop.load(std::memory_order_relaxed)) {
    uint16_t n = rte_eth_rx_burst(j.port, 0, pkts, 32);
    if (n == 0) continue;
    // A NIC's RX writes the mbufs (they arrive hot); the ring PMD does not, so fetch the
    // headers, then the packet data, for the whole burst before touching any of it.
    for (uint16_t i = 0; i < n; ++i) rte_prefetch0(pkts[i]);
    for (uint16_t i = 0; i < n; ++i) rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    if (j.pipeline) {
      now_ns += 1000;  // a microsecond per burst: timeouts never fire, expiry still runs
      for (uint16_t i = 0; i < n; ++i)
        refs[i] = {rte_pktmbuf_mtod(pkts[i], const uint8_t*), pkts[i]->data_len,
                   pkts[i]->pkt_len, now_ns, 0};
      j.pipe->process(refs, n, v);
      j.pipe->tick(now_ns);
    }
    for (uint16_t i = 0; i < n; ++i) rewrite(pkts[i], j.flows, j.ring);
    uint16_t sent = rte_eth_tx_burst(j.port, 0, pkts, n);
    for (uint16_t i = sent; i < n; ++i) rte_pktmbuf_free(pkts[i]);  // cannot happen: same ring
    n_total += n;
  }
  j.cycles = rte_rdtsc() - t0;
  j.packets = n_total;
  return 0;
}

// IMIX (7:4:1 of 64/570/1518-byte frames); 80% TCP / 20% UDP; 10% IPv6; 10% VLAN-tagged.
void build_packet(rte_mbuf* m, uint32_t i, uint32_t flows) {
  static const uint16_t kSizes[12] = {60, 60, 60, 60, 60, 60, 60, 566, 566, 566, 566, 1514};
  uint16_t size = kSizes[i % 12];
  bool v6 = i % 10 == 3, vlan = i % 10 == 7, udp = i % 5 == 1;
  if (v6 && size < 78) size = 78;
  auto* p = rte_pktmbuf_mtod(m, uint8_t*);
  std::memset(p, 0, size);
  uint16_t off = 12;
  p[0] = 0x02;
  p[6] = 0x04;
  if (vlan) {
    p[12] = 0x81;
    p[14] = 0x00;
    p[15] = static_cast<uint8_t>(100 + i % 50);
    off += 4;
  }
  uint16_t ip = off + 2, l4, ip_src_last3;
  if (!v6) {
    p[off] = 0x08;
    p[ip] = 0x45;
    uint16_t total = static_cast<uint16_t>(size - ip);
    p[ip + 2] = total >> 8;
    p[ip + 3] = total & 0xff;
    p[ip + 8] = 64;
    p[ip + 9] = udp ? 17 : 6;
    p[ip + 12] = 10;
    ip_src_last3 = ip + 13;
    p[ip + 16] = 203;
    p[ip + 17] = 0;
    p[ip + 18] = 113;
    p[ip + 19] = static_cast<uint8_t>(1 + i % 200);
    l4 = ip + 20;
  } else {
    p[off] = 0x86;
    p[off + 1] = 0xdd;
    p[ip] = 0x60;
    uint16_t plen = static_cast<uint16_t>(size - ip - 40);
    p[ip + 4] = plen >> 8;
    p[ip + 5] = plen & 0xff;
    p[ip + 6] = udp ? 17 : 6;
    p[ip + 7] = 64;
    p[ip + 8] = 0xfd;
    ip_src_last3 = ip + 8 + 13;
    p[ip + 24] = 0x24;
    p[ip + 39] = static_cast<uint8_t>(1 + i % 200);
    l4 = ip + 40;
  }
  if (udp) {
    uint16_t ulen = static_cast<uint16_t>(size - l4);
    p[l4 + 2] = 0x01;  // dst port 443 (QUIC-like)
    p[l4 + 3] = 0xbb;
    p[l4 + 4] = ulen >> 8;
    p[l4 + 5] = ulen & 0xff;
  } else {
    p[l4 + 2] = 0x01;
    p[l4 + 3] = 0xbb;
    p[l4 + 12] = 0x50;
    p[l4 + 13] = 0x10;  // ACK: mid-stream established flows
  }
  m->data_len = m->pkt_len = size;
  state(m) = static_cast<uint64_t>(l4) << 48 | static_cast<uint64_t>(ip_src_last3) << 32 |
               (i % flows);
  rewrite(m, flows, 0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--flows") o.flows = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--ring") o.ring = static_cast<uint32_t>(std::stoul(val()));
    else if (a == "--seconds") o.seconds = std::stod(val());
    else if (a == "--runs") o.runs = std::stoi(val());
    else if (a == "--smoke") { o.smoke = true; o.flows = 10000; o.seconds = 0.3; o.runs = 1; o.ring = 4096; }
    else {
      std::fprintf(stderr,
                   "usage: %s [--flows N] [--ring N] [--seconds S] [--runs N] [--smoke]\n", argv[0]);
      return 2;
    }
  }
  // Slot i of the ring only ever carries flow ids = i (mod ring) when flows is a multiple of the
  // ring size, so each flow keeps one packet template (size, family, VLAN, protocol) and the
  // run has exactly `flows` distinct flows.
  o.flows = (o.flows + o.ring - 1) / o.ring * o.ring;
  std::vector<std::string> eal = {"cg-bench-pipeline", "-l", "0-1", "--no-huge", "-m", "1024",
                                  "--no-pci", "--file-prefix=cg-bench", "--log-level=lib.eal:error"};
  std::vector<char*> eargv;
  for (auto& s : eal) eargv.push_back(s.data());
  if (rte_eal_init(static_cast<int>(eargv.size()), eargv.data()) < 0) {
    std::fprintf(stderr, "EAL init failed\n");
    return 1;
  }
  if (rte_lcore_count() < 2) {
    std::fprintf(stderr, "need 2 lcores\n");
    return 1;
  }
  rte_mempool* pool = rte_pktmbuf_pool_create("bench", o.ring * 2 - 1, 256, 8,
                                              RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  rte_ring* ring = rte_ring_create("bench_loop", o.ring * 2, rte_socket_id(),
                                   RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (!pool || !ring) {
    std::fprintf(stderr, "mempool/ring allocation failed\n");
    return 1;
  }
  int port = rte_eth_from_ring(ring);
  if (port < 0) {
    std::fprintf(stderr, "rte_eth_from_ring failed\n");
    return 1;
  }
  rte_eth_conf conf{};
  if (rte_eth_dev_configure(port, 1, 1, &conf) != 0 ||
      rte_eth_rx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr, pool) != 0 ||
      rte_eth_tx_queue_setup(port, 0, 1024, rte_socket_id(), nullptr) != 0 ||
      rte_eth_dev_start(port) != 0) {
    std::fprintf(stderr, "ring port setup failed\n");
    return 1;
  }
  std::vector<rte_mbuf*> pkts(o.ring);
  if (rte_pktmbuf_alloc_bulk(pool, pkts.data(), o.ring) != 0) return 1;
  for (uint32_t i = 0; i < o.ring; ++i) build_packet(pkts[i], i, o.flows);
  rte_ring_enqueue_bulk(ring, reinterpret_cast<void**>(pkts.data()), o.ring, nullptr);

  cg::pipeline::PipelineConfig pcfg;
  pcfg.table.capacity = o.flows + o.flows / 4;
  pcfg.table.prefault = true;
  pcfg.classify = false;  // parse + flow tracking: the foundation's figure
  uint64_t timeout = 3600ull * 1'000'000'000ull;
  pcfg.table.timeouts = {timeout, timeout, timeout, timeout, timeout, timeout, timeout};

  unsigned wl = rte_get_next_lcore(-1, 1, 0);
  double hz = static_cast<double>(rte_get_tsc_hz());
  std::vector<double> io_mpps, pl_mpps, pl_cpp, io_cpp;
  size_t table_bytes = 0;
  uint64_t flows_live = 0, flows_created = 0;
  for (int r = 0; r < o.runs; ++r) {
    for (bool use_pipeline : {false, true}) {
      auto pipe = std::make_unique<cg::pipeline::Pipeline>(pcfg);
      Job job{static_cast<uint16_t>(port), use_pipeline, o.flows, o.ring, pipe.get()};
      g_stop = false;
      rte_eal_remote_launch(worker, &job, wl);
      if (use_pipeline) {
        // Warm up: let every flow be created once before the timed part.
        uint64_t warm = rte_rdtsc() + static_cast<uint64_t>(hz * o.seconds * 0.4);
        while (rte_rdtsc() < warm) rte_pause();
      }
      rte_delay_us_sleep(static_cast<unsigned>(o.seconds * 1e6));
      g_stop = true;
      rte_eal_wait_lcore(wl);
      double secs = static_cast<double>(job.cycles) / hz;
      double mpps = static_cast<double>(job.packets) / secs / 1e6;
      double cpp = static_cast<double>(job.cycles) / static_cast<double>(job.packets);
      (use_pipeline ? pl_mpps : io_mpps).push_back(mpps);
      (use_pipeline ? pl_cpp : io_cpp).push_back(cpp);
      if (use_pipeline) {
        table_bytes = pipe->table().memory_bytes();
        flows_live = pipe->table().size();
        flows_created = pipe->table().counter(cg::flow::TableCounter::kCreated);
      }
      std::fprintf(stderr, "run %d %-8s %7.2f Mpps %6.1f cycles/packet\n", r + 1,
                   use_pipeline ? "pipeline" : "io", mpps, cpp);
    }
  }
  std::printf("pipeline_bench: flows=%u ring=%u runs=%d seconds=%.1f tsc=%.2f GHz\n", o.flows,
              o.ring, o.runs, o.seconds, hz / 1e9);
  std::printf("io (same net_ring port, rx+rewrite+tx): %.2f Mpps  %.1f cycles/packet\n",
              median(io_mpps), median(io_cpp));
  std::printf("parse+flow pipeline:                    %.2f Mpps  %.1f cycles/packet\n",
              median(pl_mpps), median(pl_cpp));
  std::printf("pipeline / io: %.2f\n", median(pl_mpps) / median(io_mpps));
  std::printf("flows live at end: %lu (created %lu); flow table %.1f MB for %u flows of capacity "
              "= %.0f bytes per flow (entry 128 bytes)\n",
              flows_live, flows_created, table_bytes / 1e6, pcfg.table.capacity,
              static_cast<double>(table_bytes) / pcfg.table.capacity);
  std::printf("RESULT pipeline_mpps=%.3f io_mpps=%.3f pipeline_cycles_per_packet=%.1f\n",
              median(pl_mpps), median(io_mpps), median(pl_cpp));
  rte_eal_cleanup();
  return 0;
}

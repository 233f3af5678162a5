#include "dataplane/runtime/dataplane.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "dataplane/export/event_hub.h"
#include "dataplane/export/evidence.h"
#include "dataplane/export/flow_export.h"
#include "dataplane/export/flow_record.h"
#include "dataplane/packet/tcp_reset.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/qos/balancer.h"
#include "dataplane/qos/report.h"
#include "dataplane/runtime/control_server.h"
#include "dataplane/runtime/policy_loader.h"
#include "dataplane/runtime/quarantine.h"

namespace cg::runtime {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }
// Added to packet time for timetable evaluation only (clock.offset, when the config allows it).
std::atomic<int64_t> g_policy_clock_offset_ns{0};

constexpr int kPorts = 2;
constexpr const char* kPortNames[kPorts] = {"inside", "outside"};
// Entries of the flow table a worker inspects per loop iteration while answering a query.
constexpr uint32_t kQuerySlice = 4096;

// Symmetric Toeplitz key (0x6d5a repeated): both directions of a flow hash alike.
uint8_t g_sym_rss_key[40] = {
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a,
    0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a, 0x6d, 0x5a};

// A flow query handed to a worker: answered in slices between bursts so forwarding never
// waits. The control thread owns the object; the worker fills `out` within its reserved size.
struct FlowQuery {
  bool by_addr = false;
  std::array<uint8_t, 16> addr{};
  uint32_t limit = 20;
  uint32_t cursor = 1;
  uint64_t live = 0;
  std::vector<exporter::FlowRecord> out;
  std::atomic<bool> done{false};
};

struct alignas(64) WorkerStats {
  uint64_t rx_packets[kPorts] = {};
  uint64_t rx_bytes[kPorts] = {};
  uint64_t tx_packets[kPorts] = {};
  uint64_t tx_bytes[kPorts] = {};
  uint64_t drop_tx_full[kPorts] = {};
  uint64_t drop_verdict = 0;
  uint64_t tcp_resets_sent = 0;        // RST frames transmitted (two per reset verdict)
  uint64_t tcp_resets_suppressed = 0;  // reset verdicts over the per-second budget: drop only
  uint64_t tcp_resets_failed = 0;      // no mbuf or TX ring full
  uint64_t busy_loops = 0;
  uint64_t idle_loops = 0;
};

struct Worker {
  uint16_t id = 0;
  uint16_t queue = 0;
  unsigned lcore = 0;
  uint16_t burst = 32;
  uint16_t ports[kPorts] = {};
  std::unique_ptr<pipeline::Pipeline> pipe;
  std::unique_ptr<exporter::FlowAudit> audit;  // IPFIX flow records (null: export off)
  std::unique_ptr<exporter::EvidenceStore> evidence;  // first packets (null: off)
  WorkerStats st;
  alignas(64) std::atomic<FlowQuery*> query{nullptr};
  // Policy binding published by the control thread (PolicyLoader); `installed` is the one the
  // pipeline uses. RCU: the worker reports a quiescent state once per loop iteration.
  std::atomic<WorkerPolicy*> policy{nullptr};
  WorkerPolicy* installed = nullptr;
  // Quarantine set published by QuarantineLoader (same RCU domain); null = empty.
  std::atomic<const detect::Blocklist*> quarantine{nullptr};
  const detect::Blocklist* quarantine_installed = nullptr;
  int64_t clock_offset_ns = 0;
  rte_rcu_qsbr* qs = nullptr;
  rte_mempool* pool = nullptr;  // for TCP resets
  uint32_t reset_budget = 0;    // resets left this second (bounds what a flood can make us send)
  uint64_t reset_second = 0;
  uint64_t tsc0 = 0;
  uint64_t wall0_ns = 0;
  double ns_per_cycle = 0;
};

inline uint64_t rd(const uint64_t& v) { return __atomic_load_n(&v, __ATOMIC_RELAXED); }

bool by_bytes_desc(const exporter::FlowRecord& a, const exporter::FlowRecord& b) {
  return a.bytes[0] + a.bytes[1] > b.bytes[0] + b.bytes[1];
}

void serve_query(Worker& w, FlowQuery* q) {
  q->cursor = w.pipe->table().visit(q->cursor, kQuerySlice, [&](const flow::FlowEntry& e) {
    ++q->live;
    if (q->by_addr && !(e.key.lo_addr == q->addr || e.key.hi_addr == q->addr)) return;
    auto r = exporter::FlowRecord::from(e, w.pipe->classifier());
    r.worker = static_cast<int16_t>(w.id);
    if (q->out.size() < q->limit) {
      q->out.push_back(r);  // capacity reserved by the control thread: no allocation here
      std::push_heap(q->out.begin(), q->out.end(), by_bytes_desc);
    } else if (!q->by_addr && by_bytes_desc(r, q->out.front())) {
      std::pop_heap(q->out.begin(), q->out.end(), by_bytes_desc);
      q->out.back() = r;
      std::push_heap(q->out.begin(), q->out.end(), by_bytes_desc);
    }
  });
  if (q->cursor == 0) {
    w.query.store(nullptr, std::memory_order_relaxed);
    q->done.store(true, std::memory_order_release);
  }
}

constexpr uint32_t kResetsPerSecond = 2000;

// Answers a denied TCP segment with a RST to each end: back out of the port it came from to
// its sender, and on to its receiver. Rare path; bounded per second.
void send_resets(Worker& w, rte_mbuf* m, int in_port, uint64_t now_ns) {
  if (now_ns / 1'000'000'000 != w.reset_second) {
    w.reset_second = now_ns / 1'000'000'000;
    w.reset_budget = kResetsPerSecond;
  }
  if (w.reset_budget == 0) {
    ++w.st.tcp_resets_suppressed;
    return;
  }
  --w.reset_budget;
  const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
  const packet::ResetTo dirs[2] = {packet::ResetTo::kSender, packet::ResetTo::kReceiver};
  const int ports[2] = {in_port, 1 - in_port};
  for (int d = 0; d < 2; ++d) {
    rte_mbuf* r = rte_pktmbuf_alloc(w.pool);
    if (!r) {
      ++w.st.tcp_resets_failed;
      continue;
    }
    size_t len = packet::build_tcp_reset(frame, m->data_len, dirs[d],
                                         rte_pktmbuf_mtod(r, uint8_t*), rte_pktmbuf_tailroom(r));
    if (len == 0) {
      rte_pktmbuf_free(r);
      continue;
    }
    r->data_len = r->pkt_len = static_cast<uint32_t>(len);
    if (rte_eth_tx_burst(w.ports[ports[d]], w.queue, &r, 1) == 1) {
      ++w.st.tcp_resets_sent;
      ++w.st.tx_packets[ports[d]];
      w.st.tx_bytes[ports[d]] += len;
    } else {
      rte_pktmbuf_free(r);
      ++w.st.tcp_resets_failed;
    }
  }
}

// A flow leaves the table (expiry, eviction, reuse, shutdown flush): its IPFIX record goes
// into the worker's own ring (dataplane/export/flow_export.h).
void audit_flow_end(void* ctx, flow::FlowEntry& e, flow::EndReason why) {
  Worker& w = *static_cast<Worker*>(ctx);
  w.audit->on_flow_end(e, why, w.pipe->classifier(), &w.pipe->enforcer());
}

uint64_t wall_now_ns() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

int worker_main(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  rte_mbuf* pkts[pipeline::Pipeline::kMaxBurst];
  rte_mbuf* out[pipeline::Pipeline::kMaxBurst];
  pipeline::PacketRef refs[pipeline::Pipeline::kMaxBurst];
  pipeline::Verdict verdicts[pipeline::Pipeline::kMaxBurst];
  rte_rcu_qsbr_thread_online(w.qs, w.id);
  while (!g_stop.load(std::memory_order_relaxed)) {
    // Burst boundary: pick up a new policy generation (a pointer swap, no allocation).
    if (WorkerPolicy* b = w.policy.load(std::memory_order_acquire); b != w.installed) {
      w.pipe->install_policy(b ? b->binding.get() : nullptr);
      w.pipe->install_qos(b ? b->qos.get() : nullptr);
      // Blocklist hot reload: a reference count, no allocation (the loader keeps the old list
      // alive past this point, so the last reference is never dropped here).
      if (b && b->blocklist.get() != w.pipe->detector().blocklist())
        w.pipe->set_blocklist(b->blocklist);
      w.installed = b;
    }
    if (const detect::Blocklist* q = w.quarantine.load(std::memory_order_acquire);
        q != w.quarantine_installed) {
      w.pipe->install_quarantine(q);
      w.quarantine_installed = q;
    }
    if (int64_t off = g_policy_clock_offset_ns.load(std::memory_order_relaxed);
        off != w.clock_offset_ns) {
      w.pipe->set_policy_clock_offset_ns(off);
      w.clock_offset_ns = off;
    }
    uint64_t now_ns =
        w.wall0_ns + static_cast<uint64_t>(static_cast<double>(rte_rdtsc() - w.tsc0) *
                                           w.ns_per_cycle);
    bool busy = false;
    for (int p = 0; p < kPorts; ++p) {
      uint16_t n = rte_eth_rx_burst(w.ports[p], w.queue, pkts, w.burst);
      if (n == 0) continue;
      busy = true;
      uint64_t rx_bytes = 0;
      for (uint16_t i = 0; i < n; ++i) {
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
      }
      for (uint16_t i = 0; i < n; ++i) {
        refs[i] = pipeline::PacketRef{rte_pktmbuf_mtod(pkts[i], const uint8_t*),
                                      pkts[i]->data_len, pkts[i]->pkt_len, now_ns,
                                      static_cast<uint8_t>(p)};
        rx_bytes += pkts[i]->pkt_len;
      }
      w.pipe->process(refs, n, verdicts);
      uint16_t k = 0;
      uint64_t tx_bytes = 0;
      for (uint16_t i = 0; i < n; ++i) {
        if (verdicts[i] == pipeline::Verdict::kForward) {
          out[k++] = pkts[i];
          tx_bytes += pkts[i]->pkt_len;
        } else {
          if (verdicts[i] == pipeline::Verdict::kReset) send_resets(w, pkts[i], p, now_ns);
          rte_pktmbuf_free(pkts[i]);
        }
      }
      int o = 1 - p;
      uint16_t sent = k ? rte_eth_tx_burst(w.ports[o], w.queue, out, k) : 0;
      for (uint16_t i = sent; i < k; ++i) {
        tx_bytes -= out[i]->pkt_len;
        rte_pktmbuf_free(out[i]);
      }
      w.st.rx_packets[p] += n;
      w.st.rx_bytes[p] += rx_bytes;
      w.st.tx_packets[o] += sent;
      w.st.tx_bytes[o] += tx_bytes;
      w.st.drop_tx_full[o] += k - sent;
      w.st.drop_verdict += n - k;
    }
    w.pipe->tick(now_ns);
    if (w.audit)
      w.audit->tick(w.pipe->table(), now_ns, w.pipe->classifier(), &w.pipe->enforcer());
    if (FlowQuery* q = w.query.load(std::memory_order_acquire)) serve_query(w, q);
    if (busy) {
      ++w.st.busy_loops;
    } else {
      ++w.st.idle_loops;
      rte_pause();
    }
    rte_rcu_qsbr_quiescent(w.qs, w.id);  // no reference to an older policy binding is held
  }
  rte_rcu_qsbr_thread_offline(w.qs, w.id);
  return 0;
}

struct Port {
  uint16_t id = 0;
  std::string name;
  std::string device;
  bool rss = false;
};

bool setup_port(Port& port, const DataplaneConfig& cfg, rte_mempool* pool, std::string* err) {
  std::string name = port.device.substr(0, port.device.find(','));
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port.id) != 0) {
    *err = "ports." + port.name + ": device '" + name + "' was not found by DPDK";
    return false;
  }
  rte_eth_dev_info info;
  if (rte_eth_dev_info_get(port.id, &info) != 0) {
    *err = "ports." + port.name + ": cannot read device info";
    return false;
  }
  if (info.max_rx_queues < cfg.workers || info.max_tx_queues < cfg.workers) {
    *err = "ports." + port.name + ": device has " + std::to_string(info.max_rx_queues) +
           " RX queues but workers is " + std::to_string(cfg.workers) +
           " (for net_af_packet add qpairs=N to the device string)";
    return false;
  }
  rte_eth_conf conf{};
  if (cfg.workers > 1 && info.flow_type_rss_offloads != 0) {
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_key = g_sym_rss_key;
    conf.rx_adv_conf.rss_conf.rss_key_len = sizeof(g_sym_rss_key);
    conf.rx_adv_conf.rss_conf.rss_hf =
        (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & info.flow_type_rss_offloads;
    port.rss = true;
  } else if (cfg.workers > 1) {
    std::fprintf(stderr,
                 "cg-dataplane: warning: ports.%s has no RSS; with %u workers the device's own "
                 "queue choice decides which worker sees a packet (net_af_packet: the kernel's "
                 "symmetric fanout hash, with rollover to another queue under overload)\n",
                 port.name.c_str(), cfg.workers);
  }
  int rc = rte_eth_dev_configure(port.id, static_cast<uint16_t>(cfg.workers),
                                 static_cast<uint16_t>(cfg.workers), &conf);
  if (rc != 0) {
    *err = "ports." + port.name + ": configure failed: " + rte_strerror(-rc);
    return false;
  }
  uint16_t nrx = static_cast<uint16_t>(cfg.rx_ring), ntx = static_cast<uint16_t>(cfg.tx_ring);
  rte_eth_dev_adjust_nb_rx_tx_desc(port.id, &nrx, &ntx);
  int socket = rte_eth_dev_socket_id(port.id);
  for (uint16_t q = 0; q < cfg.workers; ++q) {
    if ((rc = rte_eth_rx_queue_setup(port.id, q, nrx, socket, nullptr, pool)) != 0 ||
        (rc = rte_eth_tx_queue_setup(port.id, q, ntx, socket, nullptr)) != 0) {
      *err = "ports." + port.name + ": queue setup failed: " + rte_strerror(-rc);
      return false;
    }
  }
  if ((rc = rte_eth_dev_start(port.id)) != 0) {
    *err = "ports." + port.name + ": start failed: " + rte_strerror(-rc);
    return false;
  }
  rte_eth_promiscuous_enable(port.id);  // a bridge sees every frame; some PMDs cannot, fine
  return true;
}

class Dataplane {
 public:
  Dataplane(const DataplaneConfig& cfg, const RunOptions& opts) : cfg_(cfg), opts_(opts) {}

  nlohmann::json handle(const nlohmann::json& req) {
    std::string cmd = req["cmd"];
    if (cmd == "stats") return stats();
    if (cmd == "health") return health();
    if (cmd == "flows") return flows(req, false);
    if (cmd == "flow") return flows(req, true);
    if (cmd == "policy.prepare") {
      if (!req.contains("source") || !req["source"].is_string())
        return {{"ok", false}, {"error", "policy.prepare: 'source' (policy YAML text) missing"}};
      uint64_t revision = 0;
      if (req.contains("revision")) {
        if (!req["revision"].is_number_unsigned())
          return {{"ok", false},
                  {"error", "policy.prepare: 'revision' must be a non-negative integer"}};
        revision = req["revision"].get<uint64_t>();
      }
      return loader_->prepare(req["source"].get<std::string>(), req.value("origin", "policy"),
                              revision);
    }
    if (cmd == "policy.apply") {
      if (!req.contains("generation") || !req["generation"].is_number_unsigned())
        return {{"ok", false}, {"error", "policy.apply: 'generation' (number) missing"}};
      std::lock_guard qos_lock(qos_mu_);  // the QoS balancer never reads a plan apply frees
      return loader_->apply(req["generation"].get<uint64_t>());
    }
    if (cmd == "policy.status") return loader_->status();
    if (cmd == "quarantine.set") return quarantine_->set(req);
    if (cmd == "quarantine.status") return quarantine_->status();
    if (cmd == "qos") {
      // Per worker (each polices its own share of the flows): classes, classrooms, uplink.
      uint64_t now = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                               std::chrono::system_clock::now().time_since_epoch())
                                               .count());
      nlohmann::json ws = nlohmann::json::array();
      for (auto& w : workers_)
        ws.push_back({{"id", w->id}, {"qos", qos::report_json(w->pipe->shaper(), now)}});
      std::lock_guard qos_lock(qos_mu_);
      const qos::Balancer& b = qos_balancer_.balancer();
      return {{"ok", true},
              {"generation", loader_->generation_of_active()},
              {"workers", ws},
              {"balancer",
               {{"qos_balance_rounds", b.rounds()},
                {"qos_balance_nodes", b.nodes_rebalanced()},
                {"qos_balance_resets", b.resets()},
                {"qos_balance_hosts", b.hosts_rebalanced()},
                {"qos_balance_active_hosts", b.active_hosts()}}}};
    }
    if (cmd == "clock.offset") {
      if (!cfg_.allow_clock_offset)
        return {{"ok", false},
                {"error", "clock.offset is disabled (control.allow_clock_offset: false)"}};
      if (!req.contains("seconds") || !req["seconds"].is_number_integer())
        return {{"ok", false}, {"error", "clock.offset: 'seconds' (integer) missing"}};
      g_policy_clock_offset_ns.store(req["seconds"].get<int64_t>() * 1'000'000'000);
      return {{"ok", true}, {"seconds", req["seconds"]}};
    }
    if (cmd == "shutdown") {
      g_stop.store(true);
      return {{"ok", true}, {"state", "stopping"}};
    }
    return {{"ok", false},
            {"error", "unknown cmd '" + cmd + "' (stats, health, flows, flow, policy.prepare, "
                      "policy.apply, policy.status, quarantine.set, quarantine.status, qos, "
                      "clock.offset, shutdown)"}};
  }

  nlohmann::json stats() {
    nlohmann::json j = {{"ok", true}};
    nlohmann::json ports = nlohmann::json::object();
    for (int p = 0; p < kPorts; ++p) {
      nlohmann::json pj;
      uint64_t rx = 0, rxb = 0, tx = 0, txb = 0, txd = 0;
      for (auto& w : workers_) {
        rx += rd(w->st.rx_packets[p]);
        rxb += rd(w->st.rx_bytes[p]);
        tx += rd(w->st.tx_packets[p]);
        txb += rd(w->st.tx_bytes[p]);
        txd += rd(w->st.drop_tx_full[p]);
      }
      pj["device"] = ports_[p].device;
      pj["rx_packets"] = rx;
      pj["rx_bytes"] = rxb;
      pj["tx_packets"] = tx;
      pj["tx_bytes"] = txb;
      pj["drop_tx_full"] = txd;
      rte_eth_stats es;
      if (rte_eth_stats_get(ports_[p].id, &es) == 0) {
        pj["nic_rx_missed"] = es.imissed;
        pj["nic_rx_errors"] = es.ierrors;
        pj["nic_rx_nombuf"] = es.rx_nombuf;
        pj["nic_tx_errors"] = es.oerrors;
      }
      rte_eth_link link;
      if (rte_eth_link_get_nowait(ports_[p].id, &link) == 0) {
        pj["link_up"] = link.link_status == RTE_ETH_LINK_UP;
        pj["speed_mbps"] = link.link_speed;
      }
      ports[kPortNames[p]] = pj;
    }
    j["ports"] = ports;
    nlohmann::json workers = nlohmann::json::array();
    nlohmann::json total = nlohmann::json::object();
    auto add = [&](nlohmann::json& c, const std::string& k, uint64_t v) {
      c[k] = v;
      total[k] = total.value(k, uint64_t{0}) + v;
    };
    for (auto& w : workers_) {
      nlohmann::json c = nlohmann::json::object();
      const auto& pc = w->pipe->counters();
      for (size_t i = 0; i < pipeline::kCounterCount; ++i)
        add(c, std::string(pipeline::counter_name(static_cast<pipeline::Counter>(i))), rd(pc[i]));
      const auto& dc = w->pipe->decode_counters().v;
      for (size_t i = 0; i < packet::kCounterCount; ++i)
        add(c, "decode_" + std::string(packet::counter_name(static_cast<packet::Counter>(i))),
            rd(dc[i]));
      const auto& tc = w->pipe->table().counters();
      for (size_t i = 0; i < flow::kTableCounterCount; ++i)
        add(c, std::string(flow::table_counter_name(static_cast<flow::TableCounter>(i))),
            rd(tc[i]));
      if (const auto* cl = w->pipe->classifier())
        for (size_t i = 0; i < classify::kCounterCount; ++i)
          add(c, std::string(classify::counter_name(static_cast<classify::Counter>(i))),
              rd(cl->counters()[i]));
      for (size_t i = 0; i < enforce::kCounterCount; ++i)
        add(c, std::string(enforce::counter_name(static_cast<enforce::Counter>(i))),
            rd(w->pipe->enforcer().counters()[i]));
      for (size_t i = 0; i < qos::kCounterCount; ++i)
        add(c, std::string(qos::counter_name(static_cast<qos::Counter>(i))),
            rd(w->pipe->shaper().counters()[i]));
      for (size_t i = 0; i < detect::kCounterCount; ++i)
        add(c, std::string(detect::counter_name(static_cast<detect::Counter>(i))),
            rd(w->pipe->detector().counters()[i]));
      if (w->audit)
        for (size_t i = 0; i < exporter::kFlowAuditCounterCount; ++i)
          add(c, exporter::flow_audit_counter_name(static_cast<exporter::FlowAuditCounter>(i)),
              rd(w->audit->counters()[i]));
      if (w->evidence)
        for (size_t i = 0; i < exporter::kEvidenceCounterCount; ++i)
          add(c, exporter::evidence_counter_name(static_cast<exporter::EvidenceCounter>(i)),
              rd(w->evidence->counters()[i]));
      add(c, "drop_tx_full", rd(w->st.drop_tx_full[0]) + rd(w->st.drop_tx_full[1]));
      add(c, "tcp_resets_sent", rd(w->st.tcp_resets_sent));
      add(c, "tcp_resets_suppressed", rd(w->st.tcp_resets_suppressed));
      add(c, "tcp_resets_failed", rd(w->st.tcp_resets_failed));
      add(c, "busy_loops", rd(w->st.busy_loops));
      add(c, "idle_loops", rd(w->st.idle_loops));
      uint32_t active = __atomic_load_n(&w->pipe->table().size_ref(), __ATOMIC_RELAXED);
      add(c, "flows_active", active);
      workers.push_back({{"id", w->id}, {"lcore", w->lcore}, {"counters", c}});
    }
    // Control-thread counters: the event stream and the IPFIX exporter.
    if (hub_)
      for (size_t i = 0; i < static_cast<size_t>(exporter::HubCounter::kCount); ++i)
        total[exporter::hub_counter_name(static_cast<exporter::HubCounter>(i))] =
            hub_->counter(static_cast<exporter::HubCounter>(i));
    if (hub_) {  // the event stream's position and its resume backlog (gauges)
      total["events_stream_seq"] = hub_->stream_seq();
      total["events_backlog_lines"] = hub_->backlog() ? hub_->backlog()->lines() : 0;
      total["events_backlog_bytes"] = hub_->backlog() ? hub_->backlog()->bytes() : 0;
    }
    if (drain_)
      for (size_t i = 0; i < static_cast<size_t>(exporter::IpfixCounter::kCount); ++i)
        total[exporter::ipfix_counter_name(static_cast<exporter::IpfixCounter>(i))] =
            drain_->exporter().counter(static_cast<exporter::IpfixCounter>(i));
    if (evidence_) {
      for (size_t i = 0; i < static_cast<size_t>(exporter::EvidenceWriterCounter::kCount); ++i)
        total[exporter::evidence_writer_counter_name(
            static_cast<exporter::EvidenceWriterCounter>(i))] =
            evidence_->counter(static_cast<exporter::EvidenceWriterCounter>(i));
      total["evidence_files_on_disk"] = evidence_->files_on_disk();
      total["evidence_bytes_on_disk"] = evidence_->bytes_on_disk();
    }
    j["workers"] = workers;
    j["counters"] = total;
    std::vector<const classify::Classifier*> classifiers;
    for (auto& w : workers_) classifiers.push_back(w->pipe->classifier());
    nlohmann::json apps = nlohmann::json::array();  // per application, most bytes first
    for (const auto& a : classify::sum_app_totals(classifiers))
      apps.push_back({{"app", a.app}, {"packets", a.totals.packets}, {"bytes", a.totals.bytes},
                      {"flows", a.totals.flows}});
    j["apps"] = std::move(apps);
    j["policy"] = {{"generation", loader_->generation_of_active()},
                   {"rules", loader_->rule_counters()}};
    j["quarantine"] = {{"entries", quarantine_->entries()}};
    j["uptime_s"] = uptime();
    return j;
  }

  nlohmann::json health() {
    nlohmann::json ports = nlohmann::json::object();
    bool all_up = true;
    for (int p = 0; p < kPorts; ++p) {
      rte_eth_link link{};
      rte_eth_link_get_nowait(ports_[p].id, &link);
      bool up = link.link_status == RTE_ETH_LINK_UP;
      all_up = all_up && up;
      ports[kPortNames[p]] = {{"link_up", up}, {"rss", ports_[p].rss}};
    }
    return {{"ok", true},
            {"state", g_stop.load() ? "stopping" : "running"},
            {"links_up", all_up},
            {"workers", workers_.size()},
            {"uptime_s", uptime()},
            {"ports", ports}};
  }

  nlohmann::json flows(const nlohmann::json& req, bool by_addr) {
    uint32_t limit = req.value("limit", by_addr ? 1000u : 20u);
    if (limit == 0 || limit > 100000) return {{"ok", false}, {"error", "limit: 1..100000"}};
    std::array<uint8_t, 16> addr{};
    if (by_addr) {
      std::string a = req.value("addr", "");
      in_addr v4;
      in6_addr v6;
      if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
        addr[10] = addr[11] = 0xff;
        std::memcpy(&addr[12], &v4, 4);
      } else if (inet_pton(AF_INET6, a.c_str(), &v6) == 1) {
        std::memcpy(addr.data(), &v6, 16);
      } else {
        return {{"ok", false}, {"error", "addr: not an IPv4 or IPv6 address: '" + a + "'"}};
      }
    }
    std::vector<std::unique_ptr<FlowQuery>> qs;
    for (auto& w : workers_) {
      auto q = std::make_unique<FlowQuery>();
      q->by_addr = by_addr;
      q->addr = addr;
      q->limit = limit;
      q->out.reserve(limit);
      w->query.store(q.get(), std::memory_order_release);
      qs.push_back(std::move(q));
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<exporter::FlowRecord> all;
    uint64_t live = 0;
    for (auto& q : qs) {
      while (!q->done.load(std::memory_order_acquire)) {
        if (std::chrono::steady_clock::now() > deadline) {
          // A worker that does not answer keeps the query object: leak it rather than free
          // memory it may still write. Never expected; reported as an error.
          for (auto& x : qs) (void)x.release();
          return {{"ok", false}, {"error", "workers did not answer within 10 s"}};
        }
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      live += q->live;
      all.insert(all.end(), q->out.begin(), q->out.end());
    }
    std::sort(all.begin(), all.end(), by_bytes_desc);
    if (all.size() > limit) all.resize(limit);
    nlohmann::json arr = nlohmann::json::array();
    // Names come from worker 0's nDPI module: protocol tables are identical and read-only.
    const classify::Classifier* names = workers_.empty() ? nullptr : workers_[0]->pipe->classifier();
    for (const auto& r : all) arr.push_back(exporter::to_json(r, names));
    return {{"ok", true}, {"flows_active", live}, {"flows", arr}};
  }

  int run(const std::string& prog) {
    std::vector<std::string> args = cfg_.eal_args(prog);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    std::fprintf(stderr, "cg-dataplane: EAL");
    for (auto& a : args) std::fprintf(stderr, " %s", a.c_str());
    std::fprintf(stderr, "\n");
    if (rte_eal_init(static_cast<int>(argv.size()), argv.data()) < 0) {
      std::fprintf(stderr, "cg-dataplane: EAL init failed: %s\n", rte_strerror(rte_errno));
      return 1;
    }
    int rc = run_after_eal();
    loader_.reset();  // frees rte_acl contexts: before rte_eal_cleanup (workers have stopped)
    quarantine_.reset();
    rte_eal_cleanup();
    return rc;
  }

 private:
  double uptime() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  int run_after_eal() {
    if (rte_lcore_count() < cfg_.workers + 1) {
      std::fprintf(stderr, "cg-dataplane: need %u lcores (1 control + %u workers), have %u\n",
                   cfg_.workers + 1, cfg_.workers, rte_lcore_count());
      return 1;
    }
    uint32_t mbufs = std::max<uint32_t>(
        cfg_.mbufs, 2 * cfg_.workers * (cfg_.rx_ring + cfg_.tx_ring) + 2 * cfg_.mbuf_cache);
    rte_mempool* pool = rte_pktmbuf_pool_create("cg_mbufs", mbufs, cfg_.mbuf_cache, 0,
                                                RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
    if (!pool) {
      std::fprintf(stderr, "cg-dataplane: cannot create mempool of %u mbufs: %s\n", mbufs,
                   rte_strerror(rte_errno));
      return 1;
    }
    ports_[0].name = "inside";
    ports_[0].device = cfg_.inside;
    ports_[1].name = "outside";
    ports_[1].device = cfg_.outside;
    for (auto& p : ports_) {
      std::string err;
      if (!setup_port(p, cfg_, pool, &err)) {
        std::fprintf(stderr, "cg-dataplane: %s\n", err.c_str());
        return 1;
      }
    }
    ControlServer server([this](const nlohmann::json& r) { return handle(r); });
    std::string err;
    if (!server.listen(cfg_.socket, &err)) {
      std::fprintf(stderr, "cg-dataplane: %s\n", err.c_str());
      return 1;
    }
    uint64_t tsc0 = rte_rdtsc();
    uint64_t wall0 = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::system_clock::now().time_since_epoch())
            .count());
    double ns_per_cycle = 1e9 / static_cast<double>(rte_get_tsc_hz());
    unsigned lcore;
    uint16_t wid = 0;
    RTE_LCORE_FOREACH_WORKER(lcore) {
      if (wid == cfg_.workers) break;
      auto w = std::make_unique<Worker>();
      w->id = wid;
      w->queue = wid;
      w->lcore = lcore;
      w->burst = static_cast<uint16_t>(cfg_.burst);
      w->pool = pool;
      w->ports[0] = ports_[0].id;
      w->ports[1] = ports_[1].id;
      pipeline::PipelineConfig pcfg = cfg_.pipeline;
      pcfg.table.prefault = true;
      try {
        w->pipe = std::make_unique<pipeline::Pipeline>(pcfg);
      } catch (const std::exception& ex) {
        std::fprintf(stderr, "cg-dataplane: %s\n", ex.what());
        return 1;
      }
      w->tsc0 = tsc0;
      w->wall0_ns = wall0;
      w->ns_per_cycle = ns_per_cycle;
      workers_.push_back(std::move(w));
      ++wid;
    }
    // ---- detection events (dataplane/export/event_hub.h): worker rings -> events.subscribe
    // streams and eve.json; blocklists from detect.blocklist.files, shared read-only.
    const detect::DetectConfig& dc = cfg_.pipeline.detect;
    exporter::EventHub::Config hub_cfg;
    hub_cfg.subscriber_buffer = dc.subscriber_buffer;
    hub_cfg.eve_path = dc.eve_file;
    hub_cfg.eve_max_bytes = dc.eve_max_bytes;
    hub_cfg.eve_keep = dc.eve_keep;
    hub_cfg.backlog_bytes = dc.backlog_bytes;
    exporter::EventContext ectx;
    ectx.run_id = static_cast<uint32_t>(wall0 ^ (wall0 >> 32) ^ static_cast<uint64_t>(getpid()));
    exporter::EventHub hub(hub_cfg, ectx);
    if (!hub.open(&err)) {
      std::fprintf(stderr, "cg-dataplane: detect.events.eve_file: %s\n", err.c_str());
      return 1;
    }
    // Read again at every policy.prepare and swapped with the generation (PolicyLoader).
    std::shared_ptr<const detect::Blocklist> blocklist;
    if (!load_blocklists(dc.blocklist_files, &blocklist, &err)) {
      std::fprintf(stderr, "cg-dataplane: detect.blocklist.files: %s\n", err.c_str());
      return 1;
    }
    for (auto& w : workers_) {
      w->pipe->detector().set_worker(w->id);
      if (blocklist) w->pipe->set_blocklist(blocklist);
      hub.add_ring(&w->pipe->detector().events(), w->id);
    }
    hub_ = &hub;
    // ---- IPFIX flow audit log (dataplane/export/flow_export.h): worker rings -> exporter
    if (!cfg_.flow_export.collector.empty()) {
      exporter::IpfixConfig icfg;
      icfg.collector = cfg_.flow_export.collector;
      icfg.tcp = cfg_.flow_export.tcp;
      icfg.enterprise = cfg_.flow_export.enterprise;
      icfg.observation_domain = cfg_.flow_export.observation_domain;
      icfg.retry_unreachable = true;  // a TCP collector may come up later
      err.clear();
      auto x = exporter::IpfixExporter::create(icfg, &err);
      if (!x) {
        std::fprintf(stderr, "cg-dataplane: export.ipfix.collector: %s\n", err.c_str());
        return 1;
      }
      if (!err.empty()) std::fprintf(stderr, "cg-dataplane: warning: %s\n", err.c_str());
      drain_ = std::make_unique<exporter::FlowAuditDrain>(std::move(x));
      for (auto& w : workers_) {
        w->audit = std::make_unique<exporter::FlowAudit>(cfg_.flow_export);
        w->pipe->set_end_callback(&audit_flow_end, w.get());
        drain_->add(w->audit.get());
      }
    }
    // ---- evidence pcaps (dataplane/export/evidence.h): first packets of alerted flows
    if (!cfg_.evidence.dir.empty()) {
      evidence_ = std::make_unique<exporter::EvidenceWriter>(cfg_.evidence, ectx.run_id);
      if (!evidence_->open(&err)) {
        std::fprintf(stderr, "cg-dataplane: export.evidence.dir: %s\n", err.c_str());
        return 1;
      }
      for (auto& w : workers_) {
        w->evidence = std::make_unique<exporter::EvidenceStore>(cfg_.evidence);
        w->pipe->detector().set_evidence(w->evidence.get());
        evidence_->add(w->evidence.get(), w->id);
      }
      hub.set_annotator([this](const exporter::Event& ev, nlohmann::json& j) {
        std::string file;
        uint32_t packets = 0;
        if (evidence_->take(ev.worker, ev.seq, &file, &packets))
          j["evidence"] = {{"file", file}, {"packets", packets}};
      });
    }
    // {"after":{"run","seq"}}: replay from the hub's backlog first (stream resume).
    server.set_stream("events.subscribe", [&hub](const nlohmann::json& req, int fd) {
      exporter::SubscribeArgs args;
      std::string error;
      if (!exporter::parse_subscribe(req, &args, &error))
        return nlohmann::json{{"ok", false}, {"error", error}};
      return hub.subscribe(fd, args);
    });
    server.set_wake_on_write([&hub](std::vector<int>* fds) { hub.waiting_fds(fds); });
    server.set_tick([this, &hub, ectx]() mutable {
      const uint64_t now = wall_now_ns();
      // Events name the zone the active policy resolves (as --replay does with its image).
      if (auto im = active_image(); im != ectx.image) {
        ectx.image = std::move(im);
        hub.set_context(ectx);
      }
      if (evidence_) evidence_->poll();  // snapshots precede their events: files first
      hub.poll(now);
      if (drain_) drain_->poll(now, names(), ectx.image.get());
    });
    // ---- end detection events
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    if (!start_policy(blocklist)) return 2;
    for (auto& w : workers_) rte_eal_remote_launch(worker_main, w.get(), w->lcore);
    // QoS: one tree over all workers, and per-host fair shares (dataplane/qos/balancer.h); with
    // one worker and no per-host zone a round does nothing.
    qos_balancer_.start(&qos_mu_, [this](std::span<qos::Policer*> out) {
        size_t n = 0;
        for (auto& w : workers_) {
          WorkerPolicy* b = w->policy.load(std::memory_order_acquire);
          if (!b || !b->qos || !b->qos->policer || n == out.size()) return size_t{0};
          out[n++] = b->qos->policer.get();
        }
        return n;
      }, std::chrono::milliseconds(5));
    std::fprintf(stderr,
                 "cg-dataplane: bridging %s <-> %s with %zu worker(s); control socket %s\n",
                 cfg_.inside.c_str(), cfg_.outside.c_str(), workers_.size(),
                 cfg_.socket.c_str());
    server.serve(g_stop);
    qos_balancer_.stop();
    rte_eal_mp_wait_lcore();
    if (drain_) flush_flow_export();
    nlohmann::json final_stats = stats();
    for (auto& p : ports_) {
      rte_eth_dev_stop(p.id);
      rte_eth_dev_close(p.id);
    }
    std::printf("%s\n", final_stats.dump().c_str());
    return 0;
  }

  // The active policy image (control thread: the loader publishes and frees on this thread).
  std::shared_ptr<const api::PolicyImage> active_image() const {
    const WorkerPolicy* p =
        workers_.empty() ? nullptr : workers_[0]->policy.load(std::memory_order_acquire);
    return p && p->binding ? p->binding->image : nullptr;
  }
  // nDPI names for records from any worker (protocol tables are identical and read-only).
  const classify::Classifier* names() const {
    return workers_.empty() ? nullptr : workers_[0]->pipe->classifier();
  }

  // Shutdown, workers stopped: drain the rings, then end every flow still in the tables
  // (flowEndReason 4, forced end), each drained at once so no ring can overflow; last message.
  void flush_flow_export() {
    struct Ctx {
      Worker* w;
      exporter::FlowAuditDrain* drain;
      uint64_t now;
      const classify::Classifier* names;
      const api::PolicyImage* image;
    };
    const uint64_t now = wall_now_ns();
    const auto image = active_image();
    drain_->poll(now, names(), image.get());
    for (auto& w : workers_) {
      Ctx ctx{w.get(), drain_.get(), now, names(), image.get()};
      w->pipe->set_end_callback(
          [](void* p, flow::FlowEntry& e, flow::EndReason why) {
            auto& c = *static_cast<Ctx*>(p);
            audit_flow_end(c.w, e, why);
            c.drain->poll(c.now, c.names, c.image);
          },
          &ctx);
      w->pipe->table().flush(flow::EndReason::kShutdown);
      w->pipe->set_end_callback(nullptr, nullptr);
    }
    drain_->flush(now);
  }

  // RCU for policy bindings (one reader thread per worker) and the loader; with --policy the
  // first generation is prepared and applied before the workers start.
  bool start_policy(std::shared_ptr<const detect::Blocklist> blocklist) {
    size_t sz = rte_rcu_qsbr_get_memsize(static_cast<uint32_t>(workers_.size()));
    qs_mem_.reset(static_cast<uint8_t*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE,
                                                          (sz + 63) / 64 * 64)));
    auto* qs = reinterpret_cast<rte_rcu_qsbr*>(qs_mem_.get());
    rte_rcu_qsbr_init(qs, static_cast<uint32_t>(workers_.size()));
    std::vector<std::atomic<WorkerPolicy*>*> slots;
    std::vector<std::atomic<const detect::Blocklist*>*> qslots;
    for (auto& w : workers_) {
      rte_rcu_qsbr_thread_register(qs, w->id);
      w->qs = qs;
      slots.push_back(&w->policy);
      qslots.push_back(&w->quarantine);
    }
    loader_ = std::make_unique<PolicyLoader>(opts_.compile, std::move(slots), qs,
                                             std::chrono::milliseconds(5000), /*use_acl=*/true);
    loader_->set_blocklist_files(cfg_.pipeline.detect.blocklist_files, std::move(blocklist));
    quarantine_ = std::make_unique<QuarantineLoader>(std::move(qslots), qs,
                                                     std::chrono::milliseconds(5000));
    if (opts_.policy_source.empty()) return true;
    nlohmann::json r = loader_->prepare(opts_.policy_source, opts_.policy_origin);
    if (r.value("ok", false)) r = loader_->apply(r["generation"].get<uint64_t>());
    if (!r.value("ok", false)) {
      for (const auto& d : r.value("diagnostics", nlohmann::json::array()))
        std::fprintf(stderr, "%s\n", d.get<std::string>().c_str());
      std::fprintf(stderr, "cg-dataplane: %s\n", r.value("error", "").c_str());
      return false;
    }
    std::fprintf(stderr, "cg-dataplane: policy %s loaded as generation %lu\n",
                 opts_.policy_origin.c_str(), static_cast<unsigned long>(r["generation"]));
    return true;
  }

  struct FreeDeleter {
    void operator()(uint8_t* p) const { std::free(p); }
  };

  DataplaneConfig cfg_;
  RunOptions opts_;
  // Declared before workers_: destroyed after them (the bindings outlive every reader).
  std::unique_ptr<uint8_t, FreeDeleter> qs_mem_;
  std::unique_ptr<PolicyLoader> loader_;
  std::mutex qos_mu_;  // qos_balancer_'s rounds vs policy.apply freeing the plans it reads
  qos::BalancerThread qos_balancer_;  // shares of the QoS tree (workers, hosts) by demand
  std::unique_ptr<QuarantineLoader> quarantine_;
  exporter::EventHub* hub_ = nullptr;  // run_after_eal()'s event hub while it runs
  std::unique_ptr<exporter::FlowAuditDrain> drain_;  // IPFIX flow export (null: off)
  std::unique_ptr<exporter::EvidenceWriter> evidence_;  // evidence pcaps (null: off)
  Port ports_[kPorts];
  std::vector<std::unique_ptr<Worker>> workers_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

}  // namespace

int run_dataplane(const DataplaneConfig& cfg, const std::string& prog, const RunOptions& opts) {
  Dataplane dp(cfg, opts);
  return dp.run(prog);
}

}  // namespace cg::runtime

// Balancer: makes N workers' Policers (one per worker, same image) police as one tree. Each
// worker polices only its own flows, so without it a classroom spread over two workers would get
// twice its rate. The Balancer runs on a control thread every few ms: it reads every worker's
// per-class offered bytes (passed + dropped, relaxed reads of counters the worker keeps anyway),
// and gives each worker a share of every node's rate and guarantee — max-min fair by the
// average demand of the last ~80 ms, the rest split among the workers that want it, a small
// share (1/64) kept for idle workers so a new flow there is not starved until the next period —
// and of its bucket depth (its rate share, at least an even split).
// Shares of a node always sum to the whole, so the sum over workers never exceeds the rate.
// Workers only read their shares (relaxed word loads): no locks, no atomics RMW, no extra
// cache lines on the fast path. See README.md "Several workers".
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "dataplane/qos/policer.h"

namespace cg::qos {

// Max-min fair shares of one capacity (kShareOne = all of it) between `n` claimants by their
// demand (same unit as `capacity`, e.g. bytes of one period): a claimant that asked for less
// than a fair split of what is left gets what it asked for, the others split the rest; spare
// capacity is split evenly among the claimants with demand (room to grow next period);
// claimants without demand get `idle` each. Shares sum to kShareOne (minus rounding). `order` is
// scratch space of n entries. Used for workers (per node) and for hosts (per classroom).
void max_min_shares(const uint64_t* demand, size_t n, uint64_t capacity, uint32_t idle,
                    uint32_t* share, uint32_t* order);

class Balancer {
 public:
  static constexpr uint32_t kIdleShareDiv = 64;  // an idle worker keeps 1/64 of a node
  static constexpr uint64_t kEwmaRounds = 16;    // demand averaged over ~16 periods (80 ms)
  static constexpr uint64_t kEwmaScale = 16;     // fixed point of the average

  // Per host: a host that had a drop (at any level) in the last kHungryRounds periods (320 ms:
  // longer than TCP's minimum retransmission timeout, so a host sitting one out keeps its
  // share) wants more than it gets (its demand counts as the whole classroom); a host that did
  // not asks for its average offered bytes + 1/kHostMarginDiv (room to grow).
  static constexpr uint8_t kHungryRounds = 64;
  static constexpr uint64_t kHostMarginDiv = 2;

  // One balancing period: `workers` are the Policers of the current generation (all built from
  // the same image; a different set than last time resets the state and splits evenly),
  // `elapsed_ns` the time since the previous call (a fake clock in tests). With one worker only
  // the per-host shares are computed (nothing to do without per-host zones).
  void rebalance(std::span<Policer* const> workers, uint64_t elapsed_ns);

  uint64_t rounds() const { return rounds_; }
  uint64_t nodes_rebalanced() const { return nodes_rebalanced_; }
  uint64_t resets() const { return resets_; }
  uint64_t hosts_rebalanced() const { return hosts_rebalanced_; }  // host lines rewritten
  // Hosts with demand in the last round (the larger count of the two directions).
  uint64_t active_hosts() const { return active_hosts_; }

 private:
  void reset(std::span<Policer* const> workers);
  // Shares for one node from its per-worker demand (bytes of the period); false = no demand.
  void split(const uint64_t* demand, uint64_t capacity, uint32_t* share) const;
  void apply(std::span<Policer* const> workers, size_t node, const uint64_t* demand,
             uint64_t elapsed_ns);
  // Per host: fair shares inside each per-host classroom, then each host's split over workers.
  void balance_hosts(std::span<Policer* const> workers, uint64_t elapsed_ns);

  std::vector<Policer*> set_;
  size_t workers_ = 0;
  std::vector<uint64_t> last_;   // [worker][dir][room][class] cumulative offered bytes
  std::vector<uint64_t> ewma_;   // same index: average offered bytes per period x kEwmaScale
  std::vector<uint64_t> leaf_;   // [class][worker] demand of the period, scratch
  std::vector<uint64_t> room_;   // [worker]
  std::vector<uint64_t> up_;     // [worker]
  std::vector<uint32_t> share_;  // [worker], scratch
  uint64_t rounds_ = 0;
  uint64_t nodes_rebalanced_ = 0;
  uint64_t resets_ = 0;
  // Per host ([worker][slot][dir] like last_/ewma_; [slot][dir] for the rest).
  std::vector<uint64_t> host_last_, host_drops_last_, host_ewma_;
  std::vector<uint8_t> hungry_;    // periods left in which the host counts as wanting more
  std::vector<uint8_t> host_set_;  // the workers' ceilings of this slot are set
  std::vector<uint64_t> tracked_;  // slots with demand, a share or hunger (64 per word)
  // [worker][slot][dir]: the share and cap last written; a round rewrites a host's line only
  // when one moved by more than 1/kHostRewriteDiv (the writes are random cache lines).
  std::vector<uint64_t> host_share_set_, host_cap_set_;
  static constexpr uint64_t kHostRewriteDiv = 64;
  void set_host(Policer& p, size_t w, uint32_t slot, int d, uint64_t share, uint64_t depth_bps,
                uint64_t cap, uint64_t cap_depth_bps);
  struct Active {
    uint32_t room, slot;
  };
  std::vector<Active> active_[2];      // scratch, per direction: hosts with demand, by classroom
  std::vector<uint64_t> host_demand_;  // scratch, per active host of one classroom
  std::vector<uint32_t> host_share_, order_;
  // [worker][dir][room]: what the worker's hosts of a per-host classroom may send this period
  // (their demand, at most their ceilings): the worker's demand for that classroom's node.
  std::vector<uint64_t> host_room_demand_;
  uint64_t hosts_rebalanced_ = 0;
  uint64_t active_hosts_ = 0;
};

// Runs a Balancer every `period` on its own thread (cg-dataplane with workers > 1). Each round
// locks `mu` and asks `collect` for the current generation's Policers (one per worker, in worker
// order; returns how many, 0 = QoS off or not every worker has one). The owner holds `mu` while
// it frees Policers (policy.apply), so a round never reads a freed plan.
class BalancerThread {
 public:
  using Collect = std::function<size_t(std::span<Policer*> out)>;
  static constexpr size_t kMaxWorkers = 64;
  static constexpr int kMaxDuty = 20;  // a round every max(period, 20 x its duration): <= 5 %

  ~BalancerThread() { stop(); }
  void start(std::mutex* mu, Collect collect, std::chrono::microseconds period);
  void stop();
  // Copies of the counters; call with `mu` held.
  const Balancer& balancer() const { return balancer_; }

 private:
  void loop();

  std::mutex* mu_ = nullptr;
  Collect collect_;
  std::chrono::microseconds period_{5000};
  std::atomic<bool> stop_{false};
  std::thread thread_;
  Balancer balancer_;
};

}  // namespace cg::qos

#include "dataplane/qos/balancer.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <numeric>

namespace cg::qos {

void Balancer::reset(std::span<Policer* const> workers) {
  set_.assign(workers.begin(), workers.end());
  workers_ = workers.size();
  ++resets_;
  const Policer& p0 = *workers[0];
  const size_t leaves = 2 * size_t{p0.classrooms()} * p0.classes();
  last_.assign(workers_ * leaves, 0);
  ewma_.assign(workers_ * leaves, 0);
  size_t i = 0;
  for (Policer* p : workers)
    for (int d = 0; d < 2; ++d)
      for (uint32_t r = 0; r < p0.classrooms(); ++r)
        for (uint32_t c = 0; c < p0.classes(); ++c)
          last_[i++] = p->offered_bytes(static_cast<Dir>(d), r, c);
  leaf_.assign(size_t{p0.classes()} * workers_, 0);
  room_.assign(workers_, 0);
  up_.assign(workers_, 0);
  share_.assign(workers_, 0);
  // Per host: nothing measured yet, no share, the classroom's cap.
  const size_t hosts = p0.hosts_enabled() ? size_t{kHostSlots} * 2 : 0;
  host_last_.assign(workers_ * hosts, 0);
  host_drops_last_.assign(workers_ * hosts, 0);
  host_ewma_.assign(workers_ * hosts, 0);
  hungry_.assign(hosts, 0);
  host_room_demand_.assign(hosts ? workers_ * 2 * p0.classrooms() : 0, 0);
  host_set_.assign(hosts, 0);
  tracked_.assign(hosts ? Policer::kTouchedWords : 0, 0);
  for (Policer* p : workers)
    for (size_t k = 0; hosts && k < Policer::kTouchedWords; ++k) p->take_touched(k);
  host_share_set_.assign(workers_ * hosts, 0);
  host_cap_set_.assign(workers_ * hosts, 0);
  for (size_t w = 0; w < workers_ && hosts; ++w)
    for (uint32_t h = 0; h < kHostSlots; ++h)
      for (int d = 0; d < 2; ++d) {
        const HostStats& hs = workers[w]->host_stats(h);
        host_last_[(w * kHostSlots + h) * 2 + d] = ld(hs.offered[d]);
        host_drops_last_[(w * kHostSlots + h) * 2 + d] = ld(hs.drop_packets[d]);
      }
  // Until demand is measured: an even split.
  const auto even = static_cast<uint32_t>(Policer::kShareOne / workers_);
  for (Policer* p : workers)
    for (size_t n = 0; n < p->node_count(); ++n) p->set_share(n, even, even);
}

void max_min_shares(const uint64_t* demand, size_t n, uint64_t capacity, uint32_t idle,
                    uint32_t* share, uint32_t* order) {
  const uint32_t one = Policer::kShareOne;
  size_t active = 0;
  for (size_t i = 0; i < n; ++i) active += demand[i] != 0;
  // Claimants by demand, smallest first.
  std::iota(order, order + n, uint32_t{0});
  std::sort(order, order + n, [&](uint32_t a, uint32_t b) { return demand[a] < demand[b]; });
  const uint64_t idle_total = (n - active) * uint64_t{idle};
  uint64_t left = idle_total < one ? one - idle_total : 0;
  size_t k = active;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t w = order[i];
    if (demand[w] == 0) {
      share[w] = idle;
      continue;
    }
    // What it asked for, as a share of the capacity in the period; at most a fair split of
    // what is left (max-min fairness).
    const uint64_t want =
        capacity
            ? std::min<uint64_t>(static_cast<unsigned __int128>(demand[w]) * one / capacity, one)
            : one;
    const uint64_t give = std::min<uint64_t>(want, left / k);
    share[w] = static_cast<uint32_t>(give);
    left -= give;
    --k;
  }
  // Spare capacity goes to the claimants with demand, evenly: room to grow next period.
  for (size_t i = 0, a = active; i < n && a; ++i) {
    const uint32_t w = order[i];
    if (demand[w] == 0) continue;
    const uint64_t extra = left / a--;
    share[w] += static_cast<uint32_t>(extra);
    left -= extra;
  }
}

void Balancer::split(const uint64_t* demand, uint64_t capacity, uint32_t* share) const {
  uint32_t order[64];  // rebalance() checks workers_ <= 64
  max_min_shares(demand, workers_, capacity, Policer::kShareOne / kIdleShareDiv, share, order);
}

void Balancer::apply(std::span<Policer* const> workers, size_t node, const uint64_t* demand,
                     uint64_t elapsed_ns) {
  const Node& f = workers[0]->full(node);
  const uint64_t rate = f.ceil.rate ? f.ceil.rate : f.assured.rate;
  if (rate == 0) return;  // nothing to share (an uncapped class without guarantee)
  bool any = false;
  for (size_t w = 0; w < workers_; ++w) any = any || demand[w] != 0;
  if (!any) return;  // idle node: keep the shares it has
  // Demand is smoothed (x kEwmaScale): the capacity of one period in the same unit.
  const auto capacity = static_cast<uint64_t>(
      static_cast<unsigned __int128>(rate) * elapsed_ns * kEwmaScale >> kRateShift);
  split(demand, capacity, share_.data());
  // Depth: at least an even split, so a worker whose TCP flows sit out a retransmission
  // timeout (no demand for 200 ms) still has a bucket that holds their next window.
  const auto even = static_cast<uint32_t>(Policer::kShareOne / workers_);
  for (size_t w = 0; w < workers_; ++w)
    workers[w]->set_share(node, share_[w], std::max(share_[w], even));
  ++nodes_rebalanced_;
}

void Balancer::rebalance(std::span<Policer* const> workers, uint64_t elapsed_ns) {
  if (workers.empty() || workers.size() > 64) return;
  if (workers.size() == 1 && !workers[0]->hosts_enabled()) return;  // nothing to balance
  if (!std::equal(workers.begin(), workers.end(), set_.begin(), set_.end())) {
    reset(workers);
    return;
  }
  ++rounds_;
  if (workers[0]->hosts_enabled()) balance_hosts(workers, elapsed_ns);
  if (workers.size() == 1) return;
  const Policer& p0 = *workers[0];
  const uint32_t rooms = p0.classrooms(), classes = p0.classes();
  const size_t per_worker = 2 * size_t{rooms} * classes;
  for (int d = 0; d < 2; ++d) {
    const Dir dir = static_cast<Dir>(d);
    std::fill(up_.begin(), up_.end(), 0);
    for (uint32_t r = 0; r < rooms; ++r) {
      std::fill(room_.begin(), room_.end(), 0);
      for (size_t w = 0; w < workers_; ++w) {
        const size_t at = w * per_worker + (static_cast<size_t>(d) * rooms + r) * classes;
        uint64_t* last = &last_[at];
        uint64_t* ewma = &ewma_[at];
        for (uint32_t c = 0; c < classes; ++c) {
          const uint64_t now = workers[w]->offered_bytes(dir, r, c);
          const uint64_t delta = now - last[c];
          last[c] = now;
          // Exponentially weighted over ~kEwmaRounds periods: TCP's bursts and pauses are
          // shorter than that, its average demand is not.
          uint64_t& avg = ewma[c];
          avg = delta == 0 && avg < kEwmaRounds
                    ? 0  // decayed to nothing: idle again
                    : avg - avg / kEwmaRounds + delta * kEwmaScale / kEwmaRounds;
          leaf_[size_t{c} * workers_ + w] = avg;
          room_[w] += avg;
        }
        // A per-host classroom: the worker's demand is what its hosts' shares (or caps) let
        // through, which already split the classroom between hosts and workers.
        if (!host_room_demand_.empty() && p0.room_per_host(r))
          room_[w] = std::min(room_[w], host_room_demand_[(w * 2 + d) * rooms + r]);
        up_[w] += room_[w];
      }
      for (uint32_t c = 0; c < classes; ++c)
        apply(workers, p0.leaf_node(dir, r, c), &leaf_[size_t{c} * workers_], elapsed_ns);
      apply(workers, p0.room_node(dir, r), room_.data(), elapsed_ns);
    }
    apply(workers, p0.root(dir), up_.data(), elapsed_ns);
  }
}

void Balancer::set_host(Policer& p, size_t w, uint32_t slot, int d, uint64_t share,
                        uint64_t depth_bps, uint64_t cap, uint64_t cap_depth_bps) {
  const size_t i = (w * kHostSlots + slot) * 2 + static_cast<size_t>(d);
  auto moved = [](uint64_t was, uint64_t now) {
    const uint64_t diff = was > now ? was - now : now - was;
    return (was == 0) != (now == 0) || diff > was / kHostRewriteDiv;
  };
  if (!moved(host_share_set_[i], share) && !moved(host_cap_set_[i], cap)) return;
  host_share_set_[i] = share;
  host_cap_set_[i] = cap;
  p.set_host(slot, static_cast<Dir>(d), share, depth_bps, cap, cap_depth_bps);
  ++hosts_rebalanced_;
}

void Balancer::balance_hosts(std::span<Policer* const> workers, uint64_t elapsed_ns) {
  const Policer& p0 = *workers[0];
  const uint64_t even = Policer::kShareOne / workers_;
  uint64_t active_total = 0;
  const uint32_t rooms = p0.classrooms();
  std::fill(host_room_demand_.begin(), host_room_demand_.end(), 0);
  // 1. The demand this period (average offered bytes, summed over workers) of every slot that
  // saw a packet or is still tracked (demand, share or hunger left): the cost of a round
  // follows the active hosts, not the table's size.
  active_[0].clear();
  active_[1].clear();
  for (size_t word = 0; word < Policer::kTouchedWords; ++word) {
    uint64_t visit = tracked_[word];
    for (size_t w = 0; w < workers_; ++w) visit |= workers[w]->take_touched(word);
    uint64_t keep = 0;
    for (; visit; visit &= visit - 1) {
      const auto h = static_cast<uint32_t>(word * 64 + static_cast<size_t>(__builtin_ctzll(visit)));
      for (int d = 0; d < 2; ++d) {
        const size_t at = size_t{h} * 2 + d;
        uint64_t total = 0;
        uint32_t room = 0;
        bool dropped = false;
        for (size_t w = 0; w < workers_; ++w) {
          const HostStats& hs = workers[w]->host_stats(h);
          const size_t i = (w * kHostSlots + h) * 2 + d;
          const uint64_t now = ld(hs.offered[d]);
          const uint64_t drops = ld(hs.drop_packets[d]);
          const uint64_t delta = now - host_last_[i];
          host_last_[i] = now;
          dropped = dropped || drops != host_drops_last_[i];
          host_drops_last_[i] = drops;
          uint64_t& avg = host_ewma_[i];
          avg = delta == 0 && avg < kEwmaRounds
                    ? 0
                    : avg - avg / kEwmaRounds + delta * kEwmaScale / kEwmaRounds;
          if (avg > total) room = ld(hs.room);  // the busiest
          total += avg;
        }
        if (dropped)
          hungry_[at] = kHungryRounds;
        else if (hungry_[at])
          --hungry_[at];
        if (total == 0 || !p0.room_per_host(room)) {
          hungry_[at] = 0;
          if (host_set_[at]) {  // idle: back to the classroom's default for the next host
            for (size_t w = 0; w < workers_; ++w) set_host(*workers[w], w, h, d, 0, 0, 0, 0);
            host_set_[at] = 0;
          }
          continue;
        }
        keep |= uint64_t{1} << (h % 64);
        active_[d].push_back({room, h});
      }
    }
    tracked_[word] = keep;
  }
  for (int d = 0; d < 2; ++d) {
    const Dir dir = static_cast<Dir>(d);
    std::vector<Active>& active = active_[d];
    active_total = std::max<uint64_t>(active_total, active.size());
    std::sort(active.begin(), active.end(), [](const Active& a, const Active& b) {
      return a.room != b.room ? a.room < b.room : a.slot < b.slot;
    });
    // 2. Per classroom: each host's fair share (max-min by demand, none without `fair`).
    for (size_t i = 0; i < active.size();) {
      const uint32_t room = active[i].room;
      size_t j = i;
      while (j < active.size() && active[j].room == room) ++j;
      const size_t n = j - i;
      const bool fair = p0.room_host_fair(room);
      const uint64_t room_bps = p0.room_bps(dir, room), cap = p0.room_host_cap_bps(room);
      host_demand_.resize(n);
      host_share_.resize(std::max(n, workers_));
      order_.resize(std::max(n, workers_));
      // Capacities of one period in the demand's unit (bytes x kEwmaScale).
      auto per_period = [&](uint64_t bps) {
        return static_cast<uint64_t>(static_cast<unsigned __int128>(bps) * elapsed_ns * kEwmaScale /
                                     8'000'000'000ull);
      };
      const uint64_t capacity = per_period(room_bps);
      const uint64_t cap_capacity = cap ? per_period(cap) : UINT64_MAX;
      if (fair) {
        for (size_t k = 0; k < n; ++k) {
          const size_t at = size_t{active[i + k].slot} * 2 + d;
          uint64_t sum = 0;
          for (size_t w = 0; w < workers_; ++w)
            sum += host_ewma_[(w * kHostSlots + active[i + k].slot) * 2 + d];
          const uint64_t want = hungry_[at] ? capacity : sum + sum / kHostMarginDiv;
          host_demand_[k] = std::max<uint64_t>(std::min(want, cap_capacity), 1);
        }
        max_min_shares(host_demand_.data(), n, capacity, 0, host_share_.data(), order_.data());
      }
      for (size_t k = 0; k < n; ++k) {
        const uint32_t h = active[i + k].slot;
        uint64_t share = 0;
        if (fair) {
          share = static_cast<uint64_t>(static_cast<unsigned __int128>(room_bps) * host_share_[k] >>
                                        Policer::kShareShift);
          share = std::max<uint64_t>(share, api::kMinQosRateBps);
          if (cap) share = std::min(share, cap);
        }
        // Depth of the share: of an even split of the classroom (TCP's windows do not shrink
        // with a share that moves every period), at least of the share itself.
        const uint64_t depth_bps = std::max(share, room_bps / n);
        if (workers_ == 1) {
          set_host(*workers[0], 0, h, d, share, depth_bps, 0, 0);  // the cap: the classroom's
        } else {
          // 3. The host's share and cap over the workers its flows are on (max-min by demand).
          uint64_t per_worker[64];
          for (size_t w = 0; w < workers_; ++w)
            per_worker[w] = host_ewma_[(w * kHostSlots + h) * 2 + d];
          uint32_t ws[64];
          max_min_shares(per_worker, workers_, per_period(share ? share : cap),
                         Policer::kShareOne / kIdleShareDiv, ws, order_.data());
          for (size_t w = 0; w < workers_; ++w) {
            const uint64_t ds = std::max<uint64_t>(ws[w], even);
            auto part = [&](uint64_t bps, uint64_t s) {
              return bps ? std::max<uint64_t>(bps * s >> Policer::kShareShift, 1) : 0;
            };
            const uint64_t wshare = part(share, ws[w]), wcap = part(cap, ws[w]);
            set_host(*workers[w], w, h, d, wshare, part(depth_bps, ds), wcap, part(cap, ds));
            // What this worker's hosts of the classroom may take: its demand of the node.
            host_room_demand_[(w * 2 + d) * rooms + room] +=
                std::min(per_worker[w], per_period(wshare ? wshare : wcap));
          }
        }
        host_set_[size_t{h} * 2 + d] = 1;
      }
      i = j;
    }
  }
  active_hosts_ = active_total;
}

namespace {
int64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}
}  // namespace

void BalancerThread::start(std::mutex* mu, Collect collect, std::chrono::microseconds period) {
  stop();
  mu_ = mu;
  collect_ = std::move(collect);
  period_ = period;
  stop_.store(false);
  thread_ = std::thread([this] { loop(); });
}

void BalancerThread::stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

void BalancerThread::loop() {
  std::array<Policer*, kMaxWorkers> set{};
  auto last = std::chrono::steady_clock::now();
  std::chrono::nanoseconds sleep = period_;
  while (!stop_.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(sleep);
    const auto now = std::chrono::steady_clock::now();
    const auto elapsed = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now - last).count());
    last = now;
    const int64_t cpu0 = thread_cpu_ns();
    {
      std::lock_guard lock(*mu_);
      const size_t n = collect_(set);
      if (n > 0) balancer_.rebalance(std::span<Policer* const>(set.data(), n), elapsed);
    }
    // A large tree with traffic everywhere makes a round expensive (perf/qos: ~0.7 ms for
    // 500 x 8 on the test VM): never spend more than 1/kMaxDuty of a core on it (CPU time,
    // so being preempted on a busy machine does not slow the rounds down).
    sleep = std::max<std::chrono::nanoseconds>(
        period_, std::chrono::nanoseconds((thread_cpu_ns() - cpu0) * kMaxDuty));
  }
}

}  // namespace cg::qos

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
  // Until demand is measured: an even split.
  const auto even = static_cast<uint32_t>(Policer::kShareOne / workers_);
  for (Policer* p : workers)
    for (size_t n = 0; n < p->node_count(); ++n) p->set_share(n, even, even);
}

void Balancer::split(const uint64_t* demand, uint64_t capacity, uint32_t* share) const {
  const uint32_t one = Policer::kShareOne, idle = one / kIdleShareDiv;
  size_t active = 0;
  for (size_t w = 0; w < workers_; ++w) active += demand[w] != 0;
  // Workers by demand, smallest first (at most 64: rebalance() checks).
  size_t order[64];
  const size_t n = std::min<size_t>(workers_, 64);
  std::iota(order, order + n, size_t{0});
  std::sort(order, order + n, [&](size_t a, size_t b) { return demand[a] < demand[b]; });
  uint64_t left = one - (n - active) * idle;
  size_t k = active;
  for (size_t i = 0; i < n; ++i) {
    const size_t w = order[i];
    if (demand[w] == 0) {
      share[w] = idle;
      continue;
    }
    // What it asked for, as a share of the node's capacity in the period; at most a fair split
    // of what is left (max-min fairness).
    const uint64_t want =
        capacity ? std::min<uint64_t>(static_cast<unsigned __int128>(demand[w]) * one / capacity,
                                      one)
                 : one;
    const uint64_t give = std::min<uint64_t>(want, left / k);
    share[w] = static_cast<uint32_t>(give);
    left -= give;
    --k;
  }
  // Spare capacity goes to the workers with demand, evenly: room to grow next period.
  for (size_t i = 0, a = active; i < n && a; ++i) {
    const size_t w = order[i];
    if (demand[w] == 0) continue;
    const uint64_t extra = left / a--;
    share[w] += static_cast<uint32_t>(extra);
    left -= extra;
  }
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
  if (workers.size() < 2 || workers.size() > 64) return;
  if (!std::equal(workers.begin(), workers.end(), set_.begin(), set_.end())) {
    reset(workers);
    return;
  }
  ++rounds_;
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
        up_[w] += room_[w];
      }
      for (uint32_t c = 0; c < classes; ++c)
        apply(workers, p0.leaf_node(dir, r, c), &leaf_[size_t{c} * workers_], elapsed_ns);
      apply(workers, p0.room_node(dir, r), room_.data(), elapsed_ns);
    }
    apply(workers, p0.root(dir), up_.data(), elapsed_ns);
  }
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
    const auto elapsed =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - last)
                                  .count());
    last = now;
    const int64_t cpu0 = thread_cpu_ns();
    {
      std::lock_guard lock(*mu_);
      const size_t n = collect_(set);
      if (n > 1) balancer_.rebalance(std::span<Policer* const>(set.data(), n), elapsed);
    }
    // A large tree with traffic everywhere makes a round expensive (perf/qos: ~0.7 ms for
    // 500 x 8 on the test VM): never spend more than 1/kMaxDuty of a core on it (CPU time,
    // so being preempted on a busy machine does not slow the rounds down).
    sleep = std::max<std::chrono::nanoseconds>(
        period_, std::chrono::nanoseconds((thread_cpu_ns() - cpu0) * kMaxDuty));
  }
}

}  // namespace cg::qos

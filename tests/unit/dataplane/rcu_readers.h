// Plain threads standing in for dataplane workers in RCU tests: each runs `body(i)` in a loop
// (adopt the published pointer at a "burst boundary", use it) and then reports a quiescent
// state on a real rte_rcu_qsbr, as the runtime's worker loop does. `paused` stops the reports
// (a stuck worker) while the body keeps running.
#pragma once

#include <rte_rcu_qsbr.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <thread>
#include <vector>

namespace cg::runtime {

class RcuReaders {
 public:
  explicit RcuReaders(uint32_t n) : n_(n) {
    const size_t sz = (rte_rcu_qsbr_get_memsize(n) + 63) / 64 * 64;
    qs = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(64, sz));
    rte_rcu_qsbr_init(qs, n);
    for (uint32_t i = 0; i < n; ++i) rte_rcu_qsbr_thread_register(qs, i);
  }
  RcuReaders(const RcuReaders&) = delete;
  RcuReaders& operator=(const RcuReaders&) = delete;
  ~RcuReaders() {
    join();
    std::free(qs);
  }

  void start(std::function<void(uint32_t)> body) {
    body_ = std::move(body);
    for (uint32_t i = 0; i < n_; ++i)
      threads_.emplace_back([this, i] {
        rte_rcu_qsbr_thread_online(qs, i);
        while (!stop_.load()) {
          body_(i);
          if (!paused.load()) rte_rcu_qsbr_quiescent(qs, i);
          std::this_thread::yield();
        }
        rte_rcu_qsbr_thread_offline(qs, i);
      });
  }
  // Stops the readers (they go offline): call before freeing what they read, as the runtime does.
  void join() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }

  rte_rcu_qsbr* qs = nullptr;
  std::atomic<bool> paused{false};

 private:
  uint32_t n_;
  std::function<void(uint32_t)> body_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

}  // namespace cg::runtime

#include "snmp/session/concurrency.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace cg::snmp {

void run_concurrently(size_t n, size_t max_parallel, const std::function<void(size_t)>& fn) {
  if (n == 0) return;
  size_t workers = std::clamp<size_t>(max_parallel, 1, n);
  std::atomic<size_t> next{0};
  auto body = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
  };
  if (workers == 1) {
    body();
    return;
  }
  std::vector<std::thread> threads;
  threads.reserve(workers - 1);
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(body);
  body();
  for (auto& t : threads) t.join();
}

}  // namespace cg::snmp

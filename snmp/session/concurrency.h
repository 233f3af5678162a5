// Many devices at once: run_concurrently(n, k, fn) calls fn(i) for every i in [0, n) on at most k
// threads. Each call opens and owns its own SnmpSession (net-snmp single-session API), so no
// session is ever shared between threads.
#pragma once

#include <cstddef>
#include <functional>

namespace cg::snmp {

void run_concurrently(size_t n, size_t max_parallel, const std::function<void(size_t)>& fn);

}  // namespace cg::snmp

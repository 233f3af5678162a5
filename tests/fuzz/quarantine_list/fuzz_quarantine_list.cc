// Fuzzes the dataplane's quarantine.set list (control-socket JSON -> parse_quarantine -> the
// frozen matcher): no crash, no overrun; every accepted entry matches its own address.
#include <arpa/inet.h>

#include <array>
#include <cstring>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/runtime/quarantine.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) {  // not JSON: treat the bytes as one address
    j = nlohmann::json::array({std::string(reinterpret_cast<const char*>(data), size)});
  } else if (j.is_object() && j.contains("addresses")) {
    j = j["addresses"];
  }
  cg::runtime::QuarantineList q;
  std::string err;
  if (!cg::runtime::parse_quarantine(j, &q, &err)) return 0;
  for (const auto& a : q.addresses) {
    std::array<uint8_t, 16> x{};
    const std::string addr = a.substr(0, a.find('/'));
    in_addr v4;
    if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) {
      x[10] = x[11] = 0xff;
      std::memcpy(&x[12], &v4, 4);
    } else if (inet_pton(AF_INET6, addr.c_str(), x.data()) != 1) {
      __builtin_trap();  // a canonical entry that is not an address
    }
    if (!q.matcher || !q.matcher->match_addr(x)) __builtin_trap();
  }
  return 0;
}

// Fuzzes what reaches the nftables script (controlplane/nft): admin subnets, quarantine
// addresses and the table name from configuration / the REST API. Whatever render_ruleset
// accepts must contain no nft syntax from the input: only canonical addresses, so no ';', '{',
// '}', '"' or newline can come from it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/nft/nft.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string in(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts = cg::nft::split_list(in);
  cg::nft::ManagementConfig cfg;
  std::vector<cg::nft::QuarantineElement> q;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i % 2)
      q.push_back({parts[i], static_cast<int64_t>(i)});
    else
      cfg.admin_subnets.push_back(parts[i]);
    std::string c;
    bool v6;
    if (cg::nft::parse_prefix(parts[i], &c, &v6) &&
        c.find_first_of(";{}\"\n ") != std::string::npos)
      __builtin_trap();
  }
  std::vector<uint16_t> ports;
  std::string err;
  (void)cg::nft::parse_ports(in, &ports, &err);
  std::string script;
  if (cg::nft::render_ruleset(cfg, q, &script).is_ok()) {
    for (const auto& p : parts)
      if (p.find_first_of(";{}\"\n") != std::string::npos && script.find(p) != std::string::npos)
        __builtin_trap();
  }
  if (!parts.empty()) {
    cfg.table = parts[0];
    (void)cg::nft::render_ruleset(cfg, {}, &script);
  }
  return 0;
}

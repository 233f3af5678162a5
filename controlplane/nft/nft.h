// nftables for the appliance itself (libnftables): management-plane protection and the host
// side of quarantine, in campusguard's OWN table (default `inet campusguard`). The whole table
// is rendered from configuration + the current quarantine list and applied as ONE transaction
// (one nft_run_cmd_from_buffer: create-if-missing, delete, re-create with everything), so the
// kernel either has the new ruleset or keeps the previous one; other tables are never touched.
//
//   table inet campusguard {
//     set admin4 / admin6          the admin subnets (interval sets)
//     set quarantine4 / quarantine6  quarantined hosts / prefixes, each with its own timeout
//     chain input  (hook input, policy accept)
//       quarantined source -> drop (before conntrack: an open session is cut too)
//       ct state established,related accept; iif lo accept
//       admin subnets -> SSH / HTTPS (tcp) and SNMP (udp) ports accept; others on them -> drop
//     chain output (hook output, policy accept): toward a quarantined host -> drop
//   }
//
// Called by controld's quarantine service (controlplane/quarantine) at start, on every
// quarantine change and expiry. Not thread-safe by itself (the service serialises calls).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "controlplane/common/status.h"

namespace cg::nft {

using cp::Status;

struct ManagementConfig {
  bool enabled = true;                    // false: the table is removed (nothing filtered)
  std::string table = "campusguard";      // family inet; [a-z0-9_], 1..32 characters
  std::vector<std::string> admin_subnets;  // IPv4 / IPv6 addresses or CIDR prefixes
  std::vector<uint16_t> ssh_ports{22};
  std::vector<uint16_t> https_ports{443, 8443};
  std::vector<uint16_t> snmp_ports{161};  // udp
};

struct QuarantineElement {
  std::string address;      // IPv4 / IPv6 address or CIDR prefix
  int64_t timeout_s = 0;    // > 0: the kernel removes the element by itself after this
};

// "22, 443,8443" -> ports (1..65535); false with `error` naming the bad item.
bool parse_ports(const std::string& text, std::vector<uint16_t>* out, std::string* error);
// "a, b,c" -> {"a","b","c"} (blank items dropped).
std::vector<std::string> split_list(const std::string& text);

// A checked address / prefix: canonical text (host bits cleared, "/len" only when shorter than
// the address; IPv4-mapped IPv6 written as IPv4, as the dataplane does) and its family. False
// for anything else.
bool parse_prefix(const std::string& text, std::string* canonical, bool* v6);

// The complete nft script for one transaction (deterministic: same input, same text).
// kInvalid when a subnet, address, port or the table name is not acceptable.
Status render_ruleset(const ManagementConfig& cfg, const std::vector<QuarantineElement>& q,
                      std::string* script);

// The script that removes our table (and only it) in one transaction, whether it exists or not.
std::string render_removal(const std::string& table);

// libnftables in the caller's network namespace.
class Nftables {
 public:
  // Runs `script` as one transaction. kInvalid with nft's own error text when it is refused
  // (the previous ruleset stays), kUnavailable when no nft context can be created.
  Status run(const std::string& script);
  // `nft -j list table inet TABLE` as JSON text; kNotFound when the table does not exist.
  Status list_table_json(const std::string& table, std::string* json) {
    return list_table_json_family("inet", table, json);
  }
  Status list_table_json_family(const std::string& family, const std::string& table,
                                std::string* json);
  // render_ruleset + run.
  Status apply(const ManagementConfig& cfg, const std::vector<QuarantineElement>& q);

  uint64_t applies() const { return applies_; }
  uint64_t failures() const { return failures_; }

 private:
  Status exec(const std::string& cmd, bool json_output, std::string* out);
  uint64_t applies_ = 0, failures_ = 0;
};

}  // namespace cg::nft

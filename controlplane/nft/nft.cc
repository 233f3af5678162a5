#include "controlplane/nft/nft.h"

#include <arpa/inet.h>
#include <nftables/libnftables.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace cg::nft {
namespace {

bool valid_table(const std::string& t) {
  if (t.empty() || t.size() > 32) return false;
  return std::all_of(t.begin(), t.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

std::string port_set(const std::vector<uint16_t>& ports) {
  std::vector<uint16_t> p = ports;
  std::sort(p.begin(), p.end());
  p.erase(std::unique(p.begin(), p.end()), p.end());
  std::string s = "{ ";
  for (size_t i = 0; i < p.size(); ++i) s += (i ? ", " : "") + std::to_string(p[i]);
  return s + " }";
}

// `set NAME { ... }` with the elements, or without an elements line when empty.
void add_set(std::string* o, const std::string& name, bool v6, bool timeout,
             const std::vector<std::string>& elements) {
  *o += "  set " + name + " {\n    type " + (v6 ? "ipv6_addr" : "ipv4_addr") + "\n";
  *o += std::string("    flags interval") + (timeout ? ", timeout" : "") + "\n";
  if (!elements.empty()) {
    *o += "    elements = { ";
    for (size_t i = 0; i < elements.size(); ++i) *o += (i ? ", " : "") + elements[i];
    *o += " }\n";
  }
  *o += "  }\n";
}

}  // namespace

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p <= text.size()) {
    size_t c = text.find(',', p);
    if (c == std::string::npos) c = text.size();
    std::string item = text.substr(p, c - p);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) out.push_back(item);
    p = c + 1;
  }
  return out;
}

bool parse_ports(const std::string& text, std::vector<uint16_t>* out, std::string* error) {
  out->clear();
  for (const auto& item : split_list(text)) {
    if (item.size() > 5 ||
        !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(item) < 1 || std::stoi(item) > 65535) {
      *error = "'" + item + "' is not a port (1..65535)";
      return false;
    }
    out->push_back(static_cast<uint16_t>(std::stoi(item)));
  }
  return true;
}

bool parse_prefix(const std::string& text, std::string* canonical, bool* v6) {
  if (text.empty() || text.size() > 64) return false;
  const size_t slash = text.find('/');
  const std::string addr = text.substr(0, slash);
  int len = -1;
  if (slash != std::string::npos) {
    const std::string n = text.substr(slash + 1);
    if (n.empty() || n.size() > 3 ||
        !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    len = std::stoi(n);
  }
  unsigned char a[16] = {};
  int bits;
  if (inet_pton(AF_INET, addr.c_str(), a) == 1) {
    *v6 = false;
    bits = 32;
  } else if (inet_pton(AF_INET6, addr.c_str(), a) == 1) {
    *v6 = true;
    bits = 128;
  } else {
    return false;
  }
  if (len > bits) return false;
  if (len < 0) len = bits;
  static constexpr unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (*v6 && len >= 96 && std::memcmp(a, kMapped, 12) == 0) {  // ::ffff:a.b.c.d is IPv4
    std::memmove(a, a + 12, 4);
    *v6 = false;
    bits = 32;
    len -= 96;
  }
  for (int b = len; b < bits; ++b) a[b / 8] &= static_cast<unsigned char>(~(0x80u >> (b % 8)));
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(*v6 ? AF_INET6 : AF_INET, a, buf, sizeof buf);
  *canonical = buf;
  if (len != bits) *canonical += "/" + std::to_string(len);
  return true;
}

std::string render_removal(const std::string& table) {
  return "table inet " + table + "\ndelete table inet " + table + "\n";
}

Status render_ruleset(const ManagementConfig& cfg, const std::vector<QuarantineElement>& q,
                      std::string* script) {
  if (!valid_table(cfg.table))
    return cp::invalid("management.nft_table: '" + cfg.table +
                       "' is not a table name ([a-z0-9_], 1..32 characters)");
  if (!cfg.enabled) {
    *script = render_removal(cfg.table);
    return {};
  }
  std::vector<std::string> admin[2], quar[2];
  for (const auto& s : cfg.admin_subnets) {
    std::string c;
    bool v6;
    if (!parse_prefix(s, &c, &v6))
      return cp::invalid("management.admin_subnets: '" + s + "' is not an address or prefix");
    admin[v6].push_back(c);
  }
  for (const auto& e : q) {
    std::string c;
    bool v6;
    if (!parse_prefix(e.address, &c, &v6))
      return cp::invalid("quarantine: '" + e.address + "' is not an address or prefix");
    if (e.timeout_s > 0) c += " timeout " + std::to_string(e.timeout_s) + "s";
    quar[v6].push_back(c);
  }
  for (const auto* ports : {&cfg.ssh_ports, &cfg.https_ports, &cfg.snmp_ports})
    for (uint16_t p : *ports)
      if (p == 0) return cp::invalid("management: port 0 is not a port");
  for (auto& v : admin) std::sort(v.begin(), v.end());
  for (auto& v : quar) std::sort(v.begin(), v.end());
  std::vector<uint16_t> tcp = cfg.ssh_ports;
  tcp.insert(tcp.end(), cfg.https_ports.begin(), cfg.https_ports.end());

  const std::string t = "inet " + cfg.table;
  std::string o = "table " + t + "\ndelete table " + t + "\ntable " + t + " {\n";
  add_set(&o, "admin4", false, false, admin[0]);
  add_set(&o, "admin6", true, false, admin[1]);
  add_set(&o, "quarantine4", false, true, quar[0]);
  add_set(&o, "quarantine6", true, true, quar[1]);
  o += "  chain input {\n"
       "    type filter hook input priority filter; policy accept;\n"
       "    ip saddr @quarantine4 counter drop comment \"quarantined host\"\n"
       "    ip6 saddr @quarantine6 counter drop comment \"quarantined host\"\n"
       "    ct state established,related accept\n"
       "    iif \"lo\" accept\n";
  if (!tcp.empty()) {
    const std::string ps = port_set(tcp);
    o += "    tcp dport " + ps + " ip saddr @admin4 accept\n";
    o += "    tcp dport " + ps + " ip6 saddr @admin6 accept\n";
    o += "    tcp dport " + ps + " counter drop comment \"management port, not an admin "
         "subnet\"\n";
  }
  if (!cfg.snmp_ports.empty()) {
    const std::string ps = port_set(cfg.snmp_ports);
    o += "    udp dport " + ps + " ip saddr @admin4 accept\n";
    o += "    udp dport " + ps + " ip6 saddr @admin6 accept\n";
    o += "    udp dport " + ps + " counter drop comment \"management port, not an admin "
         "subnet\"\n";
  }
  o += "  }\n"
       "  chain output {\n"
       "    type filter hook output priority filter; policy accept;\n"
       "    ip daddr @quarantine4 counter drop comment \"quarantined host\"\n"
       "    ip6 daddr @quarantine6 counter drop comment \"quarantined host\"\n"
       "  }\n"
       "}\n";
  *script = std::move(o);
  return {};
}

Status Nftables::exec(const std::string& cmd, bool json_output, std::string* out) {
  std::unique_ptr<nft_ctx, void (*)(nft_ctx*)> ctx(nft_ctx_new(NFT_CTX_DEFAULT), nft_ctx_free);
  if (!ctx) return cp::unavailable("nftables: cannot create a libnftables context");
  if (json_output) nft_ctx_output_set_flags(ctx.get(), NFT_CTX_OUTPUT_JSON);
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  const int rc = nft_run_cmd_from_buffer(ctx.get(), cmd.c_str());
  if (rc != 0) {
    std::string err = nft_ctx_get_error_buffer(ctx.get());
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return cp::invalid("nftables: " + (err.empty() ? std::string("command failed") : err));
  }
  if (out) *out = nft_ctx_get_output_buffer(ctx.get());
  return {};
}

Status Nftables::run(const std::string& script) {
  Status s = exec(script, false, nullptr);
  ++(s ? applies_ : failures_);
  return s;
}

Status Nftables::list_table_json_family(const std::string& family, const std::string& table,
                                        std::string* json) {
  if (!valid_table(table) || !valid_table(family))
    return cp::invalid("bad table '" + family + " " + table + "'");
  Status s = exec("list table " + family + " " + table, true, json);
  if (!s && s.message().find("No such file") != std::string::npos)
    return cp::not_found("table " + family + " " + table + " does not exist");
  return s;
}

Status Nftables::apply(const ManagementConfig& cfg, const std::vector<QuarantineElement>& q) {
  std::string script;
  if (Status s = render_ruleset(cfg, q, &script); !s) return s;
  return run(script);
}

}  // namespace cg::nft

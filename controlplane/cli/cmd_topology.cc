// cgctl topology probe ADDRESS[:PORT]: asks one device over SNMP (v2c or v3 USM) and prints what
// discovery learns from it. Runs locally, no cg-controld needed.
#include <cstdio>
#include <cstdlib>
#include <iostream>

#include "controlplane/cli/command_registry.h"
#include "snmp/discovery/discovery.h"
#include "snmp/session/session.h"

namespace cg::cli {
namespace {

struct ProbeArgs {
  std::string address;
  std::string community;
  std::string user;
  std::string auth_proto = "SHA-256";
  std::string auth_pass;
  std::string priv_proto = "AES";
  std::string priv_pass;
  std::string context;
  double timeout_s = 2.0;
  int retries = 1;
  int max_repetitions = 25;
  double rate = 50;
  bool no_fdb = false;
  bool no_arp = false;
};

// Secrets may come from the environment so they stay out of `ps` and shell history.
void fill_from_env(std::string& value, const char* var) {
  if (!value.empty()) return;
  if (const char* v = std::getenv(var)) value = v;
}

int fail(const std::string& msg, int code) {
  std::cerr << "cgctl topology probe: " << msg << "\n";
  return code;
}

int run_probe(const ProbeArgs& a, const GlobalOptions& global) {
  snmp::SessionConfig cfg;
  if (!snmp::parse_address(a.address, &cfg.host, &cfg.port)) {
    return fail("bad address '" + a.address + "' (want HOST, HOST:PORT or [V6]:PORT)", 2);
  }
  std::string community = a.community, auth_pass = a.auth_pass, priv_pass = a.priv_pass;
  fill_from_env(community, "CG_SNMP_COMMUNITY");
  fill_from_env(auth_pass, "CG_SNMP_AUTH_PASS");
  fill_from_env(priv_pass, "CG_SNMP_PRIV_PASS");
  if (!a.user.empty()) {
    cfg.version = snmp::SnmpVersion::kV3;
    cfg.user = a.user;
    cfg.context = a.context;
    if (!auth_pass.empty() && !snmp::parse_auth_protocol(a.auth_proto, &cfg.auth)) {
      return fail("unknown --auth-proto '" + a.auth_proto +
                      "' (MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512)",
                  2);
    }
    if (!priv_pass.empty() && !snmp::parse_priv_protocol(a.priv_proto, &cfg.priv)) {
      return fail("unknown --priv-proto '" + a.priv_proto + "' (DES, AES, AES-192, AES-256)", 2);
    }
    if (auth_pass.empty()) cfg.auth = snmp::AuthProtocol::kNone;
    if (priv_pass.empty()) cfg.priv = snmp::PrivProtocol::kNone;
    cfg.auth_pass = auth_pass;
    cfg.priv_pass = priv_pass;
  } else if (!community.empty()) {
    cfg.version = snmp::SnmpVersion::kV2c;
    cfg.community = community;
  } else {
    return fail("give --community (SNMPv2c) or --user (SNMPv3)", 2);
  }
  if (a.timeout_s <= 0 || a.timeout_s > 60) return fail("--timeout must be in (0, 60] seconds", 2);
  cfg.timeout = std::chrono::milliseconds(static_cast<long>(a.timeout_s * 1000));
  cfg.retries = a.retries;
  cfg.max_repetitions = a.max_repetitions;
  cfg.max_requests_per_second = a.rate;

  auto session = snmp::open_net_snmp_session(cfg);
  if (!session.ok()) {
    int code = session.status().code() == snmp::ErrorCode::kInvalidArgument ? 2 : 1;
    return fail(session.status().to_string(), code);
  }
  snmp::DiscoveryOptions opts;
  opts.fdb = !a.no_fdb;
  opts.arp = !a.no_arp;
  auto result = snmp::discover_device(**session, opts);
  if (!result.ok()) return fail(result.status().to_string(), 1);
  if (global.output == "json") {
    std::cout << snmp::to_json(*result).dump(2) << "\n";
  } else {
    std::cout << snmp::to_text(*result);
  }
  if (!result->walk_errors.empty()) {
    for (const auto& e : result->walk_errors) std::cerr << "cgctl topology probe: " << e << "\n";
    return 1;
  }
  return 0;
}

const CommandRegistrar kRegistrar([](CLI::App& app, GlobalOptions& global) {
  auto* topo = app.add_subcommand("topology", "campus topology (SNMP discovery)");
  topo->require_subcommand(1);
  auto args = std::make_shared<ProbeArgs>();
  auto* probe = topo->add_subcommand(
      "probe", "ask one device over SNMP and print what discovery learns (no daemon needed)");
  probe->add_option("address", args->address, "ADDRESS[:PORT] of the device (port 161)")
      ->required();
  probe->add_option("--community,-c", args->community,
                    "SNMPv2c community (or env CG_SNMP_COMMUNITY)");
  probe->add_option("--user,-u", args->user, "SNMPv3 user (selects SNMPv3 USM)");
  probe
      ->add_option("--auth-proto", args->auth_proto,
                   "SNMPv3 auth: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512")
      ->capture_default_str();
  probe->add_option("--auth-pass", args->auth_pass,
                    "SNMPv3 auth password (or env CG_SNMP_AUTH_PASS); none = noAuthNoPriv");
  probe->add_option("--priv-proto", args->priv_proto, "SNMPv3 privacy: DES, AES, AES-192, AES-256")
      ->capture_default_str();
  probe->add_option("--priv-pass", args->priv_pass,
                    "SNMPv3 privacy password (or env CG_SNMP_PRIV_PASS); none = authNoPriv");
  probe->add_option("--context", args->context, "SNMPv3 context name");
  probe->add_option("--timeout", args->timeout_s, "seconds per request attempt")
      ->capture_default_str();
  probe->add_option("--retries", args->retries, "retries per request")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  probe
      ->add_option("--max-repetitions", args->max_repetitions,
                   "GETBULK max-repetitions (0 = GETNEXT); halved automatically on timeouts")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  probe->add_option("--rate", args->rate, "max requests per second to the device (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  probe->add_flag("--no-fdb", args->no_fdb, "skip the forwarding tables");
  probe->add_flag("--no-arp", args->no_arp, "skip the ARP / neighbour tables");
  probe->callback([args, &global] {
    int rc = run_probe(*args, global);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
});

}  // namespace
}  // namespace cg::cli

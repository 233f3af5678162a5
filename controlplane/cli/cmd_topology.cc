// cgctl topology: SNMP discovery without cg-controld.
//   probe ADDRESS        ask one device and print what discovery learns from it
//   discover --seed A    crawl from seeds through LLDP / CDP neighbours inside --subnet
//   show / locate        read a saved topology (--from FILE)
//   watch                poll the devices of a saved topology and print events
//   traps                receive SNMPv2c / v3 traps and informs, print them as events
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <mutex>
#include <thread>

#include "controlplane/cli/command_registry.h"
#include "snmp/discovery/discovery.h"
#include "snmp/poller/poller.h"
#include "snmp/session/concurrency.h"
#include "snmp/session/session.h"
#include "snmp/topology/crawl.h"
#include "snmp/topology/model.h"
#include "snmp/traps/receiver.h"

namespace cg::cli {
namespace {

// SNMP credentials and transport knobs shared by probe, discover and watch.
struct SnmpArgs {
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
};

struct ProbeArgs {
  SnmpArgs snmp;
  std::string address;
  bool no_fdb = false;
  bool no_arp = false;
};

struct DiscoverArgs {
  SnmpArgs snmp;
  std::vector<std::string> seeds, subnets;
  int parallel = 16;
  int max_devices = 4096;
  std::string save;
};

struct FileArgs {
  std::string from;
  std::string address;  // locate
};

struct WatchArgs {
  SnmpArgs snmp;
  std::string from;
  double interval_s = 30;
  int cycles = 0;  // 0 = until interrupted
  int parallel = 16;
  uint64_t error_burst = 10;
  std::string save;
};

struct TrapArgs {
  std::string listen = "udp:0.0.0.0:162";
  std::vector<std::string> communities;
  SnmpArgs v3;  // user / protocols / passwords only
  std::string engine_id;
  int count = 0;        // exit after this many events (0 = until SIGINT)
  double duration = 0;  // exit after this many seconds (0 = no limit)
};

// Secrets may come from the environment so they stay out of `ps` and shell history.
void fill_from_env(std::string& value, const char* var) {
  if (!value.empty()) return;
  if (const char* v = std::getenv(var)) value = v;
}

int fail(const std::string& cmd, const std::string& msg, int code) {
  std::cerr << "cgctl topology " << cmd << ": " << msg << "\n";
  return code;
}

void add_snmp_options(CLI::App* c, SnmpArgs& a) {
  c->add_option("--community,-c", a.community, "SNMPv2c community (or env CG_SNMP_COMMUNITY)");
  c->add_option("--user,-u", a.user, "SNMPv3 user (selects SNMPv3 USM)");
  c->add_option("--auth-proto", a.auth_proto,
                "SNMPv3 auth: MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512")
      ->capture_default_str();
  c->add_option("--auth-pass", a.auth_pass,
                "SNMPv3 auth password (or env CG_SNMP_AUTH_PASS); none = noAuthNoPriv");
  c->add_option("--priv-proto", a.priv_proto, "SNMPv3 privacy: DES, AES, AES-192, AES-256")
      ->capture_default_str();
  c->add_option("--priv-pass", a.priv_pass,
                "SNMPv3 privacy password (or env CG_SNMP_PRIV_PASS); none = authNoPriv");
  c->add_option("--context", a.context, "SNMPv3 context name");
  c->add_option("--timeout", a.timeout_s, "seconds per request attempt")->capture_default_str();
  c->add_option("--retries", a.retries, "retries per request")
      ->check(CLI::Range(0, 10))
      ->capture_default_str();
  c->add_option("--max-repetitions", a.max_repetitions,
                "GETBULK max-repetitions (0 = GETNEXT); halved automatically on timeouts")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  c->add_option("--rate", a.rate, "max requests per second per device (0 = no limit)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

// Builds the session template (everything but the address); "" or an error message.
std::string make_config(const SnmpArgs& a, snmp::SessionConfig* cfg, int* code) {
  *code = 2;
  std::string community = a.community, auth_pass = a.auth_pass, priv_pass = a.priv_pass;
  fill_from_env(community, "CG_SNMP_COMMUNITY");
  fill_from_env(auth_pass, "CG_SNMP_AUTH_PASS");
  fill_from_env(priv_pass, "CG_SNMP_PRIV_PASS");
  if (!a.user.empty()) {
    cfg->version = snmp::SnmpVersion::kV3;
    cfg->user = a.user;
    cfg->context = a.context;
    if (!auth_pass.empty() && !snmp::parse_auth_protocol(a.auth_proto, &cfg->auth))
      return "unknown --auth-proto '" + a.auth_proto +
             "' (MD5, SHA, SHA-224, SHA-256, SHA-384, SHA-512)";
    if (!priv_pass.empty() && !snmp::parse_priv_protocol(a.priv_proto, &cfg->priv))
      return "unknown --priv-proto '" + a.priv_proto + "' (DES, AES, AES-192, AES-256)";
    if (auth_pass.empty()) cfg->auth = snmp::AuthProtocol::kNone;
    if (priv_pass.empty()) cfg->priv = snmp::PrivProtocol::kNone;
    cfg->auth_pass = auth_pass;
    cfg->priv_pass = priv_pass;
  } else if (!community.empty()) {
    cfg->version = snmp::SnmpVersion::kV2c;
    cfg->community = community;
  } else {
    return "give --community (SNMPv2c) or --user (SNMPv3)";
  }
  if (a.timeout_s <= 0 || a.timeout_s > 60) return "--timeout must be in (0, 60] seconds";
  cfg->timeout = std::chrono::milliseconds(static_cast<long>(a.timeout_s * 1000));
  cfg->retries = a.retries;
  cfg->max_repetitions = a.max_repetitions;
  cfg->max_requests_per_second = a.rate;
  *code = 0;
  return "";
}

snmp::SessionFactory make_factory(const snmp::SessionConfig& base) {
  return [base](const std::string& address) -> snmp::Result<std::unique_ptr<snmp::SnmpSession>> {
    snmp::SessionConfig cfg = base;
    if (!snmp::parse_address(address, &cfg.host, &cfg.port))
      return snmp::Status(snmp::ErrorCode::kInvalidArgument, "bad address '" + address + "'");
    return snmp::open_net_snmp_session(cfg);
  };
}

int64_t wall_now() {
  return static_cast<int64_t>(std::time(nullptr));
}

int run_probe(const ProbeArgs& a, const GlobalOptions& global) {
  snmp::SessionConfig cfg;
  if (!snmp::parse_address(a.address, &cfg.host, &cfg.port)) {
    return fail("probe", "bad address '" + a.address + "' (want HOST, HOST:PORT or [V6]:PORT)", 2);
  }
  int code = 0;
  if (std::string err = make_config(a.snmp, &cfg, &code); !err.empty())
    return fail("probe", err, code);
  auto session = snmp::open_net_snmp_session(cfg);
  if (!session.ok()) {
    int c = session.status().code() == snmp::ErrorCode::kInvalidArgument ? 2 : 1;
    return fail("probe", session.status().to_string(), c);
  }
  snmp::DiscoveryOptions opts;
  opts.fdb = !a.no_fdb;
  opts.arp = !a.no_arp;
  auto result = snmp::discover_device(**session, opts);
  if (!result.ok()) return fail("probe", result.status().to_string(), 1);
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

int run_discover(const DiscoverArgs& a, const GlobalOptions& global) {
  snmp::SessionConfig cfg;
  int code = 0;
  if (std::string err = make_config(a.snmp, &cfg, &code); !err.empty())
    return fail("discover", err, code);
  snmp::CrawlOptions opts;
  opts.seeds = a.seeds;
  for (const auto& s : a.seeds) {
    std::string host;
    uint16_t port = 0;
    if (!snmp::parse_address(s, &host, &port)) return fail("discover", "bad seed '" + s + "'", 2);
  }
  for (const auto& text : a.subnets) {
    auto s = snmp::Subnet::parse(text);
    if (!s) return fail("discover", "bad --subnet '" + text + "' (want CIDR)", 2);
    opts.subnets.push_back(*s);
  }
  opts.max_parallel = static_cast<size_t>(a.parallel);
  opts.max_devices = static_cast<size_t>(a.max_devices);
  auto crawl = snmp::crawl(opts, make_factory(cfg));
  int64_t now = wall_now();
  snmp::Topology t = snmp::build_topology(crawl, now);
  const auto& c = crawl.counters;
  for (const auto& [name, v] : {std::pair{"crawl.probed", c.probed},
                                {"crawl.failed", c.failed},
                                {"crawl.duplicates", c.duplicates},
                                {"crawl.waves", c.waves},
                                {"crawl.neighbors_seen", c.neighbors_seen},
                                {"crawl.skipped_no_address", c.skipped_no_address},
                                {"crawl.skipped_outside_subnets", c.skipped_outside_subnets},
                                {"crawl.skipped_known", c.skipped_known},
                                {"crawl.skipped_max_devices", c.skipped_max_devices},
                                {"crawl.requests", c.requests},
                                {"crawl.timeouts", c.timeouts}})
    t.counters[name] = v;
  if (!a.save.empty()) {
    auto before = snmp::load_topology_file(a.save);
    if (before.ok()) snmp::carry_history(*before, t, now);
    if (auto s = snmp::save_topology_file(a.save, t); !s.ok())
      return fail("discover", s.to_string(), 1);
  }
  if (global.output == "json") {
    std::cout << snmp::to_json(t).dump(2) << "\n";
  } else {
    std::cout << snmp::to_text(t);
    std::cout << "\ncrawl: " << c.probed << " probed, " << c.failed << " failed, " << c.duplicates
              << " duplicate addresses, " << c.waves << " waves, " << c.requests << " requests\n";
    if (!crawl.outside_subnets.empty()) {
      std::cout << "not followed (outside the subnets):";
      for (const auto& x : crawl.outside_subnets) std::cout << " " << x;
      std::cout << "\n";
    }
  }
  for (const auto& d : crawl.devices)
    if (d.error)
      std::cerr << "cgctl topology discover: " << d.address << ": " << d.error->to_string() << "\n";
  return c.probed > c.failed ? 0 : 1;  // nothing answered: fail
}

int run_show(const FileArgs& a, const GlobalOptions& global) {
  auto t = snmp::load_topology_file(a.from);
  if (!t.ok()) return fail("show", t.status().message(), 1);
  if (global.output == "json")
    std::cout << snmp::to_json(*t).dump(2) << "\n";
  else
    std::cout << snmp::to_text(*t);
  return 0;
}

int run_locate(const FileArgs& a, const GlobalOptions& global) {
  auto t = snmp::load_topology_file(a.from);
  if (!t.ok()) return fail("locate", t.status().message(), 1);
  auto loc = snmp::locate(*t, a.address);
  if (global.output == "json") {
    nlohmann::json j = {{"address", a.address}, {"found", loc.has_value()}};
    if (loc) {
      j["matched"] = loc->matched;
      j["mac"] = loc->host.mac;
      j["ips"] = loc->host.ips;
      j["device"] = loc->host.device;
      j["port"] = loc->host.port;
      j["vlan"] = loc->host.vlan ? nlohmann::json(*loc->host.vlan) : nlohmann::json(nullptr);
    }
    std::cout << j.dump(2) << "\n";
  } else if (loc) {
    std::cout << a.address << ": switch " << loc->host.device << " port " << loc->host.port
              << " vlan " << (loc->host.vlan ? std::to_string(*loc->host.vlan) : "-") << " (mac "
              << loc->host.mac << ")\n";
  } else {
    std::cout << a.address << ": not found on any edge port\n";
  }
  return loc ? 0 : 1;
}

std::atomic<bool> g_stop{false};

int run_watch(const WatchArgs& a, const GlobalOptions& global) {
  snmp::SessionConfig cfg;
  int code = 0;
  if (std::string err = make_config(a.snmp, &cfg, &code); !err.empty())
    return fail("watch", err, code);
  if (a.interval_s <= 0) return fail("watch", "--interval must be > 0", 2);
  auto loaded = snmp::load_topology_file(a.from);
  if (!loaded.ok()) return fail("watch", loaded.status().message(), 1);
  snmp::Topology topo = std::move(*loaded);
  std::vector<const snmp::Device*> devices;
  for (const auto& d : topo.devices)
    if (d.managed) devices.push_back(&d);
  auto factory = make_factory(cfg);
  snmp::PollerOptions popts;
  popts.error_burst = a.error_burst;
  snmp::Poller poller(topo, popts);
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  auto interval = std::chrono::milliseconds(static_cast<long>(a.interval_s * 1000));
  auto next = std::chrono::steady_clock::now();
  for (int cycle = 1; !g_stop && (a.cycles == 0 || cycle <= a.cycles); ++cycle) {
    int64_t started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    std::vector<snmp::Result<std::map<uint32_t, snmp::PortSample>>> samples(
        devices.size(), snmp::Status(snmp::ErrorCode::kInternal, "not polled"));
    std::vector<int64_t> at_ms(devices.size());
    uint64_t requests = 0;
    std::mutex mu;
    snmp::run_concurrently(devices.size(), static_cast<size_t>(a.parallel), [&](size_t i) {
      auto s = factory(devices[i]->address);
      if (!s.ok()) {
        samples[i] = s.status();
        return;
      }
      samples[i] = snmp::poll_interfaces(**s);
      at_ms[i] = std::chrono::duration_cast<std::chrono::milliseconds>(
                     std::chrono::steady_clock::now().time_since_epoch())
                     .count();
      std::lock_guard<std::mutex> lock(mu);
      requests += (*s)->counters().requests;
    });
    std::vector<snmp::TopologyEvent> events;
    int64_t now = wall_now();
    size_t failed = 0;
    for (size_t i = 0; i < devices.size(); ++i) {
      auto ev = samples[i].ok() ? poller.update(devices[i]->id, *samples[i], at_ms[i], now)
                                : poller.failed(devices[i]->id, samples[i].status(), now);
      failed += !samples[i].ok();
      for (auto& e : ev) events.push_back(std::move(e));
    }
    poller.end_cycle();
    for (const auto& e : events) {
      if (global.output == "json")
        std::cout << e.to_json().dump() << "\n";
      else
        std::cout << e.type << "\t" << e.to_json().dump() << "\n";
    }
    nlohmann::json summary = {
        {"type", "poll_cycle"}, {"cycle", cycle},          {"devices", devices.size()},
        {"failed", failed},     {"events", events.size()}, {"requests", requests},
        {"time", now},          {"started_ms", started_ms}};
    if (global.output == "json")
      std::cout << summary.dump() << "\n";
    else
      std::cout << "cycle " << cycle << ": " << devices.size() << " devices, " << failed
                << " failed, " << events.size() << " events, " << requests << " requests\n";
    std::cout.flush();
    if (!a.save.empty() && !events.empty()) {
      auto current = snmp::load_topology_file(a.save);
      snmp::Topology out = current.ok() ? std::move(*current) : topo;
      for (auto& e : events) out.events.push_back(e);
      if (auto s = snmp::save_topology_file(a.save, out); !s.ok())
        std::cerr << "cgctl topology watch: " << s.to_string() << "\n";
    }
    next += interval;
    while (!g_stop && std::chrono::steady_clock::now() < next &&
           (a.cycles == 0 || cycle < a.cycles))
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

int run_traps(const TrapArgs& a, const GlobalOptions& global) {
  snmp::TrapReceiverConfig cfg;
  cfg.listen = a.listen;
  cfg.communities = a.communities;
  std::string community_env;
  fill_from_env(community_env, "CG_SNMP_COMMUNITY");
  if (cfg.communities.empty() && !community_env.empty()) cfg.communities.push_back(community_env);
  if (!a.v3.user.empty()) {
    snmp::TrapUser u;
    u.name = a.v3.user;
    u.auth_pass = a.v3.auth_pass;
    u.priv_pass = a.v3.priv_pass;
    fill_from_env(u.auth_pass, "CG_SNMP_AUTH_PASS");
    fill_from_env(u.priv_pass, "CG_SNMP_PRIV_PASS");
    if (!u.auth_pass.empty() && !snmp::parse_auth_protocol(a.v3.auth_proto, &u.auth))
      return fail("traps", "unknown --auth-proto '" + a.v3.auth_proto + "'", 2);
    if (!u.priv_pass.empty() && !snmp::parse_priv_protocol(a.v3.priv_proto, &u.priv))
      return fail("traps", "unknown --priv-proto '" + a.v3.priv_proto + "'", 2);
    std::string e = a.engine_id;
    if (e.rfind("0x", 0) == 0 || e.rfind("0X", 0) == 0) e = e.substr(2);
    u.engine_id_hex = e;
    cfg.users.push_back(std::move(u));
  }
  auto receiver = snmp::open_trap_receiver(cfg);
  if (!receiver.ok()) {
    return fail("traps", receiver.status().to_string(),
                receiver.status().code() == snmp::ErrorCode::kInvalidArgument ? 2 : 1);
  }
  std::signal(SIGINT, [](int) { g_stop = true; });
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::cerr << "cgctl topology traps: listening on " << a.listen << ", engine id 0x"
            << (*receiver)->engine_id_hex() << std::endl;
  int seen = 0;
  auto start = std::chrono::steady_clock::now();
  auto print = [&](const snmp::TopologyEvent& e) {
    ++seen;
    if (global.output == "json")
      std::cout << e.to_json().dump() << std::endl;
    else
      std::cout << e.type << "\t" << e.to_json().dump() << std::endl;
  };
  while (!g_stop && (a.count == 0 || seen < a.count)) {
    if (a.duration > 0 &&
        std::chrono::steady_clock::now() - start > std::chrono::duration<double>(a.duration))
      break;
    if (auto s = (*receiver)->poll(std::chrono::milliseconds(200), print); !s.ok())
      return fail("traps", s.to_string(), 1);
  }
  const auto& c = (*receiver)->counters();
  nlohmann::json counters = {{"type", "trap_receiver_counters"},
                             {"received", c.received},
                             {"informs_acked", c.informs_acked},
                             {"bad_community", c.bad_community},
                             {"v1_dropped", c.v1_dropped},
                             {"v3_rejected", c.v3_rejected},
                             {"not_a_notification", c.not_a_notification},
                             {"no_trap_oid", c.no_trap_oid}};
  if (global.output == "json")
    std::cout << counters.dump() << std::endl;
  else
    std::cerr << "cgctl topology traps: " << counters.dump() << std::endl;
  return 0;
}

const CommandRegistrar kRegistrar([](CLI::App& app, GlobalOptions& global) {
  auto* topo = app.add_subcommand("topology", "campus topology (SNMP discovery)");
  topo->require_subcommand(1);

  auto pa = std::make_shared<ProbeArgs>();
  auto* probe = topo->add_subcommand(
      "probe", "ask one device over SNMP and print what discovery learns (no daemon needed)");
  probe->add_option("address", pa->address, "ADDRESS[:PORT] of the device (port 161)")->required();
  add_snmp_options(probe, pa->snmp);
  probe->add_flag("--no-fdb", pa->no_fdb, "skip the forwarding tables");
  probe->add_flag("--no-arp", pa->no_arp, "skip the ARP / neighbour tables");
  probe->callback([pa, &global] {
    if (int rc = run_probe(*pa, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto da = std::make_shared<DiscoverArgs>();
  auto* disc = topo->add_subcommand(
      "discover", "crawl from seed devices through LLDP/CDP neighbours inside the subnets");
  disc->add_option("--seed", da->seeds, "ADDRESS[:PORT] to start from (repeatable)")->required();
  disc->add_option("--subnet", da->subnets,
                   "follow neighbours only inside this CIDR (repeatable; none = seeds only)");
  add_snmp_options(disc, da->snmp);
  disc->add_option("--parallel", da->parallel, "devices probed at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  disc->add_option("--max-devices", da->max_devices, "stop following neighbours after this many")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  disc->add_option("--save", da->save,
                   "write the topology JSON here; an existing file's history is kept and the "
                   "changes since it are appended as events");
  disc->callback([da, &global] {
    if (int rc = run_discover(*da, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto sa = std::make_shared<FileArgs>();
  auto* show = topo->add_subcommand("show", "print a saved topology (devices, links, hosts)");
  show->add_option("--from", sa->from, "topology JSON written by discover --save")->required();
  show->callback([sa, &global] {
    if (int rc = run_show(*sa, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto la = std::make_shared<FileArgs>();
  auto* loc = topo->add_subcommand("locate", "which switch port an IP or MAC address sits on");
  loc->add_option("address", la->address, "IPv4 / IPv6 / MAC address")->required();
  loc->add_option("--from", la->from, "topology JSON written by discover --save")->required();
  loc->callback([la, &global] {
    if (int rc = run_locate(*la, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto wa = std::make_shared<WatchArgs>();
  auto* watch = topo->add_subcommand(
      "watch", "poll interface status and counters of a saved topology's devices; print events");
  watch->add_option("--from", wa->from, "topology JSON written by discover --save")->required();
  add_snmp_options(watch, wa->snmp);
  watch->add_option("--interval", wa->interval_s, "seconds between poll cycles")
      ->capture_default_str();
  watch->add_option("--cycles", wa->cycles, "stop after this many cycles (0 = until SIGINT)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  watch->add_option("--parallel", wa->parallel, "devices polled at once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  watch
      ->add_option("--error-burst", wa->error_burst,
                   "in+out errors between two polls that make an error_burst event")
      ->capture_default_str();
  watch->add_option("--save", wa->save, "append the events to this topology file's history");
  watch->callback([wa, &global] {
    if (int rc = run_watch(*wa, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto ta = std::make_shared<TrapArgs>();
  auto* traps = topo->add_subcommand(
      "traps", "receive SNMPv2c / v3 traps and informs and print them as events");
  traps->add_option("--listen", ta->listen, "transport to listen on (udp:HOST:PORT, udp6:...)")
      ->capture_default_str();
  traps->add_option("--community,-c", ta->communities,
                    "accepted SNMPv2c community (repeatable; or env CG_SNMP_COMMUNITY)");
  traps->add_option("--user,-u", ta->v3.user, "accepted SNMPv3 user");
  traps->add_option("--auth-proto", ta->v3.auth_proto, "MD5, SHA, SHA-224, SHA-256, ...")
      ->capture_default_str();
  traps->add_option("--auth-pass", ta->v3.auth_pass, "SNMPv3 auth password (or env)");
  traps->add_option("--priv-proto", ta->v3.priv_proto, "DES, AES, AES-192, AES-256")
      ->capture_default_str();
  traps->add_option("--priv-pass", ta->v3.priv_pass, "SNMPv3 privacy password (or env)");
  traps->add_option("--engine-id", ta->engine_id,
                    "the sending agent's engine ID (hex) for SNMPv3 traps (informs need none)");
  traps->add_option("--count", ta->count, "exit after this many events (0 = until SIGINT)")
      ->check(CLI::NonNegativeNumber);
  traps->add_option("--duration", ta->duration, "exit after this many seconds (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  traps->callback([ta, &global] {
    if (int rc = run_traps(*ta, global); rc != 0) throw CLI::RuntimeError(rc);
  });
});

}  // namespace
}  // namespace cg::cli

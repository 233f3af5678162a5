// cg-agentx: AgentX subagent serving CAMPUSGUARD-MIB (snmp/mibs/CAMPUSGUARD-MIB.txt) from the
// dataplane's control socket, under the system snmpd (master agentx). See README.md.
#include <pthread.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

// net-snmp's headers must come in this order.
// clang-format off
#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>
// clang-format on

#include "snmp/agentx/cache.h"

namespace {

using cg::agentx::Value;

cg::agentx::Cache* g_cache = nullptr;
volatile sig_atomic_t g_stop = 0;

void on_signal(int) {
  g_stop = 1;
}

void set_value(netsnmp_variable_list* vb, const Value& v) {
  switch (v.type) {
    case Value::Type::kInteger: {
      long n = static_cast<long>(v.num);
      snmp_set_var_typed_value(vb, ASN_INTEGER, &n, sizeof(n));
      break;
    }
    case Value::Type::kGauge32:
    case Value::Type::kCounter32: {
      u_long n = static_cast<u_long>(v.num);
      snmp_set_var_typed_value(vb, v.type == Value::Type::kGauge32 ? ASN_GAUGE : ASN_COUNTER, &n,
                               sizeof(n));
      break;
    }
    case Value::Type::kCounter64: {
      counter64 c{};
      c.high = static_cast<u_long>(v.num >> 32);
      c.low = static_cast<u_long>(v.num & 0xffffffffu);
      snmp_set_var_typed_value(vb, ASN_COUNTER64, &c, sizeof(c));
      break;
    }
    case Value::Type::kOctets:
      snmp_set_var_typed_value(vb, ASN_OCTET_STR, v.str.data(), v.str.size());
      break;
  }
}

// Serves the whole campusguardMIB subtree from the current view (a snapshot; never blocks).
int handle(netsnmp_mib_handler*, netsnmp_handler_registration*, netsnmp_agent_request_info* ri,
           netsnmp_request_info* requests) {
  auto view = g_cache->view();
  for (netsnmp_request_info* r = requests; r; r = r->next) {
    if (r->processed) continue;
    netsnmp_variable_list* vb = r->requestvb;
    cg::agentx::Oid asked(vb->name, vb->name + vb->name_length);
    if (ri->mode == MODE_GET) {
      if (const Value* v = view->get(asked))
        set_value(vb, *v);
      else
        netsnmp_set_request_error(ri, r, SNMP_NOSUCHINSTANCE);
    } else if (ri->mode == MODE_GETNEXT) {
      // Nothing after `asked` here: leave the varbind alone, the agent moves past our subtree.
      if (const auto* row = view->next(asked)) {
        std::vector<oid> name(row->first.begin(), row->first.end());
        snmp_set_var_objid(vb, name.data(), name.size());
        set_value(vb, row->second);
      }
    } else {
      netsnmp_set_request_error(ri, r, SNMP_ERR_NOTWRITABLE);
    }
  }
  return SNMP_ERR_NOERROR;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "cg-agentx: AgentX subagent that serves CAMPUSGUARD-MIB (dataplane throughput, drops by "
      "reason, per-zone counters, flows, event counts by severity, policy generation, health) "
      "under an SNMP master agent such as snmpd with 'master agentx'. Values come from the "
      "dataplane control socket, refreshed in the background every --interval seconds; SNMP "
      "requests are answered from that cache. When the dataplane does not answer, "
      "cgAgentDataplaneStatus says so and the dataplane objects are absent (noSuchInstance)."};
  std::string master = "/var/agentx/master";
  std::string dp_socket = "/run/campusguard/dataplane.sock";
  uint32_t interval = 5;
  int timeout_ms = 2000;
  uint32_t enterprise = cg::agentx::kDefaultEnterprise;
  bool no_events = false;
  uint32_t ping = 5;
  app.add_option("--master", master,
                 "AgentX socket of the master agent: a Unix socket path or tcp:HOST:PORT "
                 "(snmpd's agentXSocket)")
      ->capture_default_str();
  app.add_option("--dataplane-socket", dp_socket,
                 "cg-dataplane control socket (its control.socket setting)")
      ->capture_default_str();
  app.add_option("--interval", interval, "seconds between refreshes of the cached values")
      ->check(CLI::Range(1u, 3600u))
      ->capture_default_str();
  app.add_option("--timeout-ms", timeout_ms,
                 "per-request deadline on the dataplane socket; a refresh that misses it marks "
                 "the dataplane unreachable")
      ->check(CLI::Range(50, 60000))
      ->capture_default_str();
  app.add_option("--enterprise", enterprise,
                 "private enterprise number: the MIB is served at 1.3.6.1.4.1.<N> (32473 is "
                 "RFC 5612's documentation PEN; edit CAMPUSGUARD-MIB's MODULE-IDENTITY to match)")
      ->check(CLI::Range(1u, 4294967295u))
      ->capture_default_str();
  app.add_option("--agentx-ping", ping,
                 "seconds between AgentX pings to the master; a lost master is reconnected at "
                 "this interval")
      ->check(CLI::Range(1u, 3600u))
      ->capture_default_str();
  app.add_flag("--no-events", no_events,
               "do not subscribe to the dataplane event stream (cgEventTable stays at 0 and "
               "cgAgentEventStream says disconnected)");
  CLI11_PARSE(app, argc, argv);

  cg::agentx::CacheOptions opt;
  opt.root = cg::agentx::mib_root(enterprise);
  opt.interval_s = interval;
  opt.timeout_ms = timeout_ms;
  if (!no_events) opt.events_socket = dp_socket;
  cg::agentx::Cache cache(opt, std::make_unique<cg::agentx::UnixSource>(dp_socket, timeout_ms));
  g_cache = &cache;

  // A subagent: no config files, no persistent state (/var/lib/snmp is never written), logs to
  // stderr.
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_READ_CONFIGS, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DONT_PERSIST_STATE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_LOAD, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_LIBRARY_ID, NETSNMP_DS_LIB_DISABLE_PERSISTENT_SAVE, 1);
  netsnmp_ds_set_boolean(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_ROLE, 1);
  netsnmp_ds_set_string(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_X_SOCKET, master.c_str());
  setenv("MIBS", "", 1);  // no MIB files are parsed: the subagent serves numeric OIDs
  setenv("MIBDIRS", "", 1);
  snmp_disable_log();
  snmp_enable_stderrlog();

  if (init_agent("cg-agentx") != 0) {
    std::fprintf(stderr, "cg-agentx: net-snmp agent initialisation failed\n");
    return 1;
  }
  // After init_agent, which sets its own default (15 s).
  netsnmp_ds_set_int(NETSNMP_DS_APPLICATION_ID, NETSNMP_DS_AGENT_AGENTX_PING_INTERVAL,
                     static_cast<int>(ping));
  std::vector<oid> root(opt.root.begin(), opt.root.end());
  netsnmp_handler_registration* reg = netsnmp_create_handler_registration(
      "campusguardMIB", handle, root.data(), root.size(), HANDLER_CAN_RONLY);
  if (!reg || netsnmp_register_handler(reg) != MIB_REGISTERED_OK) {
    std::fprintf(stderr, "cg-agentx: cannot register %s\n",
                 cg::agentx::oid_to_string(opt.root).c_str());
    return 1;
  }
  init_snmp("cg-agentx");

  // SIGINT / SIGTERM must reach this thread (it sleeps in select()), not the cache threads.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  cache.start();
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);
  std::fprintf(stderr, "cg-agentx: serving %s via %s, dataplane %s every %u s\n",
               cg::agentx::oid_to_string(opt.root).c_str(), master.c_str(), dp_socket.c_str(),
               interval);
  while (!g_stop) agent_check_and_process(1);
  cache.stop();
  snmp_shutdown("cg-agentx");
  return 0;
}

#include "controlplane/config/config.h"

#include <fstream>
#include <sstream>

#include "dataplane/runtime/config_keys.h"

namespace cg::config {
namespace {

using runtime::config::Kind;
using KeyDecl = runtime::config::KeyDecl<ControldConfig>;
using Loader = runtime::config::KeyLoader<ControldConfig>;

const std::vector<KeyDecl>& keys() {
  using C = ControldConfig;
  using N = YAML::Node;
  auto str = [](std::string C::*m) {
    return [m](C& c, const N& n) { c.*m = n.as<std::string>(); };
  };
  auto u32 = [](uint32_t C::*m) { return [m](C& c, const N& n) { c.*m = n.as<uint32_t>(); }; };
  static const std::vector<KeyDecl> k = {
      {"role", Kind::kEnum, 0, 0, "school", {"school", "city"},
       "school appliance or the city's control plane", str(&C::role)},
      {"school_id", Kind::kString, 0, 0, "", {},
       "school id stamped on stored events (default: the policy's school.id)",
       str(&C::school_id)},
      {"state_dir", Kind::kString, 0, 0, "/var/lib/campusguard", {},
       "directory for the SQLite store and the generated TLS certificate", str(&C::state_dir)},
      {"api.listen", Kind::kString, 0, 0, "0.0.0.0", {}, "address the HTTPS API binds to",
       str(&C::api_listen)},
      {"api.port", Kind::kUint, 0, 65535, "8443", {},
       "HTTPS port (0 = any free port, written to <state_dir>/controld.port)", u32(&C::api_port)},
      {"api.tls_cert", Kind::kString, 0, 0, "", {},
       "PEM certificate (default <state_dir>/tls/cert.pem, self-signed on first start)",
       str(&C::tls_cert)},
      {"api.tls_key", Kind::kString, 0, 0, "", {},
       "PEM private key (default <state_dir>/tls/key.pem)", str(&C::tls_key)},
      {"api.threads", Kind::kUint, 1, 256, "8", {}, "HTTP worker threads", u32(&C::api_threads)},
      {"store.backend", Kind::kEnum, 0, 0, "sqlite", {"sqlite", "postgresql"},
       "event / history store engine", str(&C::store_backend)},
      {"store.sqlite_path", Kind::kString, 0, 0, "", {},
       "SQLite file (default <state_dir>/controld.db)", str(&C::sqlite_path)},
      {"store.postgresql", Kind::kString, 0, 0, "", {},
       "libpq connection string, e.g. 'host=db.city dbname=campusguard user=cg'",
       str(&C::pg_conninfo)},
      {"dataplane.socket", Kind::kString, 0, 0, "/run/campusguard/dataplane.sock", {},
       "the dataplane's control socket", str(&C::dataplane_socket)},
      {"dataplane.reconcile_interval", Kind::kSeconds, 0.05, 60, "1", {},
       "seconds between dataplane policy checks (re-push after a restart, confirm deadlines)",
       [](C& c, const N& n) { c.reconcile_interval_s = n.as<double>(); }},
      {"dataplane.timeout_ms", Kind::kUint, 100, 600000, "5000", {},
       "timeout of one control request", u32(&C::dataplane_timeout_ms)},
      {"events.subscribe", Kind::kBool, 0, 0, "true", {},
       "follow the dataplane's event stream and store the events",
       [](C& c, const N& n) { c.events_subscribe = n.as<bool>(); }},
      {"events.batch", Kind::kUint, 1, 100000, "512", {}, "events per store transaction (max)",
       u32(&C::events_batch)},
      {"events.flush_ms", Kind::kUint, 1, 60000, "200", {},
       "longest an event waits before its batch is committed", u32(&C::events_flush_ms)},
      {"auth.lockout_failures", Kind::kUint, 1, 100, "5", {},
       "consecutive failed logins that lock an account", u32(&C::lockout_failures)},
      {"auth.lockout_seconds", Kind::kUint, 1, 86400 * 30, "900", {},
       "how long a locked account stays locked", u32(&C::lockout_seconds)},
      {"auth.session_ttl", Kind::kUint, 60, 86400 * 7, "28800", {},
       "seconds a session token stays valid", u32(&C::session_ttl_s)},
      {"auth.argon2_opslimit", Kind::kUint, 1, 20, "2", {},
       "argon2id passes (libsodium opslimit; 2 = INTERACTIVE)", u32(&C::argon2_opslimit)},
      {"auth.argon2_memlimit_kib", Kind::kUint, 8, 4194304, "65536", {},
       "argon2id memory in KiB (65536 = INTERACTIVE)", u32(&C::argon2_memlimit_kib)},
      {"policy.keep_revisions", Kind::kUint, 100, 1000000, "1000", {},
       "policy revisions kept (oldest pruned first)", u32(&C::keep_revisions)},
      {"policy.max_confirm", Kind::kUint, 10, 86400, "3600", {},
       "longest --confirm window in seconds", u32(&C::max_confirm_s)},
      {"policy.zoneinfo", Kind::kString, 0, 0, "", {},
       "tzdata directory for the compiler (default $TZDIR or /usr/share/zoneinfo)",
       str(&C::zoneinfo)},
      {"management.nftables", Kind::kBool, 0, 0, "false", {},
       "manage the appliance's own nftables table (one atomic transaction): only the admin "
       "subnets reach SSH / HTTPS / SNMP, quarantined hosts are dropped",
       [](C& c, const N& n) { c.mgmt_nftables = n.as<bool>(); }},
      {"management.table", Kind::kString, 0, 0, "campusguard", {},
       "name of the inet table controld owns (never touches any other table)",
       str(&C::mgmt_table)},
      {"management.admin_subnets", Kind::kString, 0, 0, "", {},
       "comma-separated addresses / prefixes allowed to reach the management ports (required "
       "with management.nftables)",
       str(&C::mgmt_admin_subnets)},
      {"management.ssh_ports", Kind::kString, 0, 0, "22", {}, "comma-separated SSH ports (tcp)",
       str(&C::mgmt_ssh_ports)},
      {"management.https_ports", Kind::kString, 0, 0, "", {},
       "comma-separated HTTPS ports (tcp); empty = api.port", str(&C::mgmt_https_ports)},
      {"management.snmp_ports", Kind::kString, 0, 0, "161", {},
       "comma-separated SNMP ports (udp)", str(&C::mgmt_snmp_ports)},
      {"alerting.file", Kind::kString, 0, 0, "", {},
       "alert rules, channels and silences (YAML, controlplane/alerting/alerting.example.yaml); "
       "a relative delivery.queue is under state_dir. Unset = no alerting",
       str(&C::alerting_file)},
      {"retention.days", Kind::kUint, 1, 36500, "180", {},
       "days events and audit records are kept (older ones are deleted; the law asks >= 180)",
       u32(&C::retention_days)},
      {"retention.disk_budget_mb", Kind::kUint, 0, 100000000, "10240", {},
       "most MiB the event store may occupy; beyond it the oldest events are deleted first and a "
       "warning event says when the budget holds fewer than retention.days (0 = no budget)",
       u32(&C::retention_disk_budget_mb)},
      {"retention.interval", Kind::kSeconds, 1, 86400, "300", {},
       "seconds between retention passes",
       [](C& c, const N& n) { c.retention_interval_s = n.as<double>(); }},
      {"retention.batch", Kind::kUint, 100, 100000, "2000", {},
       "events deleted per transaction (ingest waits for at most one)", u32(&C::retention_batch)},
  };
  return k;
}

}  // namespace

ControldConfig default_config() {
  ControldConfig cfg;
  Loader::apply_defaults(keys(), cfg);
  return cfg;
}

ControldConfig parse_config(const std::string& yaml, const std::string& name,
                            std::vector<std::string>* errors) {
  ControldConfig cfg = default_config();
  Loader loader(keys(), name, errors);
  bool empty = false;  // an empty file means all defaults
  if (loader.load(yaml, cfg, &empty) && errors->empty() && cfg.store_backend == "postgresql" &&
      cfg.pg_conninfo.empty())
    errors->push_back(name + ": store.postgresql: required when store.backend is postgresql");
  return cfg;
}

ControldConfig load_config(const std::string& path, std::vector<std::string>* errors) {
  std::ifstream in(path);
  if (!in) {
    errors->push_back(path + ": cannot read file");
    return default_config();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_config(ss.str(), path, errors);
}

std::string config_help() { return Loader::help(keys()); }

}  // namespace cg::config

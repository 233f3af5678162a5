// cg-controld's configuration: every key is declared once (type, range, default, help) in
// config.cc; that table drives YAML parsing, defaults, validation and `--help-config`.
// Unknown keys are errors (with a "did you mean").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cg::config {

struct ControldConfig {
  std::string role = "school";
  std::string school_id;
  std::string state_dir = "/var/lib/campusguard";
  std::string api_listen = "0.0.0.0";
  uint32_t api_port = 8443;
  std::string tls_cert;  // "" = <state_dir>/tls/cert.pem (self-signed on first start)
  std::string tls_key;   // "" = <state_dir>/tls/key.pem
  uint32_t api_threads = 8;
  std::string store_backend = "sqlite";
  std::string sqlite_path;  // "" = <state_dir>/controld.db
  std::string pg_conninfo;
  std::string dataplane_socket = "/run/campusguard/dataplane.sock";
  double reconcile_interval_s = 1.0;
  uint32_t dataplane_timeout_ms = 5000;
  bool events_subscribe = true;
  uint32_t events_batch = 512;
  uint32_t events_flush_ms = 200;
  uint32_t lockout_failures = 5;
  uint32_t lockout_seconds = 900;
  uint32_t session_ttl_s = 28800;
  uint32_t argon2_opslimit = 2;
  uint32_t argon2_memlimit_kib = 65536;
  uint32_t keep_revisions = 1000;
  uint32_t max_confirm_s = 3600;
  std::string zoneinfo;
  // Management-plane protection and the host side of quarantine (controlplane/nft).
  bool mgmt_nftables = false;
  std::string mgmt_table = "campusguard";
  std::string mgmt_admin_subnets;       // comma-separated addresses / prefixes
  std::string mgmt_ssh_ports = "22";    // comma-separated
  std::string mgmt_https_ports;         // "" = api.port
  std::string mgmt_snmp_ports = "161";  // udp
  std::string alerting_file;  // "" = no alerting (rules, channels: alerting.example.yaml)
  // Retention of events and audit records (controlplane/retention).
  uint32_t retention_days = 180;
  uint32_t retention_disk_budget_mb = 10240;  // 0 = no budget
  double retention_interval_s = 300;
  uint32_t retention_batch = 2000;

  std::string cert_path() const { return tls_cert.empty() ? state_dir + "/tls/cert.pem" : tls_cert; }
  std::string key_path() const { return tls_key.empty() ? state_dir + "/tls/key.pem" : tls_key; }
  std::string db_path() const { return sqlite_path.empty() ? state_dir + "/controld.db" : sqlite_path; }
};

// Parses YAML text; every problem is one "NAME:LINE:COL: key: message" line in *errors.
ControldConfig parse_config(const std::string& yaml, const std::string& name,
                            std::vector<std::string>* errors);
ControldConfig load_config(const std::string& path, std::vector<std::string>* errors);
ControldConfig default_config();
// One entry per key: path, type, range, default, help.
std::string config_help();

}  // namespace cg::config

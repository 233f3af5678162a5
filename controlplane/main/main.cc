// cg-controld: the school's control plane daemon (see README.md).
//   cg-controld --config FILE                 run
//   cg-controld --help-config                 every configuration key
//   cg-controld --check-config --config FILE  validate only
//   cg-controld --config FILE --add-user NAME --role ROLE   password from stdin (first line)
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "controlplane/alerting/service.h"
#include "controlplane/api/api.h"
#include "controlplane/api/https_server.h"
#include "controlplane/audit/audit_log.h"
#include "controlplane/auth/auth.h"
#include "controlplane/commit/commit_service.h"
#include "controlplane/config/config.h"
#include "controlplane/dpclient/dataplane_client.h"
#include "controlplane/events/alert_feed.h"
#include "controlplane/events/ingest.h"
#include "controlplane/quarantine/quarantine.h"
#include "controlplane/retention/retention.h"
#include "controlplane/store/store.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: cg-controld --config FILE [--check-config]\n"
               "       cg-controld --config FILE --add-user NAME --role "
               "sysadmin|secadmin|auditor|operator   (password on stdin)\n"
               "       cg-controld --help-config\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, add_user, role;
  bool check_only = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--config") {
      config_path = next();
    } else if (a == "--help-config") {
      std::fputs(cg::config::config_help().c_str(), stdout);
      return 0;
    } else if (a == "--check-config") {
      check_only = true;
    } else if (a == "--add-user") {
      add_user = next();
    } else if (a == "--role") {
      role = next();
    } else {
      return usage();
    }
  }
  if (config_path.empty()) return usage();
  std::vector<std::string> errors;
  auto cfg = cg::config::load_config(config_path, &errors);
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  if (!errors.empty()) return 1;
  // Alert rules and channels: the file named by alerting.file (errors as FILE:LINE:COL).
  std::shared_ptr<const cg::alerting::AlertingConfig> alerting_cfg;
  if (!cfg.alerting_file.empty()) {
    auto loaded = cg::alerting::load_config_file(cfg.alerting_file);
    for (const auto& d : loaded.errors)
      std::fprintf(stderr, "%s\n", cg::alerting::format_diagnostic(d).c_str());
    if (!loaded.ok()) return 1;
    auto c = std::make_shared<cg::alerting::AlertingConfig>(*loaded.config);
    if (std::filesystem::path(c->delivery.queue_path).is_relative())
      c->delivery.queue_path = cfg.state_dir + "/" + c->delivery.queue_path;
    alerting_cfg = std::move(c);
  }
  if (check_only) {
    std::printf("%s: ok\n", config_path.c_str());
    return 0;
  }
  if (!cg::cp::init_crypto()) {
    std::fprintf(stderr, "cg-controld: libsodium initialisation failed\n");
    return 1;
  }

  cg::store::StoreConfig sc{cfg.store_backend, cfg.db_path(), cfg.pg_conninfo};
  std::unique_ptr<cg::store::Store> store;
  if (auto s = cg::store::open_store(sc, &store); !s) {
    std::fprintf(stderr, "cg-controld: store: %s\n", s.message().c_str());
    return 1;
  }
  cg::cp::SystemClock clock;
  cg::audit::AuditLog audit(*store, clock);
  cg::auth::Auth auth(*store, audit, clock,
                      {cfg.lockout_failures, cfg.lockout_seconds, cfg.session_ttl_s,
                       cfg.argon2_opslimit, cfg.argon2_memlimit_kib});

  if (!add_user.empty()) {
    auto r = cg::auth::parse_role(role);
    if (!r) return usage();
    std::string password;
    std::getline(std::cin, password);
    if (auto s = auth.add_user(add_user, *r, password, "local-admin"); !s) {
      std::fprintf(stderr, "cg-controld: %s\n", s.message().c_str());
      return 1;
    }
    std::printf("user %s (%s) saved\n", add_user.c_str(), role.c_str());
    return 0;
  }

  cg::dpclient::SocketDataplaneClient dp(cfg.dataplane_socket,
                                         static_cast<int>(cfg.dataplane_timeout_ms));
  cg::commit::CommitService commit(*store, audit, dp, clock,
                                   {cfg.keep_revisions, cfg.max_confirm_s, cfg.zoneinfo});
  // Quarantine: store -> dataplane (quarantine.set) and, with management.nftables, the
  // appliance's own nftables table (management-plane protection + quarantine sets).
  std::unique_ptr<cg::quarantine::RealNft> nft;
  if (cfg.mgmt_nftables) {
    cg::nft::ManagementConfig mc;
    mc.table = cfg.mgmt_table;
    mc.admin_subnets = cg::nft::split_list(cfg.mgmt_admin_subnets);
    std::string perr;
    const std::string https =
        cfg.mgmt_https_ports.empty() ? std::to_string(cfg.api_port) : cfg.mgmt_https_ports;
    if (!cg::nft::parse_ports(cfg.mgmt_ssh_ports, &mc.ssh_ports, &perr) ||
        !cg::nft::parse_ports(https, &mc.https_ports, &perr) ||
        !cg::nft::parse_ports(cfg.mgmt_snmp_ports, &mc.snmp_ports, &perr)) {
      std::fprintf(stderr, "cg-controld: management.*_ports: %s\n", perr.c_str());
      return 1;
    }
    if (mc.admin_subnets.empty()) {
      std::fprintf(stderr, "cg-controld: management.nftables needs management.admin_subnets "
                           "(otherwise nobody could reach SSH / HTTPS / SNMP)\n");
      return 1;
    }
    nft = std::make_unique<cg::quarantine::RealNft>(mc);
  }
  cg::quarantine::Service quarantine(*store, audit, dp, clock, nft.get());
  if (auto s = quarantine.start(); !s) {
    std::fprintf(stderr, "cg-controld: quarantine: %s\n", s.message().c_str());
    return 1;
  }
  std::unique_ptr<cg::events::EventIngest> ingest;
  if (cfg.events_subscribe)
    ingest = std::make_unique<cg::events::EventIngest>(
        *store,
        cg::events::IngestConfig{cfg.dataplane_socket, cfg.events_batch,
                                 static_cast<int>(cfg.events_flush_ms)},
        cfg.school_id, [&commit] { return commit.current_image(); });
  std::unique_ptr<cg::alerting::Service> alerts;
  if (alerting_cfg) {
    std::error_code ec;
    std::filesystem::create_directories(
        std::filesystem::path(alerting_cfg->delivery.queue_path).parent_path(), ec);
    std::string aerr;
    alerts = cg::alerting::Service::create(alerting_cfg, clock, aerr);
    if (!alerts) {
      std::fprintf(stderr, "cg-controld: alerting: %s\n", aerr.c_str());
      return 1;
    }
  }
  // Every stored event goes through the alert engine exactly once, in row-id order
  // (events::AlertFeed reads the store after the engine's persisted mark): the dataplane's
  // (after each committed ingest batch), controld's own (retention's budget warning), and at
  // start what was stored but not evaluated before a crash (catch-up, before the live stream).
  std::unique_ptr<cg::events::AlertFeed> alert_feed;
  if (alerts) {
    alert_feed = std::make_unique<cg::events::AlertFeed>(
        *store, [&alerts](const std::vector<cg::store::Event>& events, int64_t through) {
          std::vector<nlohmann::json> bodies;
          bodies.reserve(events.size());
          for (const auto& e : events)
            bodies.push_back(nlohmann::json::parse(e.body, nullptr, false));
          alerts->ingest_stored(bodies, through);
        });
    if (auto s = alert_feed->start(alerts->evaluated_through()); !s) {
      std::fprintf(stderr, "cg-controld: alerting: event store: %s\n", s.message().c_str());
      return 1;
    }
    alert_feed->advance();
  }
  auto to_alerts = [&alert_feed](const std::vector<cg::store::Event>&) {
    if (alert_feed) alert_feed->advance();
  };
  if (ingest && alert_feed) ingest->set_commit_hook([&alert_feed] { alert_feed->advance(); });
  cg::retention::Retention retention(
      *store, audit, clock,
      {cfg.retention_days, uint64_t{cfg.retention_disk_budget_mb} * 1024 * 1024,
       static_cast<int>(cfg.retention_batch), 10000, cfg.school_id},
      to_alerts);
  retention.set_housekeeping([&auth] { auth.expire_sessions(); });
  cg::api::Api api({*store, audit, auth, commit, dp, clock, [&ingest, &retention, &alert_feed] {
                      return (ingest ? ingest->metrics_text() : std::string()) +
                             retention.metrics_text() +
                             (alert_feed ? alert_feed->metrics_text() : std::string());
                    }});
  api.set_alerting(alerts.get());

  api.set_quarantine(&quarantine);

  std::string err;
  if (!cg::api::ensure_certificate(cfg.cert_path(), cfg.key_path(), &err)) {
    std::fprintf(stderr, "cg-controld: %s\n", err.c_str());
    return 1;
  }
  cg::api::HttpsServer server(api, cfg.cert_path(), cfg.key_path(),
                              static_cast<int>(cfg.api_threads));
  if (!server.valid()) {
    std::fprintf(stderr, "cg-controld: cannot load TLS certificate/key %s %s\n",
                 cfg.cert_path().c_str(), cfg.key_path().c_str());
    return 1;
  }
  int port = server.bind(cfg.api_listen, static_cast<int>(cfg.api_port));
  if (port < 0) {
    std::fprintf(stderr, "cg-controld: cannot listen on %s:%u\n", cfg.api_listen.c_str(),
                 cfg.api_port);
    return 1;
  }
  {
    std::ofstream pf(cfg.state_dir + "/controld.port");
    pf << port << "\n";
  }
  audit.append("controld", "controld.start", "controld",
               {{"port", port}, {"store", store->backend()}, {"pid", getpid()}});

  // Signals are taken by sigwait on the main thread only.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::atomic<bool> stop{false};
  std::mutex mu;
  std::condition_variable cv;
  std::thread reconcile([&] {
    const auto every = std::chrono::microseconds(
        static_cast<int64_t>(cfg.reconcile_interval_s * 1e6));
    std::unique_lock lock(mu);
    while (!stop) {
      lock.unlock();
      commit.tick();
      quarantine.tick();
      lock.lock();
      cv.wait_for(lock, every, [&] { return stop.load(); });
    }
  });
  std::thread http([&] { server.run(); });
  if (alerts) alerts->start();
  if (ingest) ingest->start();
  retention.start(cfg.retention_interval_s);
  std::fprintf(stderr, "cg-controld: listening on https://%s:%d (store %s, dataplane %s)\n",
               cfg.api_listen.c_str(), port, store->backend().c_str(),
               cfg.dataplane_socket.c_str());

  int sig = 0;
  sigwait(&set, &sig);
  std::fprintf(stderr, "cg-controld: signal %d, stopping\n", sig);
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  server.stop();
  http.join();
  retention.stop();
  if (ingest) ingest->stop();  // commits what it holds
  if (alerts) alerts->stop();   // pending deliveries stay queued on disk
  reconcile.join();
  audit.append("controld", "controld.stop", "controld", {{"signal", sig}});
  return 0;
}

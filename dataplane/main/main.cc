// cg-dataplane: the DPDK fast path of a campusguard school appliance.
//   cg-dataplane --config FILE                  run inline (transparent bridge inside <-> outside)
//   cg-dataplane --replay FILE.pcap --report OUT.json [--config FILE]
//   cg-dataplane --query CMD [--arg KEY=VALUE ...] [--socket PATH] [--addr A] [--limit N]
//   cg-dataplane --watch SECONDS [--socket PATH] live counters
//   cg-dataplane --load POLICY.yaml [--socket PATH]  load a policy into a running dataplane
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/main/compile_for_loader.h"
#include "dataplane/main/replay.h"
#include "dataplane/runtime/config.h"
#include "dataplane/runtime/control_server.h"
#include "dataplane/runtime/dataplane.h"
#include "policies/compiler/policy.h"

namespace {

int query(const std::string& socket, const nlohmann::json& req, bool pretty) {
  nlohmann::json resp;
  std::string err;
  if (!cg::runtime::control_request(socket, req, &resp, &err)) {
    std::fprintf(stderr, "cg-dataplane: %s\n", err.c_str());
    return 1;
  }
  std::printf("%s\n", resp.dump(pretty ? 2 : -1).c_str());
  return resp.value("ok", false) ? 0 : 1;
}

// A policy file's text; false (with a message) when it cannot be read.
bool read_policy(const std::string& path, std::string* out) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    std::fprintf(stderr, "cg-dataplane: cannot read %s\n", path.c_str());
    return false;
  }
  *out = text.str();
  return true;
}

// Two-phase load through the socket; prints the apply answer (or the diagnostics).
int load(const std::string& socket, const std::string& path) {
  std::string source;
  if (!read_policy(path, &source)) return 2;
  nlohmann::json resp;
  std::string err;
  nlohmann::json req = {{"v", cg::runtime::kControlProtocolVersion},
                        {"cmd", "policy.prepare"},
                        {"source", source},
                        {"origin", path}};
  if (!cg::runtime::control_request(socket, req, &resp, &err, 30000)) {
    std::fprintf(stderr, "cg-dataplane: %s\n", err.c_str());
    return 1;
  }
  if (!resp.value("ok", false)) {
    for (const auto& d : resp.value("diagnostics", nlohmann::json::array()))
      std::fprintf(stderr, "%s\n", d.get<std::string>().c_str());
    std::fprintf(stderr, "cg-dataplane: %s\n", resp.value("error", "").c_str());
    return 1;
  }
  req = {{"v", cg::runtime::kControlProtocolVersion},
         {"cmd", "policy.apply"},
         {"generation", resp["generation"]}};
  if (!cg::runtime::control_request(socket, req, &resp, &err, 30000)) {
    std::fprintf(stderr, "cg-dataplane: %s\n", err.c_str());
    return 1;
  }
  std::printf("%s\n", resp.dump().c_str());
  return resp.value("ok", false) ? 0 : 1;
}

int watch(const std::string& socket, double interval, int count) {
  uint64_t prev_pkts = 0, prev_bytes = 0;
  auto prev_t = std::chrono::steady_clock::now();
  for (int i = 0; count == 0 || i < count; ++i) {
    nlohmann::json r;
    std::string err;
    if (!cg::runtime::control_request(socket, {{"v", 1}, {"cmd", "stats"}}, &r, &err)) {
      std::fprintf(stderr, "cg-dataplane: %s\n", err.c_str());
      return 1;
    }
    const auto& c = r["counters"];
    auto now = std::chrono::steady_clock::now();
    double dt = std::chrono::duration<double>(now - prev_t).count();
    uint64_t pk = c.value("packets", uint64_t{0}), by = c.value("bytes", uint64_t{0});
    double pps = i ? (pk - prev_pkts) / dt : 0, bps = i ? (by - prev_bytes) * 8 / dt : 0;
    const auto& in = r["ports"]["inside"];
    const auto& out = r["ports"]["outside"];
    std::printf(
        "packets %-9lu %9.0f pps %9.3f Mbit/s | inside rx %-7lu tx %-7lu | outside rx %-7lu tx "
        "%-7lu | flows %-6lu created %-6lu | tcp %-7lu udp %-6lu icmp %-5lu non-ip %-5lu | "
        "dropped %lu\n",
        pk, pps, bps / 1e6, in.value("rx_packets", uint64_t{0}), in.value("tx_packets", uint64_t{0}),
        out.value("rx_packets", uint64_t{0}), out.value("tx_packets", uint64_t{0}),
        c.value("flows_active", uint64_t{0}), c.value("flows_created", uint64_t{0}),
        c.value("decode_tcp", uint64_t{0}), c.value("decode_udp", uint64_t{0}),
        c.value("decode_icmp", uint64_t{0}) + c.value("decode_icmpv6", uint64_t{0}),
        c.value("decode_non_ip", uint64_t{0}),
        c.value("drop_malformed", uint64_t{0}) + c.value("drop_non_ip", uint64_t{0}) +
            c.value("drop_flow_table_full", uint64_t{0}) + c.value("drop_tx_full", uint64_t{0}));
    std::fflush(stdout);
    prev_pkts = pk;
    prev_bytes = by;
    prev_t = now;
    if (count == 0 || i + 1 < count)
      std::this_thread::sleep_for(std::chrono::duration<double>(interval));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cg-dataplane - campusguard DPDK fast path (transparent inline bridge)"};
  std::string config_path, replay_path, report_path = "-", query_cmd, socket, addr, policy_path,
      load_path;
  std::vector<std::string> query_args;
  double watch_interval = 0;
  int watch_count = 0;
  uint32_t limit = 0;
  bool help_config = false, check_config = false, pretty = false;
  app.add_option("-c,--config", config_path, "YAML configuration file")->check(CLI::ExistingFile);
  app.add_option("--replay", replay_path, "run the pipeline over a capture instead of ports")
      ->check(CLI::ExistingFile);
  app.add_option("--report", report_path, "with --replay: JSON report file ('-' = stdout)")
      ->capture_default_str();
  app.add_option("--policy", policy_path,
                 "school policy YAML to enforce (live: the first generation; more through the "
                 "socket's policy.prepare / policy.apply)")
      ->check(CLI::ExistingFile);
  app.add_option("--load", load_path,
                 "load a policy into a running dataplane (policy.prepare, then policy.apply)")
      ->check(CLI::ExistingFile);
  app.add_option("--query", query_cmd,
                 "send one control-socket command to a running dataplane and print the answer "
                 "(stats, health, flows, flow, policy.status, qos, ..., shutdown; see "
                 "dataplane/runtime/README.md)");
  app.add_option("--arg", query_args,
                 "with --query: KEY=VALUE added to the request (repeatable); VALUE is taken as "
                 "JSON when it parses (30, true, [\"10.0.0.1\"]), else as a string");
  app.add_option("--socket", socket, "control socket (default: control.socket of the config)");
  app.add_option("--addr", addr, "with --query flow: the IP address whose flows to list");
  app.add_option("--limit", limit, "with --query flows/flow: how many flows");
  app.add_flag("--pretty", pretty, "with --query: indent the JSON");
  app.add_option("--watch", watch_interval, "print live counters every N seconds");
  app.add_option("--count", watch_count, "with --watch: stop after N lines (0 = forever)");
  app.add_flag("--help-config", help_config, "list every configuration key and exit");
  app.add_flag("--check-config", check_config, "validate --config and exit");
  CLI11_PARSE(app, argc, argv);

  if (help_config) {
    std::printf("cg-dataplane configuration keys (YAML; unknown keys are errors):\n%s",
                cg::runtime::config_help().c_str());
    return 0;
  }

  cg::runtime::DataplaneConfig cfg = cg::runtime::default_config();
  if (!config_path.empty()) {
    std::vector<cg::runtime::ConfigError> errors;
    cfg = cg::runtime::load_config(config_path, &errors);
    // A replay needs no ports: ignore only the "required" errors for them.
    if (!replay_path.empty() || !query_cmd.empty() || watch_interval > 0)
      std::erase_if(errors, [](const auto& e) {
        return e.message.find("ports.inside: required") != std::string::npos ||
               e.message.find("ports.outside: required") != std::string::npos;
      });
    if (!errors.empty()) {
      for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.message.c_str());
      std::fprintf(stderr, "cg-dataplane: %zu configuration error(s)\n", errors.size());
      return 2;
    }
  }
  if (check_config) {
    if (config_path.empty()) {
      std::fprintf(stderr, "cg-dataplane: --check-config needs --config\n");
      return 2;
    }
    std::printf("%s: ok\n", config_path.c_str());
    return 0;
  }
  if (socket.empty()) socket = cfg.socket;

  if (!query_cmd.empty()) {
    nlohmann::json req = {{"v", cg::runtime::kControlProtocolVersion}, {"cmd", query_cmd}};
    if (!addr.empty()) req["addr"] = addr;
    if (limit) req["limit"] = limit;
    for (const auto& kv : query_args) {
      const size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::fprintf(stderr, "cg-dataplane: --arg %s: expected KEY=VALUE\n", kv.c_str());
        return 2;
      }
      const std::string value = kv.substr(eq + 1);
      nlohmann::json v = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
      req[kv.substr(0, eq)] = v.is_discarded() ? nlohmann::json(value) : v;
    }
    return query(socket, req, pretty);
  }
  if (watch_interval > 0) return watch(socket, watch_interval, watch_count);
  if (!load_path.empty()) return load(socket, load_path);

  if (!replay_path.empty()) {
    std::shared_ptr<const cg::api::PolicyImage> policy;
    if (!policy_path.empty()) {
      auto compiled = cg::policy::compile_policy_file(policy_path);
      for (const auto& d : compiled.diagnostics)
        std::fprintf(stderr, "%s\n", cg::policy::format_diagnostic(d).c_str());
      if (!compiled.ok()) {
        std::fprintf(stderr, "cg-dataplane: %s: policy has %d error(s)\n", policy_path.c_str(),
                     compiled.error_count());
        return 2;
      }
      policy = compiled.image;
    }
    auto res = cg::replay::run(replay_path, cfg, policy);
    if (!res.ok) {
      std::fprintf(stderr, "cg-dataplane: %s: %s\n", replay_path.c_str(), res.error.c_str());
      return 1;
    }
    std::string text = res.report.dump(1) + "\n";
    if (report_path == "-") {
      std::fwrite(text.data(), 1, text.size(), stdout);
    } else {
      std::ofstream out(report_path);
      out << text;
      if (!out) {
        std::fprintf(stderr, "cg-dataplane: cannot write %s\n", report_path.c_str());
        return 1;
      }
    }
    return 0;
  }

  if (config_path.empty()) {
    std::fprintf(stderr, "cg-dataplane: --config FILE is required to run (see --help)\n");
    return 2;
  }
  cg::runtime::RunOptions opts;
  opts.compile = cg::runtime::compile_for_loader;
  if (!policy_path.empty()) {
    if (!read_policy(policy_path, &opts.policy_source)) return 2;
    opts.policy_origin = policy_path;
  }
  return cg::runtime::run_dataplane(cfg, argv[0], opts);
}

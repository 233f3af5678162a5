// cgctl compliance: the build-out check ("万兆到校、千兆到班") over a saved topology: uplinks at
// 10 Gbit/s, classroom ports at 1 Gbit/s, switch / AP counts; lists every failing port with the
// device and the reason. Exit 1 when anything fails (usable in scripts and CI).
#include <fstream>
#include <iostream>
#include <sstream>

#include "controlplane/cli/command_registry.h"
#include "snmp/topology/compliance.h"
#include "snmp/topology/model.h"

namespace cg::cli {
namespace {

struct ComplianceArgs {
  std::string from;
  std::string config;
  uint64_t uplink_mbps = 0, classroom_mbps = 0;
};

int fail(const std::string& msg, int code) {
  std::cerr << "cgctl compliance: " << msg << "\n";
  return code;
}

int run_compliance(const ComplianceArgs& a, const GlobalOptions& global) {
  snmp::ComplianceConfig config;
  if (!a.config.empty()) {
    std::ifstream in(a.config);
    if (!in) return fail("cannot read " + a.config, 2);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = snmp::parse_compliance_config(text.str());
    if (!parsed.ok()) return fail(a.config + ": " + parsed.status().message(), 2);
    config = *parsed;
  }
  if (a.uplink_mbps) config.uplink_mbps = a.uplink_mbps;
  if (a.classroom_mbps) config.classroom_mbps = a.classroom_mbps;
  auto t = snmp::load_topology_file(a.from);
  if (!t.ok()) return fail(t.status().message(), 2);
  auto report = snmp::check_compliance(*t, config);
  if (global.output == "json")
    std::cout << snmp::to_json(report, config).dump(2) << "\n";
  else
    std::cout << snmp::to_text(report, config);
  return report.ok() ? 0 : 1;
}

const CommandRegistrar kRegistrar([](CLI::App& app, GlobalOptions& global) {
  auto a = std::make_shared<ComplianceArgs>();
  auto* c = app.add_subcommand(
      "compliance", "build-out check: 10G uplinks, 1G classroom ports, switch / AP counts");
  c->add_option("--from", a->from, "topology JSON written by `topology discover --save`")
      ->required();
  c->add_option("--config", a->config,
                "YAML: uplink_mbps, classroom_mbps, expect {switches, aps}, uplinks, "
                "classrooms, ignore (see snmp/topology/README.md)");
  c->add_option("--uplink-mbps", a->uplink_mbps, "expected uplink speed (default 10000)");
  c->add_option("--classroom-mbps", a->classroom_mbps,
                "expected classroom port speed (default 1000)");
  c->callback([a, &global] {
    if (int rc = run_compliance(*a, global); rc != 0) throw CLI::RuntimeError(rc);
  });
});

}  // namespace
}  // namespace cg::cli

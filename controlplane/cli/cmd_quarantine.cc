// cgctl quarantine add ADDRESS --for 2h --reason TEXT | list | remove ADDRESS — isolate a host
// (or prefix) at once: the dataplane drops its traffic both ways and the appliance's nftables
// quarantine set drops it on the management side; it lifts itself at expiry. Changes: security
// administrator; list: security administrator, auditor, operator. controld audits every action.
#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"

namespace cg::cli {
namespace {

using nlohmann::json;

struct QuarantineArgs {
  std::string address, duration, reason;
};

// "90s", "15m", "2h", "7d", "1h30m", "45" (seconds) -> seconds; 0 on anything else.
int64_t duration_seconds(const std::string& s) {
  if (s.empty() || s.size() > 32) return 0;
  int64_t total = 0, n = 0;
  bool digits = false;
  for (char c : s) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      if (n > 100'000'000) return 0;
      digits = true;
      continue;
    }
    const int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
    if (!unit || !digits) return 0;
    total += n * unit;
    n = 0;
    digits = false;
  }
  return total + (digits ? n : 0);
}

void print_entry(const json& e) {
  std::printf("%-24s until %s (%ss left)  owner %s  since %s  reason: %s\n",
              api::str(e, "address").c_str(), api::str(e, "expires").c_str(),
              api::str(e, "remaining_seconds").c_str(), api::str(e, "owner").c_str(),
              api::str(e, "since").c_str(), api::str(e, "reason").c_str());
}

void print_pushed(const json& body) {
  const json p = body.value("pushed", json::object());
  for (const char* k : {"dataplane", "nftables"}) {
    const std::string v = api::str(p, k);
    if (v != "ok" && v != "off" && v != "-")
      std::fprintf(stderr, "cgctl: warning: %s not updated yet (%s); controld retries\n", k,
                   v.c_str());
  }
}

const CommandRegistrar kRegisterQuarantine([](CLI::App& app, GlobalOptions& global) {
  auto conn = std::make_shared<api::ConnArgs>();
  auto args = std::make_shared<QuarantineArgs>();
  auto* q = app.add_subcommand("quarantine", "isolate hosts: dataplane + appliance firewall");
  q->require_subcommand(1);

  auto* add = q->add_subcommand("add", "quarantine a host or prefix now (security administrator)");
  api::add_conn_options(add, conn);
  add->add_option("ADDRESS", args->address, "IPv4 / IPv6 address or CIDR prefix")->required();
  add->add_option("--for", args->duration, "how long, e.g. 30m, 2h, 1d, 1h30m")->required();
  add->add_option("--reason", args->reason, "why (recorded and audited)")->required();
  add->callback([conn, args, &global] {
    const int64_t secs = duration_seconds(args->duration);
    if (secs <= 0) {
      std::fprintf(stderr, "cgctl: --for expects a duration like 90s, 30m, 2h or 1d\n");
      throw CLI::RuntimeError(2);
    }
    json body = {{"address", args->address}, {"seconds", secs}, {"reason", args->reason}};
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST", "/api/v1/quarantine", &r, &body))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    print_entry(r.body);
    print_pushed(r.body);
  });

  auto* list = q->add_subcommand("list", "quarantined hosts with owner, reason and expiry");
  api::add_conn_options(list, conn);
  list->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/quarantine", &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    if (r.body["entries"].empty()) std::printf("nothing is quarantined\n");
    for (const auto& e : r.body["entries"]) print_entry(e);
  });

  auto* remove = q->add_subcommand("remove", "lift a quarantine now (security administrator)");
  api::add_conn_options(remove, conn);
  remove->add_option("ADDRESS", args->address, "the quarantined address or prefix")->required();
  remove->callback([conn, args, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "DELETE", "/api/v1/quarantine", &r, nullptr,
                             {{"address", args->address}}))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    std::printf("%s released\n", args->address.c_str());
    print_pushed(r.body);
  });
});

}  // namespace
}  // namespace cg::cli

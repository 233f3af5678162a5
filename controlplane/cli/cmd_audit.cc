// cgctl audit list | verify — the hash-chained audit log (auditor role).
#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"

namespace cg::cli {
namespace {

struct AuditArgs {
  int64_t after = 0;
  int limit = 100;
};

const CommandRegistrar kRegisterAudit([](CLI::App& app, GlobalOptions& global) {
  auto conn = std::make_shared<api::ConnArgs>();
  auto args = std::make_shared<AuditArgs>();
  auto* audit = app.add_subcommand("audit", "the audit log (auditor)");
  audit->require_subcommand(1);

  auto* list = audit->add_subcommand("list", "audit records, oldest first");
  api::add_conn_options(list, conn);
  list->add_option("--after", args->after, "only records after this sequence number");
  list->add_option("--limit", args->limit, "at most this many records (1..1000)")
      ->check(CLI::Range(1, 1000));
  list->callback([conn, args, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/audit", &r, nullptr,
                             {{"after", std::to_string(args->after)},
                              {"limit", std::to_string(args->limit)}}))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& rec : r.body["records"])
      std::printf("%6s  %s  %-10s %-16s %s %s\n", api::str(rec, "seq").c_str(),
                  api::str(rec, "time").c_str(), api::str(rec, "user").c_str(),
                  api::str(rec, "action").c_str(), api::str(rec, "object").c_str(),
                  rec["detail"].dump().c_str());
  });

  auto* verify = audit->add_subcommand("verify", "check the hash chain; exit 1 if broken");
  api::add_conn_options(verify, conn);
  verify->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/audit/verify", &r))
      throw CLI::RuntimeError(1);
    bool ok = r.body.value("ok", false);
    if (global.output == "json")
      api::print_json(r.body);
    else if (ok && r.body.value("anchor_seq", int64_t{0}) > 0)
      std::printf("audit log intact: %s records after the anchor at %s (records up to it were "
                  "pruned by retention, vouched for by the audit.prune record)\n",
                  api::str(r.body, "records").c_str(), api::str(r.body, "anchor_seq").c_str());
    else if (ok)
      std::printf("audit log intact: %s records\n", api::str(r.body, "records").c_str());
    else
      std::printf("AUDIT LOG TAMPERED: %s\n", api::str(r.body, "problem").c_str());
    if (!ok) throw CLI::RuntimeError(1);
  });
});

}  // namespace
}  // namespace cg::cli

// cgctl events query | counts — stored security events (secadmin, operator). Every query is
// recorded in the audit log by controld.
#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"

namespace cg::cli {
namespace {

struct EventArgs {
  std::string from, to, type, address, app, rule, cursor;
  int severity = 0;
  int limit = 100;
  int64_t bucket = 3600;
};

std::map<std::string, std::string> query_of(const EventArgs& a) {
  std::map<std::string, std::string> q;
  auto put = [&q](const char* k, const std::string& v) {
    if (!v.empty()) q[k] = v;
  };
  put("from", a.from);
  put("to", a.to);
  put("type", a.type);
  put("address", a.address);
  put("app", a.app);
  put("rule", a.rule);
  put("cursor", a.cursor);
  if (a.severity) q["severity"] = std::to_string(a.severity);
  return q;
}

void add_filters(CLI::App* c, const std::shared_ptr<EventArgs>& a) {
  c->add_option("--from", a->from, "RFC 3339 start (inclusive)");
  c->add_option("--to", a->to, "RFC 3339 end (exclusive)");
  c->add_option("--type", a->type, "event_type (alert, anomaly, policy, ...)");
  c->add_option("--severity", a->severity, "severity 1..N (1 = highest)")
      ->check(CLI::Range(1, 4));
  c->add_option("--address", a->address, "source or destination address");
  c->add_option("--app", a->app, "application (app_proto)");
  c->add_option("--rule", a->rule, "policy rule or detector");
}

const CommandRegistrar kRegisterEvents([](CLI::App& app, GlobalOptions& global) {
  auto conn = std::make_shared<api::ConnArgs>();
  auto args = std::make_shared<EventArgs>();
  auto* events = app.add_subcommand("events", "stored security events");
  events->require_subcommand(1);

  auto* query = events->add_subcommand("query", "events, newest first, one page");
  api::add_conn_options(query, conn);
  add_filters(query, args);
  query->add_option("--limit", args->limit, "page size 1..1000")->check(CLI::Range(1, 1000));
  query->add_option("--cursor", args->cursor, "next_cursor of the previous page");
  query->callback([conn, args, &global] {
    auto q = query_of(*args);
    q["limit"] = std::to_string(args->limit);
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/events", &r, nullptr, q))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& e : r.body["events"]) {
      std::string sig = e.contains("alert") && e["alert"].is_object()
                            ? api::str(e["alert"], "signature")
                            : api::str(e, "rule");
      std::printf("%s  %-8s %s:%s -> %s:%s %s %s\n", api::str(e, "timestamp").c_str(),
                  api::str(e, "event_type").c_str(), api::str(e, "src_ip").c_str(),
                  api::str(e, "src_port").c_str(), api::str(e, "dest_ip").c_str(),
                  api::str(e, "dest_port").c_str(), api::str(e, "app_proto").c_str(),
                  sig.c_str());
    }
    if (!r.body["next_cursor"].is_null())
      std::printf("more: --cursor %s\n", r.body["next_cursor"].get<std::string>().c_str());
  });

  auto* counts = events->add_subcommand("counts", "event counts per time bucket");
  api::add_conn_options(counts, conn);
  add_filters(counts, args);
  counts->add_option("--bucket", args->bucket, "bucket width in seconds")->capture_default_str();
  counts->callback([conn, args, &global] {
    auto q = query_of(*args);
    q["bucket"] = std::to_string(args->bucket);
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/events/counts", &r,
                             nullptr, q))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& b : r.body["buckets"])
      std::printf("%s  %s\n", api::str(b, "start").c_str(), api::str(b, "count").c_str());
  });
});

}  // namespace
}  // namespace cg::cli

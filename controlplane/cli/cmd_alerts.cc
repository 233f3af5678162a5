// cgctl alerts list | show | ack | silence | silences | unsilence — alerts raised by controld's
// alert engine and the silences (maintenance windows) that hold them back. Reads: security
// administrator, auditor, operator; ack and silences: security administrator. controld audits
// every change (and every alert query).
#include <ctime>

#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"

namespace cg::cli {
namespace {

using nlohmann::json;

struct AlertArgs {
  std::string state, severity, rule, since, comment;
  uint64_t before = 0;
  int limit = 100;
  uint64_t id = 0;
  // silence
  std::vector<std::string> match, rules;
  std::string duration, reason, owner, silence_id, starts;
};

// "90s", "30m", "2h", "7d" -> seconds; 0 on anything else.
int64_t parse_duration_s(const std::string& s) {
  if (s.size() < 2) return 0;
  int64_t unit = 0;
  switch (s.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return 0;
  }
  int64_t n = 0;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9' || n > 100'000'000) return 0;
    n = n * 10 + (s[i] - '0');
  }
  return n * unit;
}

std::string rfc3339_utc(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// --match FIELD=VALUE: an address prefix (contains '/') matches by CIDR, anything else by
// equality; the same field twice means one of the values.
bool build_match(const std::vector<std::string>& items, json* out, std::string* err) {
  *out = json::object();
  for (const auto& m : items) {
    size_t eq = m.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
      *err = "--match expects FIELD=VALUE, got '" + m + "'";
      return false;
    }
    std::string k = m.substr(0, eq), v = m.substr(eq + 1);
    json& f = (*out)[k];
    const char* op = v.find('/') != std::string::npos ? "cidr" : "in";
    if (f.is_null()) f = json::object();
    f[op].push_back(v);
  }
  return true;
}

void print_alert_line(const json& a) {
  std::printf("%6s  %-8s %-8s %-14s %s  events %s  %s\n", api::str(a, "id").c_str(),
              api::str(a, "state").c_str(), api::str(a, "severity").c_str(),
              api::str(a, "rule").c_str(), api::str(a, "last_seen").c_str(),
              api::str(a, "events").c_str(), api::str(a, "summary").c_str());
}

void print_silence_line(const json& s) {
  std::printf("%-24s until %s  owner %s  rules %s  match %s  (%s)\n", api::str(s, "id").c_str(),
              api::str(s, "ends").c_str(), api::str(s, "owner").c_str(),
              s.value("rules", json::array()).dump().c_str(),
              s.value("match", json::object()).dump().c_str(), api::str(s, "reason").c_str());
}

const CommandRegistrar kRegisterAlerts([](CLI::App& app, GlobalOptions& global) {
  auto conn = std::make_shared<api::ConnArgs>();
  auto args = std::make_shared<AlertArgs>();
  auto* alerts = app.add_subcommand("alerts", "alerts and silences (maintenance windows)");
  alerts->require_subcommand(1);

  auto* list = alerts->add_subcommand("list", "alerts, newest first, one page");
  api::add_conn_options(list, conn);
  list->add_option("--state", args->state, "open, acked or silenced")
      ->check(CLI::IsMember({"open", "acked", "silenced"}));
  list->add_option("--severity", args->severity, "at least this severity")
      ->check(CLI::IsMember({"info", "low", "medium", "high", "critical"}));
  list->add_option("--rule", args->rule, "alert rule name");
  list->add_option("--since", args->since, "RFC 3339: last seen at or after");
  list->add_option("--before", args->before, "next_before of the previous page");
  list->add_option("--limit", args->limit, "page size 1..1000")->check(CLI::Range(1, 1000));
  list->callback([conn, args, &global] {
    std::map<std::string, std::string> q = {{"limit", std::to_string(args->limit)}};
    if (!args->state.empty()) q["state"] = args->state;
    if (!args->severity.empty()) q["severity"] = args->severity;
    if (!args->rule.empty()) q["rule"] = args->rule;
    if (!args->since.empty()) q["since"] = args->since;
    if (args->before) q["before"] = std::to_string(args->before);
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/alerts", &r, nullptr, q))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& a : r.body["alerts"]) print_alert_line(a);
    if (!r.body["next_before"].is_null())
      std::printf("more: --before %s\n", r.body["next_before"].dump().c_str());
  });

  auto* show = alerts->add_subcommand("show", "one alert with its event and deliveries");
  api::add_conn_options(show, conn);
  show->add_option("ID", args->id, "alert id")->required();
  show->callback([conn, args, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET",
                             "/api/v1/alerts/" + std::to_string(args->id), &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    print_alert_line(r.body);
    for (const auto& d : r.body["deliveries"])
      std::printf("  -> %-14s %-9s attempts %s  %s\n", api::str(d, "channel").c_str(),
                  api::str(d, "state").c_str(), api::str(d, "attempts").c_str(),
                  api::str(d, "last_error").c_str());
    std::printf("  event: %s\n", r.body["event"].dump().c_str());
  });

  auto* ack = alerts->add_subcommand("ack", "acknowledge an alert (security administrator)");
  api::add_conn_options(ack, conn);
  ack->add_option("ID", args->id, "alert id")->required();
  ack->add_option("--comment", args->comment, "what was done");
  ack->callback([conn, args, &global] {
    json body = {{"comment", args->comment}};
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST",
                             "/api/v1/alerts/" + std::to_string(args->id) + "/ack", &r, &body))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    std::printf("alert %s acknowledged by %s\n", api::str(r.body, "id").c_str(),
                api::str(r.body, "acked_by").c_str());
  });

  auto* silence = alerts->add_subcommand(
      "silence", "hold back matching alerts for a while (security administrator)");
  api::add_conn_options(silence, conn);
  silence->add_option("--match", args->match, "FIELD=VALUE (repeatable; VALUE with / = CIDR)");
  silence->add_option("--rule", args->rules, "only these alert rules (repeatable)");
  silence->add_option("--for", args->duration, "how long, e.g. 90m, 2h, 3d")->required();
  silence->add_option("--reason", args->reason, "why (recorded with the silence)")->required();
  silence->add_option("--owner", args->owner, "who answers for it (default: you)");
  silence->add_option("--id", args->silence_id, "silence id (default: generated)");
  silence->callback([conn, args, &global] {
    int64_t secs = parse_duration_s(args->duration);
    if (secs <= 0) {
      std::fprintf(stderr, "cgctl: --for expects a duration like 90m, 2h or 3d\n");
      throw CLI::RuntimeError(2);
    }
    json body = {{"reason", args->reason},
                 {"ends", rfc3339_utc(std::time(nullptr) + static_cast<std::time_t>(secs))}};
    std::string err;
    if (!args->match.empty() && !build_match(args->match, &body["match"], &err)) {
      std::fprintf(stderr, "cgctl: %s\n", err.c_str());
      throw CLI::RuntimeError(2);
    }
    if (!args->rules.empty()) body["rules"] = args->rules;
    if (!args->owner.empty()) body["owner"] = args->owner;
    if (!args->silence_id.empty()) body["id"] = args->silence_id;
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST", "/api/v1/silences", &r, &body))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    print_silence_line(r.body);
  });

  auto* silences = alerts->add_subcommand("silences", "active and future silences");
  api::add_conn_options(silences, conn);
  silences->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/silences", &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& s : r.body["silences"]) print_silence_line(s);
  });

  auto* unsilence = alerts->add_subcommand("unsilence", "remove a silence (security administrator)");
  api::add_conn_options(unsilence, conn);
  unsilence->add_option("ID", args->silence_id, "silence id")->required();
  unsilence->callback([conn, args, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "DELETE",
                             "/api/v1/silences/" + args->silence_id, &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    std::printf("silence %s removed\n", args->silence_id.c_str());
  });
});

}  // namespace
}  // namespace cg::cli

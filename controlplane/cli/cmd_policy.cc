// cgctl policy validate|compile|schema — offline policy tooling (no controld needed).
// cgctl policy apply|confirm|status|history|show|diff|rollback — safe commits through
//   cg-controld's REST API (see controlplane/commit):
//   cgctl policy apply FILE [--comment TEXT] [--confirm SECONDS]
//   cgctl policy confirm            keep a change made with --confirm
//   cgctl policy history [--limit N] / show N / diff A B / rollback N [--confirm SECONDS]
//   cgctl policy validate FILE...      errors as FILE:LINE:COL: error: PATH: message; exit 1 on any
//   cgctl -o json policy validate ...  one JSON document {valid, files[], summary}
//   cgctl policy compile FILE          compiled PolicyImage summary (JSON; text prints a digest)
//   cgctl policy schema                the JSON Schema generated from the key declarations
#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <fstream>
#include <sstream>

#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"
#include "policies/compiler/policy.h"

namespace cg::cli {
namespace {

struct PolicyArgs {
  std::vector<std::string> files;
  std::string file;
  uint64_t generation = 1;
  std::string zoneinfo;
  bool quiet_warnings = false;
};

void print_text(const std::string& file, const policy::CompileResult& r, bool warnings) {
  for (const auto& d : r.diagnostics) {
    if (d.severity == policy::DiagSeverity::kWarning && !warnings) continue;
    std::fprintf(stderr, "%s\n", policy::format_diagnostic(d).c_str());
  }
}

int run_validate(const PolicyArgs& a, const GlobalOptions& g) {
  policy::CompileOptions opt;
  opt.zoneinfo_dir = a.zoneinfo;
  std::vector<std::pair<std::string, policy::CompileResult>> results;
  int errors = 0, warnings = 0, bad_files = 0;
  for (const auto& f : a.files) {
    auto r = policy::compile_policy_file(f, opt);
    errors += r.error_count();
    warnings += r.warning_count();
    if (!r.ok()) ++bad_files;
    if (g.output != "json") {
      print_text(f, r, !a.quiet_warnings);
      if (r.ok())
        std::printf("%s: valid (%zu rules, %d warning%s)\n", f.c_str(), r.image->rules.size(),
                    r.warning_count(), r.warning_count() == 1 ? "" : "s");
    }
    results.emplace_back(f, std::move(r));
  }
  if (g.output == "json") {
    std::fputs(policy::diagnostics_json(results).c_str(), stdout);
  } else {
    std::printf("%zu file%s checked: %d valid, %d invalid; %d error%s, %d warning%s\n",
                a.files.size(), a.files.size() == 1 ? "" : "s",
                static_cast<int>(a.files.size()) - bad_files, bad_files, errors,
                errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
  }
  return errors > 0 ? 1 : 0;
}

int run_compile(const PolicyArgs& a, const GlobalOptions& g) {
  policy::CompileOptions opt;
  opt.zoneinfo_dir = a.zoneinfo;
  opt.generation = a.generation;
  auto r = policy::compile_policy_file(a.file, opt);
  print_text(a.file, r, !a.quiet_warnings);
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %d error%s, not compiled\n", a.file.c_str(), r.error_count(),
                 r.error_count() == 1 ? "" : "s");
    return 1;
  }
  const auto& im = *r.image;
  if (g.output == "json") {
    std::fputs(policy::image_summary_json(im).c_str(), stdout);
  } else {
    std::printf("%s: generation %llu, digest %016llx\n", a.file.c_str(),
                static_cast<unsigned long long>(im.generation),
                static_cast<unsigned long long>(im.source_digest));
    std::printf("  school %s (%s), timezone %s (%zu offset entries)\n", im.school_id.c_str(),
                im.school_name.c_str(), im.timezone.name.c_str(), im.timezone.starts.size());
    std::printf("  %zu zones, %zu schedules, %zu app groups, %zu rules, default %s\n",
                im.zones.size(), im.schedules.size(), im.apps.size(), im.rules.size(),
                im.default_action == api::Action::kDeny  ? "deny"
                : im.default_action == api::Action::kLog ? "log"
                                                         : "allow");
  }
  return 0;
}

struct RemoteArgs {
  std::string file, comment;
  uint32_t confirm = 0;
  int64_t a = 0, b = 0, revision = 0;
  int limit = 20;
};

void print_apply(const api::RestResult& r, const GlobalOptions& g) {
  if (g.output == "json") return api::print_json(r.body);
  for (const auto& d : r.body["diagnostics"])
    if (d.is_string()) std::fprintf(stderr, "%s\n", d.get<std::string>().c_str());
  std::printf("revision %s applied as dataplane generation %s (%s rules)\n",
              api::str(r.body, "revision").c_str(), api::str(r.body, "generation").c_str(),
              api::str(r.body, "rules").c_str());
  if (!r.body["confirm_deadline"].is_null())
    std::printf("reverts at %s unless confirmed: cgctl policy confirm\n",
                r.body["confirm_deadline"].get<std::string>().c_str());
}

void install_remote(CLI::App* policy, GlobalOptions& global) {
  auto conn = std::make_shared<api::ConnArgs>();
  auto a = std::make_shared<RemoteArgs>();

  auto* apply = policy->add_subcommand("apply", "validate, push to the dataplane, record a revision");
  api::add_conn_options(apply, conn);
  apply->add_option("file", a->file, "policy YAML file")->required()->check(CLI::ExistingFile);
  apply->add_option("--comment", a->comment, "why (kept with the revision)");
  apply->add_option("--confirm", a->confirm,
                    "revert by itself unless 'policy confirm' comes within SECONDS");
  apply->callback([conn, a, &global] {
    std::ifstream in(a->file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    nlohmann::json body = {{"source", ss.str()},
                           {"origin", std::filesystem::path(a->file).filename().string()},
                           {"comment", a->comment}};
    if (a->confirm) body["confirm_seconds"] = a->confirm;
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST", "/api/v1/policy/apply", &r, &body))
      throw CLI::RuntimeError(1);
    print_apply(r, global);
  });

  auto* confirm = policy->add_subcommand("confirm", "keep the change made with --confirm");
  api::add_conn_options(confirm, conn);
  confirm->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST", "/api/v1/policy/confirm", &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    std::printf("revision %s confirmed\n", api::str(r.body, "revision").c_str());
  });

  auto* status = policy->add_subcommand("status", "current revision, pending confirm, dataplane");
  api::add_conn_options(status, conn);
  status->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/policy", &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    const auto& rev = r.body["revision"];
    if (rev.is_null())
      std::printf("no revision applied yet\n");
    else
      std::printf("revision %s by %s at %s (%s): %s\n", api::str(rev, "number").c_str(),
                  api::str(rev, "user").c_str(), api::str(rev, "created").c_str(),
                  api::str(rev, "action").c_str(), api::str(rev, "comment").c_str());
    if (!r.body["pending"].is_null())
      std::printf("awaiting confirmation until %s (reverts to revision %s)\n",
                  api::str(r.body["pending"], "deadline").c_str(),
                  api::str(r.body["pending"], "revert_to").c_str());
    const auto& dp = r.body["dataplane"];
    if (!dp.value("reachable", false))
      std::printf("dataplane unreachable: %s\n", api::str(dp, "error").c_str());
    else
      std::printf("dataplane generation %s, %s\n", api::str(dp, "generation").c_str(),
                  dp.value("in_sync", false) ? "in sync" : "NOT in sync");
  });

  auto* history = policy->add_subcommand("history", "revisions, newest first");
  api::add_conn_options(history, conn);
  history->add_option("--limit", a->limit, "how many")->capture_default_str();
  history->callback([conn, a, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/policy/revisions", &r,
                             nullptr, {{"limit", std::to_string(a->limit)}}))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& v : r.body["revisions"])
      std::printf("%5s  %s  %-10s %-8s gen %-4s %s  %s\n", api::str(v, "number").c_str(),
                  api::str(v, "created").c_str(), api::str(v, "user").c_str(),
                  api::str(v, "action").c_str(), api::str(v, "generation").c_str(),
                  api::str(v, "origin").c_str(), api::str(v, "comment").c_str());
  });

  auto* show = policy->add_subcommand("show", "print the policy text of a revision");
  api::add_conn_options(show, conn);
  show->add_option("revision", a->revision, "revision number")->required();
  show->callback([conn, a, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET",
                             "/api/v1/policy/revisions/" + std::to_string(a->revision), &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    std::fputs(r.body.value("source", "").c_str(), stdout);
  });

  auto* diff = policy->add_subcommand("diff", "unified diff between two revisions");
  api::add_conn_options(diff, conn);
  diff->add_option("a", a->a, "older revision")->required();
  diff->add_option("b", a->b, "newer revision")->required();
  diff->callback([conn, a, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/policy/diff", &r, nullptr,
                             {{"a", std::to_string(a->a)}, {"b", std::to_string(a->b)}}))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    std::fputs(r.body.value("diff", "").c_str(), stdout);
  });

  auto* rollback = policy->add_subcommand("rollback", "re-apply exactly what revision N was");
  api::add_conn_options(rollback, conn);
  rollback->add_option("revision", a->revision, "revision number")->required();
  rollback->add_option("--comment", a->comment, "why");
  rollback->add_option("--confirm", a->confirm, "revert unless confirmed within SECONDS");
  rollback->callback([conn, a, &global] {
    nlohmann::json body = {{"revision", a->revision}, {"comment", a->comment}};
    if (a->confirm) body["confirm_seconds"] = a->confirm;
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST", "/api/v1/policy/rollback", &r,
                             &body))
      throw CLI::RuntimeError(1);
    print_apply(r, global);
  });
}

const CommandRegistrar kRegisterPolicy([](CLI::App& app, GlobalOptions& global) {
  auto* policy = app.add_subcommand("policy", "school policy: offline tools and safe commits");
  policy->require_subcommand(1);
  auto args = std::make_shared<PolicyArgs>();

  auto* validate = policy->add_subcommand("validate", "check policy files; exit 1 on any error");
  validate->add_option("files", args->files, "policy YAML files")
      ->required()
      ->check(CLI::ExistingFile);
  validate->add_option("--zoneinfo", args->zoneinfo,
                       "tzdata directory (default TZDIR or "
                       "/usr/share/zoneinfo)");
  validate->add_flag("--no-warnings", args->quiet_warnings, "print errors only");
  validate->callback([args, &global] {
    if (int rc = run_validate(*args, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto* compile = policy->add_subcommand("compile", "compile one policy and print the image");
  compile->add_option("file", args->file, "policy YAML file")->required()->check(CLI::ExistingFile);
  compile->add_option("--generation", args->generation, "generation number for the image")
      ->capture_default_str();
  compile->add_option("--zoneinfo", args->zoneinfo, "tzdata directory");
  compile->add_flag("--no-warnings", args->quiet_warnings, "print errors only");
  compile->callback([args, &global] {
    if (int rc = run_compile(*args, global); rc != 0) throw CLI::RuntimeError(rc);
  });

  auto* schema = policy->add_subcommand("schema", "print the policy JSON Schema");
  schema->callback([] { std::fputs(policy::policy_json_schema_text().c_str(), stdout); });

  install_remote(policy, global);
});

}  // namespace
}  // namespace cg::cli

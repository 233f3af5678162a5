// cgctl policy validate|compile|schema — offline policy tooling (no controld needed).
//   cgctl policy validate FILE...      errors as FILE:LINE:COL: error: PATH: message; exit 1 on any
//   cgctl -o json policy validate ...  one JSON document {valid, files[], summary}
//   cgctl policy compile FILE          compiled PolicyImage summary (JSON; text prints a digest)
//   cgctl policy schema                the JSON Schema generated from the key declarations
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

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

const CommandRegistrar kRegisterPolicy([](CLI::App& app, GlobalOptions& global) {
  auto* policy = app.add_subcommand("policy", "school policy tools (offline)");
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
});

}  // namespace
}  // namespace cg::cli

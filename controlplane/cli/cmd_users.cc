// cgctl users list | add — local accounts (sysadmin). add reads the password from stdin.
#include <iostream>

#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"

namespace cg::cli {
namespace {

struct UserArgs {
  std::string name, role;
};

const CommandRegistrar kRegisterUsers([](CLI::App& app, GlobalOptions& global) {
  auto conn = std::make_shared<api::ConnArgs>();
  auto args = std::make_shared<UserArgs>();
  auto* users = app.add_subcommand("users", "local accounts (sysadmin)");
  users->require_subcommand(1);

  auto* list = users->add_subcommand("list", "accounts and roles");
  api::add_conn_options(list, conn);
  list->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/users", &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json") return api::print_json(r.body);
    for (const auto& u : r.body["users"])
      std::printf("%-20s %-9s %s\n", api::str(u, "name").c_str(), api::str(u, "role").c_str(),
                  u.value("locked", false) ? "LOCKED" : "");
  });

  auto* add = users->add_subcommand("add", "create or update an account (password on stdin)");
  api::add_conn_options(add, conn);
  add->add_option("name", args->name, "user name")->required();
  add->add_option("--role", args->role, "sysadmin | secadmin | auditor | operator")
      ->required()
      ->check(CLI::IsMember({"sysadmin", "secadmin", "auditor", "operator"}));
  add->callback([conn, args, &global] {
    std::string password;
    std::getline(std::cin, password);
    nlohmann::json body = {{"name", args->name}, {"role", args->role}, {"password", password}};
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "POST", "/api/v1/users", &r, &body))
      throw CLI::RuntimeError(1);
    if (global.output == "json")
      api::print_json(r.body);
    else
      std::printf("user %s (%s) saved\n", args->name.c_str(), args->role.c_str());
  });
});

}  // namespace
}  // namespace cg::cli

// cgctl login | logout | whoami — a session with cg-controld's REST API.
//   cgctl login --server https://HOST:8443 --user NAME [--cacert PEM | --insecure]
//     password from the terminal's stdin (first line); saves server + token for later commands.
#include <iostream>

#include "controlplane/api/cli_support.h"
#include "controlplane/cli/command_registry.h"

namespace cg::cli {
namespace {

using api::ConnArgs;

const CommandRegistrar kRegisterSession([](CLI::App& app, GlobalOptions& global) {
  auto conn = std::make_shared<ConnArgs>();
  auto user = std::make_shared<std::string>();

  auto* login = app.add_subcommand("login", "log in to cg-controld (password on stdin)");
  api::add_conn_options(login, conn);
  login->add_option("--user", *user, "user name")->required();
  login->callback([conn, user, &global] {
    api::Connection c = api::connection(*conn);
    c.token.clear();
    std::string password;
    std::getline(std::cin, password);
    nlohmann::json body = {{"user", *user}, {"password", password}};
    api::RestResult r;
    if (!api::call_or_report(c, "POST", "/api/v1/login", &r, &body)) throw CLI::RuntimeError(1);
    c.token = r.body.value("token", "");
    c.user = *user;
    std::string err;
    if (!api::save_connection(c, &err)) {
      std::fprintf(stderr, "cgctl: %s\n", err.c_str());
      throw CLI::RuntimeError(1);
    }
    if (global.output == "json") {
      nlohmann::json out = r.body;
      out.erase("token");
      out.erase("csrf_token");
      api::print_json(out);
    } else {
      std::printf("logged in as %s (%s) until %s\n", api::str(r.body, "user").c_str(),
                  api::str(r.body, "role").c_str(), api::str(r.body, "expires").c_str());
    }
  });

  auto* logout = app.add_subcommand("logout", "end the saved session");
  api::add_conn_options(logout, conn);
  logout->callback([conn, &global] {
    api::Connection c = api::connection(*conn);
    api::RestResult r;
    if (!api::call_or_report(c, "POST", "/api/v1/logout", &r)) throw CLI::RuntimeError(1);
    c.token.clear();
    std::string err;
    api::save_connection(c, &err);
    if (global.output == "json")
      api::print_json(r.body);
    else
      std::printf("logged out\n");
  });

  auto* whoami = app.add_subcommand("whoami", "show the saved session's user and role");
  api::add_conn_options(whoami, conn);
  whoami->callback([conn, &global] {
    api::RestResult r;
    if (!api::call_or_report(api::connection(*conn), "GET", "/api/v1/whoami", &r))
      throw CLI::RuntimeError(1);
    if (global.output == "json")
      api::print_json(r.body);
    else
      std::printf("%s (%s), session until %s\n", api::str(r.body, "user").c_str(),
                  api::str(r.body, "role").c_str(), api::str(r.body, "expires").c_str());
  });
});

}  // namespace
}  // namespace cg::cli

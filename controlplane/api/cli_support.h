// Helpers shared by cgctl's REST subcommands (controlplane/cli/cmd_*.cc): connection options,
// the call + error reporting + exit code convention (0 ok, 1 the server said no / unreachable,
// 2 usage), and -o json output.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>

#include "controlplane/api/rest_client.h"

namespace cg::api {

struct ConnArgs {
  std::string server, cacert;
  bool insecure = false;
};

inline void add_conn_options(CLI::App* cmd, const std::shared_ptr<ConnArgs>& a) {
  cmd->add_option("--server", a->server, "controld URL, https://HOST:PORT (default: saved by login)");
  cmd->add_option("--cacert", a->cacert, "PEM certificate to verify the server with");
  cmd->add_flag("--insecure", a->insecure, "do not verify the server certificate");
}

inline Connection connection(const ConnArgs& a) {
  Connection c = load_connection();
  if (!a.server.empty()) c.server = a.server;
  if (!a.cacert.empty()) c.cacert = a.cacert;
  if (a.insecure) c.insecure = true;
  return c;
}

// Performs the call; on failure prints the error (and diagnostics) to stderr and returns false.
inline bool call_or_report(const Connection& c, const std::string& method, const std::string& path,
                           RestResult* r, const nlohmann::json* body = nullptr,
                           const std::map<std::string, std::string>& query = {}) {
  *r = rest_call(c, method, path, body, query);
  if (r->status >= 200 && r->status < 300) return true;
  if (r->status == 0) {
    std::fprintf(stderr, "cgctl: %s\n", r->error.c_str());
    return false;
  }
  std::string msg = r->body.is_object() ? r->body.value("error", r->text) : r->text;
  std::fprintf(stderr, "cgctl: %s %s: HTTP %d: %s\n", method.c_str(), path.c_str(), r->status,
               msg.c_str());
  if (r->status == 401) std::fprintf(stderr, "cgctl: log in first: cgctl login --server URL\n");
  if (r->body.is_object() && r->body.contains("diagnostics"))
    for (const auto& d : r->body["diagnostics"])
      if (d.is_string()) std::fprintf(stderr, "%s\n", d.get<std::string>().c_str());
  return false;
}

inline void print_json(const nlohmann::json& j) { std::printf("%s\n", j.dump(2).c_str()); }

inline std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "-";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

}  // namespace cg::api

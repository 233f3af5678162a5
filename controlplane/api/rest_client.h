// cgctl's side of the REST API: the saved connection (server URL, CA certificate, session
// token; written by `cgctl login` to $CGCTL_CONFIG or ~/.config/campusguard/cgctl.json, mode
// 0600) and one-call-per-request HTTPS with cpp-httplib.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace cg::api {

struct Connection {
  std::string server;  // https://host:port
  std::string cacert;  // PEM file to verify the server with ("" + insecure = no verification)
  bool insecure = false;
  std::string token;
  std::string user;
};

std::string connection_file();
// Reads the saved connection, then applies CGCTL_SERVER / CGCTL_TOKEN / CGCTL_CACERT.
Connection load_connection();
bool save_connection(const Connection& c, std::string* error);

struct RestResult {
  int status = 0;  // HTTP status; 0 = transport error (message in error)
  nlohmann::json body;
  std::string text;  // raw body
  std::string error;
};

RestResult rest_call(const Connection& c, const std::string& method, const std::string& path,
                     const nlohmann::json* body = nullptr,
                     const std::map<std::string, std::string>& query = {});

}  // namespace cg::api

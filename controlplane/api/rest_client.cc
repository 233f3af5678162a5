#include "controlplane/api/rest_client.h"

#include <httplib.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace cg::api {

std::string connection_file() {
  if (const char* p = std::getenv("CGCTL_CONFIG"); p && *p) return p;
  const char* home = std::getenv("HOME");
  return std::string(home && *home ? home : "/root") + "/.config/campusguard/cgctl.json";
}

Connection load_connection() {
  Connection c;
  std::ifstream in(connection_file());
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto j = nlohmann::json::parse(ss.str(), nullptr, false);
    if (j.is_object()) {
      c.server = j.value("server", "");
      c.cacert = j.value("cacert", "");
      c.insecure = j.value("insecure", false);
      c.token = j.value("token", "");
      c.user = j.value("user", "");
    }
  }
  if (const char* s = std::getenv("CGCTL_SERVER"); s && *s) c.server = s;
  if (const char* s = std::getenv("CGCTL_TOKEN"); s && *s) c.token = s;
  if (const char* s = std::getenv("CGCTL_CACERT"); s && *s) c.cacert = s;
  return c;
}

bool save_connection(const Connection& c, std::string* error) {
  std::string path = connection_file();
  std::error_code ec;
  if (auto dir = std::filesystem::path(path).parent_path(); !dir.empty())
    std::filesystem::create_directories(dir, ec);
  mode_t old = umask(077);
  std::ofstream out(path, std::ios::trunc);
  umask(old);
  if (!out) {
    *error = "cannot write " + path;
    return false;
  }
  out << nlohmann::json({{"server", c.server},
                         {"cacert", c.cacert},
                         {"insecure", c.insecure},
                         {"token", c.token},
                         {"user", c.user}})
             .dump(2)
      << "\n";
  return static_cast<bool>(out);
}

RestResult rest_call(const Connection& c, const std::string& method, const std::string& path,
                     const nlohmann::json* body, const std::map<std::string, std::string>& query) {
  RestResult r;
  if (c.server.rfind("https://", 0) != 0) {
    r.error = "no server (use --server https://HOST:PORT or cgctl login)";
    return r;
  }
  httplib::Client cli(c.server);
  cli.set_connection_timeout(5, 0);
  cli.set_read_timeout(60, 0);
  if (!c.cacert.empty())
    cli.set_ca_cert_path(c.cacert.c_str());
  if (c.insecure && c.cacert.empty()) cli.enable_server_certificate_verification(false);
  httplib::Headers headers;
  if (!c.token.empty()) headers.emplace("Authorization", "Bearer " + c.token);
  httplib::Params params(query.begin(), query.end());
  std::string full = httplib::append_query_params(path, params);
  if (method != "GET" && method != "POST" && method != "DELETE") {
    r.error = "unsupported method " + method;
    return r;
  }
  std::string payload = body ? body->dump() : "{}";
  httplib::Result res = method == "GET"      ? cli.Get(full, headers)
                        : method == "DELETE" ? cli.Delete(full, headers)
                                             : cli.Post(full, headers, payload, "application/json");
  if (!res) {
    r.error = "cannot reach " + c.server + ": " + httplib::to_string(res.error());
    if (res.error() == httplib::Error::SSLServerVerification)
      r.error += " (pass --cacert with the server's certificate, or --insecure)";
    return r;
  }
  r.status = res->status;
  r.text = res->body;
  r.body = nlohmann::json::parse(res->body, nullptr, false);
  if (r.body.is_discarded()) r.body = nullptr;
  return r;
}

}  // namespace cg::api

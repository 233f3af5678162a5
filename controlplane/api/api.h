// The REST API of cg-controld, independent of the HTTP library: a route table (method, path
// pattern, roles allowed — each endpoint declared exactly once, in api.cc) and handle(), which
// authenticates (Bearer token or session cookie + CSRF header for unsafe methods), authorises by
// role and dispatches. https_server.cc feeds it from cpp-httplib; unit tests call it directly.
// controlplane/api/openapi.yaml documents the same routes (a test keeps them in step).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controlplane/audit/audit_log.h"
#include "controlplane/auth/auth.h"
#include "controlplane/commit/commit_service.h"
#include "controlplane/dpclient/dataplane_client.h"
#include "controlplane/store/store.h"

namespace cg::alerting {
class Service;
}

namespace cg::quarantine {
class Service;
}

namespace cg::api {

struct HttpRequest {
  std::string method;  // GET, POST, ...
  std::string path;
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;
  std::string peer;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Context {
  const HttpRequest& req;
  const auth::Session& session;          // empty user for public routes
  std::map<std::string, std::string> params;  // {name} path segments
};

struct Route {
  std::string method;
  std::string pattern;  // /api/v1/policy/revisions/{number}
  auth::RoleMask roles;  // 0 = public (no session needed)
  std::function<HttpResponse(Context&)> handler;
};

// Counters owned by other parts of controld that /metrics exports.
using MetricsSource = std::function<std::string()>;

struct ApiDeps {
  store::Store& store;
  audit::AuditLog& audit;
  auth::Auth& auth;
  commit::CommitService& commit;
  dpclient::DataplaneClient& dataplane;
  const cp::Clock& clock;
  MetricsSource extra_metrics;  // may be empty
};

class Api {
 public:
  explicit Api(ApiDeps deps);
  HttpResponse handle(const HttpRequest& req);
  const std::vector<Route>& routes() const { return routes_; }
  // The alert engine behind /api/v1/alerts and /api/v1/silences (null: those answer 503).
  // Set before serving.
  void set_alerting(alerting::Service* alerts) { alerts_ = alerts; }

  // Host quarantine behind /api/v1/quarantine (null: those answer 503). Set before serving.
  void set_quarantine(quarantine::Service* q) { quarantine_ = q; }

  static constexpr const char* kCookie = "cg_session";
  static constexpr size_t kMaxBody = 1 << 20;

 private:
  void declare_routes();
  void declare_alert_routes();
  void declare_quarantine_routes();
  std::string metrics_text();
  ApiDeps d_;
  alerting::Service* alerts_ = nullptr;
  quarantine::Service* quarantine_ = nullptr;
  std::vector<Route> routes_;
  std::mutex mu_;
  std::map<std::string, uint64_t> responses_;  // "<status>" -> count
  uint64_t denied_ = 0, unauthenticated_ = 0, csrf_rejected_ = 0;
};

HttpResponse json_response(int status, const nlohmann::json& body);
HttpResponse error_response(int status, const std::string& message);

}  // namespace cg::api

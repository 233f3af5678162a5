#include <yaml-cpp/yaml.h>

#include "tests/unit/controlplane/controld/fixture.h"

namespace cg::testing {
namespace {

using auth::Role;
using nlohmann::json;

constexpr unsigned kSys = 1, kSa = 2, kAud = 4, kOps = 8, kAll = 15;

// The expected role of every endpoint, written down independently of api.cc.
const std::map<std::string, unsigned>& expected_roles() {
  static const std::map<std::string, unsigned> m = {
      {"GET /api/v1/health", 0},
      {"POST /api/v1/login", 0},
      {"POST /api/v1/logout", kAll},
      {"GET /api/v1/whoami", kAll},
      {"GET /metrics", kAll},
      {"GET /api/v1/users", kSys},
      {"POST /api/v1/users", kSys},
      {"GET /api/v1/policy", kAll},
      {"POST /api/v1/policy/apply", kSa},
      {"POST /api/v1/policy/confirm", kSa},
      {"POST /api/v1/policy/rollback", kSa},
      {"GET /api/v1/policy/revisions", kAll},
      {"GET /api/v1/policy/revisions/{number}", kAll},
      {"GET /api/v1/policy/diff", kAll},
      {"GET /api/v1/events", kSa | kOps},
      {"GET /api/v1/events/counts", kSa | kOps},
      {"GET /api/v1/audit", kAud},
      {"GET /api/v1/audit/verify", kAud},
      {"GET /api/v1/quarantine", kSa | kAud | kOps},
      {"POST /api/v1/quarantine", kSa},
      {"DELETE /api/v1/quarantine", kSa},
      {"GET /api/v1/alerts", kSa | kAud | kOps},
      {"GET /api/v1/alerts/{id}", kSa | kAud | kOps},
      {"POST /api/v1/alerts/{id}/ack", kSa},
      {"GET /api/v1/silences", kSa | kAud | kOps},
      {"POST /api/v1/silences", kSa},
      {"DELETE /api/v1/silences/{id}", kSa},
  };
  return m;
}

class ApiTest : public ControldFixture {
 protected:
  void SetUp() override {
    ControldFixture::SetUp();
    for (auto [name, role] : {std::pair{"sys", Role::kSysadmin}, {"sec", Role::kSecadmin},
                              {"aud", Role::kAuditor}, {"ops", Role::kOperator}}) {
      ASSERT_TRUE(auth_->add_user(name, role, "password for " + std::string(name), "root"));
      auth::Session s;
      ASSERT_EQ(auth_->login(name, "password for " + std::string(name), "t", &s),
                auth::LoginResult::kOk);
      tokens_[static_cast<unsigned>(role)] = s.token;
      csrf_[static_cast<unsigned>(role)] = s.csrf;
    }
  }
  api::HttpResponse call(const std::string& method, const std::string& path,
                         const std::string& token, const std::string& body = "{}",
                         std::map<std::string, std::string> query = {}) {
    api::HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body;
    r.query = std::move(query);
    r.peer = "127.0.0.1";
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return api_->handle(r);
  }
  std::map<unsigned, std::string> tokens_, csrf_;
};

TEST_F(ApiTest, EveryEndpointDeclaresTheExpectedRoles) {
  std::set<std::string> seen;
  for (const auto& r : api_->routes()) {
    std::string key = r.method + " " + r.pattern;
    ASSERT_TRUE(expected_roles().count(key)) << "unexpected route " << key;
    EXPECT_EQ(r.roles, expected_roles().at(key)) << key;
    seen.insert(key);
  }
  EXPECT_EQ(seen.size(), expected_roles().size());
}

// controlplane/api/openapi.yaml documents exactly the served routes, with the same roles
// (the live responses are validated against its schemas in tests/integration/controlplane).
TEST_F(ApiTest, OpenApiDocumentMatchesTheRouteTable) {
  YAML::Node doc = YAML::LoadFile(std::string(std::getenv("CG_SOURCE_DIR")) +
                                  "/controlplane/api/openapi.yaml");
  std::map<std::string, unsigned> documented;
  for (const auto& path : doc["paths"]) {
    for (const auto& op : path.second) {
      std::string method = op.first.as<std::string>();
      for (auto& ch : method) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      unsigned roles = 0;
      for (const auto& r : op.second["x-roles"])
        roles |= static_cast<unsigned>(*auth::parse_role(r.as<std::string>()));
      documented[method + " " + path.first.as<std::string>()] = roles;
    }
  }
  std::map<std::string, unsigned> served;
  for (const auto& r : api_->routes()) served[r.method + " " + r.pattern] = r.roles;
  EXPECT_EQ(documented, served);
}

TEST_F(ApiTest, EndpointTimesRoleMatrix) {
  for (const auto& r : api_->routes()) {
    std::string path = r.pattern;
    if (auto p = path.find("{number}"); p != std::string::npos) path.replace(p, 8, "1");
    std::string key = r.method + " " + r.pattern;
    // Anonymous.
    auto anon = call(r.method, path, "");
    if (r.roles == 0)
      EXPECT_NE(anon.status, 401) << key;
    else
      EXPECT_EQ(anon.status, 401) << key;
    for (unsigned role : {kSys, kSa, kAud, kOps}) {
      if (r.pattern == "/api/v1/logout") continue;  // would end the session used below
      auto resp = call(r.method, path, tokens_[role]);
      bool allowed = r.roles == 0 || (r.roles & role);
      if (allowed)
        EXPECT_NE(resp.status, 403) << key << " role " << role << ": " << resp.body;
      else
        EXPECT_EQ(resp.status, 403) << key << " role " << role;
      EXPECT_NE(resp.status, 401) << key;
      EXPECT_NE(resp.status, 500) << key << ": " << resp.body;
    }
  }
  auto out = call("POST", "/api/v1/logout", tokens_[kOps]);
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(call("GET", "/api/v1/whoami", tokens_[kOps]).status, 401);
}

TEST_F(ApiTest, CookieSessionsNeedTheCsrfTokenForChanges) {
  auto login = call("POST", "/api/v1/login", "", R"({"user":"sec","password":"password for sec"})");
  ASSERT_EQ(login.status, 200);
  auto body = json::parse(login.body);
  ASSERT_EQ(login.headers.size(), 1u);
  EXPECT_NE(login.headers[0].second.find("HttpOnly"), std::string::npos);
  EXPECT_NE(login.headers[0].second.find("SameSite=Strict"), std::string::npos);
  std::string token = body["token"], csrf = body["csrf_token"];
  api::HttpRequest r;
  r.method = "POST";
  r.path = "/api/v1/policy/apply";
  r.body = json({{"source", example_policy()}}).dump();
  r.headers["cookie"] = "lang=zh; cg_session=" + token;
  EXPECT_EQ(api_->handle(r).status, 403);  // forged cross-site POST
  r.headers["x-csrf-token"] = csrf_[kSa];  // another session's token
  EXPECT_EQ(api_->handle(r).status, 403);
  r.headers["x-csrf-token"] = csrf;
  auto ok = api_->handle(r);
  EXPECT_EQ(ok.status, 200) << ok.body;
  // Reads with the cookie need no CSRF token; bearer-token clients (cgctl) need none at all.
  api::HttpRequest g;
  g.method = "GET";
  g.path = "/api/v1/policy";
  g.headers["cookie"] = "cg_session=" + token;
  EXPECT_EQ(api_->handle(g).status, 200);
}

TEST_F(ApiTest, LoginLockoutOverHttp) {
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(call("POST", "/api/v1/login", "", R"({"user":"ops","password":"nope nope nope"})")
                  .status,
              401);
  EXPECT_EQ(call("POST", "/api/v1/login", "", R"({"user":"ops","password":"password for ops"})")
                .status,
            423);
  EXPECT_EQ(call("POST", "/api/v1/login", "", "not json").status, 400);
}

TEST_F(ApiTest, PolicyLifecycleOverTheApi) {
  std::string sec = tokens_[kSa];
  auto r = call("POST", "/api/v1/policy/apply", sec,
                json({{"source", example_policy("v1")}, {"comment", "first"}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  r = call("POST", "/api/v1/policy/apply", sec, json({{"source", "zones: [\n"}}).dump());
  EXPECT_EQ(r.status, 422);
  EXPECT_FALSE(json::parse(r.body)["diagnostics"].empty());
  r = call("POST", "/api/v1/policy/apply", sec,
           json({{"source", example_policy("v2")}, {"confirm_seconds", 20}}).dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(json::parse(r.body)["confirm_deadline"].is_null());
  EXPECT_EQ(call("POST", "/api/v1/policy/confirm", sec).status, 200);
  EXPECT_EQ(call("POST", "/api/v1/policy/confirm", sec).status, 404);
  r = call("GET", "/api/v1/policy/diff", sec, "", {{"a", "1"}, {"b", "2"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(json::parse(r.body)["diff"].get<std::string>().find("+# v2"), std::string::npos);
  r = call("GET", "/api/v1/policy/revisions", tokens_[kOps]);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["revisions"].size(), 2u);
  r = call("GET", "/api/v1/policy/revisions/1", tokens_[kAud]);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["source"], example_policy("v1"));
  r = call("POST", "/api/v1/policy/rollback", sec, R"({"revision":1})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(dp_.source(), example_policy("v1"));
  EXPECT_EQ(call("GET", "/api/v1/policy/revisions/77", sec).status, 404);
  EXPECT_EQ(call("GET", "/api/v1/policy/revisions/x", sec).status, 400);
  EXPECT_EQ(call("DELETE", "/api/v1/policy", sec).status, 405);
  EXPECT_EQ(call("GET", "/api/v2/nothing", sec).status, 404);
}

TEST_F(ApiTest, EventQueriesAreAuditedAndPaginated) {
  std::vector<store::Event> evs;
  for (int i = 0; i < 30; ++i) {
    store::Event e;
    e.event_id = "e" + std::to_string(i);
    e.ts_us = kT0 + i * kSec;
    e.event_type = "alert";
    e.severity = 2;
    e.src_ip = "10.1.2.3";
    e.body = json({{"event_id", e.event_id}, {"src_ip", e.src_ip}}).dump();
    evs.push_back(e);
  }
  ASSERT_TRUE(store_->insert_events(evs, nullptr));
  auto r = call("GET", "/api/v1/events", tokens_[kOps], "",
                {{"address", "10.1.2.3"}, {"limit", "20"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["events"].size(), 20u);
  EXPECT_EQ(j["events"][0]["event_id"], "e29");
  r = call("GET", "/api/v1/events", tokens_[kOps], "",
           {{"address", "10.1.2.3"}, {"cursor", j["next_cursor"].get<std::string>()}});
  EXPECT_EQ(json::parse(r.body)["events"].size(), 10u);
  EXPECT_EQ(call("GET", "/api/v1/events", tokens_[kOps], "", {{"from", "yesterday"}}).status,
            400);
  EXPECT_EQ(call("GET", "/api/v1/events", tokens_[kOps], "", {{"colour", "red"}}).status, 400);
  r = call("GET", "/api/v1/events/counts", tokens_[kSa], "", {{"bucket", "10"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(json::parse(r.body)["buckets"].size(), 3u) << r.body;
  // Who looked at which device's records is in the audit log.
  r = call("GET", "/api/v1/audit", tokens_[kAud], "", {{"limit", "1000"}});
  int queries = 0;
  EXPECT_EQ(r.status, 200) << r.body;
  const json audit = json::parse(r.body);
  for (const auto& rec : audit["records"]) {
    if (rec["action"] == "events.query" && rec["object"] == "address 10.1.2.3" &&
        rec["user"] == "ops")
      ++queries;
  }
  EXPECT_EQ(queries, 2);
  r = call("GET", "/api/v1/audit/verify", tokens_[kAud]);
  EXPECT_TRUE(json::parse(r.body)["ok"].get<bool>()) << r.body;
}

TEST_F(ApiTest, MetricsExposeCounters) {
  call("GET", "/api/v1/whoami", "");
  auto r = call("GET", "/metrics", tokens_[kOps]);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type.rfind("text/plain", 0), 0u);
  EXPECT_NE(r.body.find("cg_controld_http_rejected_total{reason=\"unauthenticated\"} 1"),
            std::string::npos)
      << r.body;
  EXPECT_NE(r.body.find("cg_controld_logins_total 4"), std::string::npos);
  EXPECT_NE(r.body.find("# TYPE cg_controld_policy_reverts_total counter"), std::string::npos);
}

}  // namespace
}  // namespace cg::testing

#include "controlplane/api/api.h"

#include <algorithm>
#include <sstream>

#include "controlplane/alerting/service.h"
#include "controlplane/quarantine/quarantine.h"

namespace cg::api {
namespace {

using auth::mask;
using auth::Role;
using nlohmann::json;

constexpr auth::RoleMask kAll = auth::kAllRoles;
constexpr auth::RoleMask kSys = mask(Role::kSysadmin);
constexpr auth::RoleMask kSec = mask(Role::kSecadmin);
constexpr auth::RoleMask kAud = mask(Role::kAuditor);
constexpr auth::RoleMask kOps = mask(Role::kOperator);
constexpr int64_t kUs = 1000000;

int http_status(const cp::Status& s) {
  switch (s.code()) {
    case cp::Code::kOk: return 200;
    case cp::Code::kInvalid: return 400;
    case cp::Code::kNotFound: return 404;
    case cp::Code::kConflict: return 409;
    case cp::Code::kUnavailable: return 503;
    case cp::Code::kPermission: return 403;
    case cp::Code::kInternal: return 500;
  }
  return 500;
}

HttpResponse status_error(const cp::Status& s) { return error_response(http_status(s), s.message()); }

std::string cookie_value(const std::string& header, const std::string& name) {
  size_t p = 0;
  while (p < header.size()) {
    while (p < header.size() && (header[p] == ' ' || header[p] == ';')) ++p;
    size_t eq = header.find('=', p);
    size_t end = header.find(';', p);
    if (end == std::string::npos) end = header.size();
    if (eq != std::string::npos && eq < end && header.compare(p, eq - p, name) == 0)
      return header.substr(eq + 1, end - eq - 1);
    p = end;
  }
  return "";
}

bool match(const std::string& pattern, const std::string& path,
           std::map<std::string, std::string>* params) {
  size_t i = 0, j = 0;
  while (i < pattern.size() && j <= path.size()) {
    if (pattern[i] == '{') {
      size_t close = pattern.find('}', i);
      size_t seg_end = path.find('/', j);
      if (seg_end == std::string::npos) seg_end = path.size();
      if (seg_end == j) return false;
      (*params)[pattern.substr(i + 1, close - i - 1)] = path.substr(j, seg_end - j);
      i = close + 1;
      j = seg_end;
    } else {
      if (j >= path.size() || pattern[i] != path[j]) return false;
      ++i;
      ++j;
    }
  }
  return i == pattern.size() && j == path.size();
}

bool to_int(const std::string& s, int64_t* v) {
  if (s.empty() || s.size() > 18) return false;
  size_t k = s[0] == '-' ? 1 : 0;
  if (k == s.size()) return false;
  for (size_t i = k; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  *v = std::stoll(s);
  return true;
}

// Body as a JSON object (400 on anything else).
bool body_object(const HttpRequest& r, json* out, HttpResponse* err) {
  *out = json::parse(r.body, nullptr, false);
  if (out->is_discarded() || !out->is_object()) {
    *err = error_response(400, "request body must be a JSON object");
    return false;
  }
  return true;
}

template <typename T>
bool field(const json& j, const char* name, T* out, bool required, HttpResponse* err) {
  auto it = j.find(name);
  if (it == j.end() || it->is_null()) {
    if (required) *err = error_response(400, std::string("missing field '") + name + "'");
    return !required;
  }
  try {
    *out = it->get<T>();
    return true;
  } catch (const json::exception&) {
    *err = error_response(400, std::string("field '") + name + "' has the wrong type");
    return false;
  }
}

json revision_json(const store::Revision& r, bool with_source) {
  json j = {{"number", r.number},   {"created", cp::format_rfc3339(r.created_us)},
            {"user", r.user},       {"comment", r.comment},
            {"action", r.action},   {"origin", r.origin},
            {"sha256", r.sha256},   {"generation", r.generation},
            {"bytes", r.source.size()}};
  if (with_source) j["source"] = r.source;
  return j;
}

json event_json(const store::Event& e) {
  json body = json::parse(e.body, nullptr, false);
  if (!body.is_object()) body = json::object();
  body["store_id"] = e.id;
  return body;
}

HttpResponse apply_response(const cp::Status& s, const commit::ApplyResult& r) {
  if (!s) {
    json j = {{"error", s.message()}, {"diagnostics", r.diagnostics}};
    return json_response(s.code() == cp::Code::kInvalid && !r.diagnostics.empty()
                             ? 422
                             : http_status(s),
                         j);
  }
  json j = {{"revision", r.revision},     {"generation", r.generation},
            {"rules", r.rules},           {"warnings", r.warnings},
            {"diagnostics", r.diagnostics}, {"confirm_deadline", nullptr}};
  if (r.confirm_deadline_us) j["confirm_deadline"] = cp::format_rfc3339(r.confirm_deadline_us);
  return json_response(200, j);
}

}  // namespace

HttpResponse json_response(int status, const json& body) {
  HttpResponse r;
  r.status = status;
  r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

HttpResponse error_response(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}

Api::Api(ApiDeps deps) : d_(std::move(deps)) { declare_routes(); }

HttpResponse Api::handle(const HttpRequest& req) {
  HttpResponse resp;
  auto count = [&](const HttpResponse& r) {
    std::lock_guard lock(mu_);
    ++responses_[std::to_string(r.status)];
    return r;
  };
  if (req.body.size() > kMaxBody) return count(error_response(413, "request body too large"));
  const Route* route = nullptr;
  bool path_known = false;
  std::map<std::string, std::string> params;
  for (const auto& r : routes_) {
    std::map<std::string, std::string> p;
    if (!match(r.pattern, req.path, &p)) continue;
    path_known = true;
    if (r.method == req.method) {
      route = &r;
      params = std::move(p);
      break;
    }
  }
  if (!route)
    return count(error_response(path_known ? 405 : 404,
                                path_known ? "method not allowed" : "no such endpoint"));
  auth::Session session;
  if (route->roles != 0) {
    std::string token;
    bool from_cookie = false;
    auto h = req.headers.find("authorization");
    if (h != req.headers.end() && h->second.rfind("Bearer ", 0) == 0) {
      token = h->second.substr(7);
    } else if (auto c = req.headers.find("cookie"); c != req.headers.end()) {
      token = cookie_value(c->second, kCookie);
      from_cookie = !token.empty();
    }
    if (token.empty() || !d_.auth.authenticate(token, &session)) {
      std::lock_guard lock(mu_);
      ++unauthenticated_;
      ++responses_["401"];
      return error_response(401, "authentication required");
    }
    // A browser sends the cookie on any request, also one forged by another site: unsafe
    // methods must prove they come from our own page by echoing the session's CSRF token.
    if (from_cookie && req.method != "GET") {
      auto x = req.headers.find("x-csrf-token");
      if (x == req.headers.end() || !cp::equal_ct(x->second, session.csrf)) {
        std::lock_guard lock(mu_);
        ++csrf_rejected_;
        ++responses_["403"];
        return error_response(403, "missing or wrong X-CSRF-Token for a cookie session");
      }
    }
    if ((route->roles & mask(session.role)) == 0) {
      std::lock_guard lock(mu_);
      ++denied_;
      ++responses_["403"];
      return error_response(403, std::string("role ") + auth::role_name(session.role) +
                                     " may not " + req.method + " " + route->pattern);
    }
  }
  Context ctx{req, session, std::move(params)};
  try {
    return count(route->handler(ctx));
  } catch (const std::exception& e) {
    return count(error_response(500, std::string("internal error: ") + e.what()));
  }
}

void Api::declare_routes() {
  auto& R = routes_;
  // --- session -------------------------------------------------------------------------------
  R.push_back({"GET", "/api/v1/health", 0, [this](Context&) {
                 dpclient::PolicyStatus st;
                 bool dp = static_cast<bool>(d_.dataplane.policy_status(&st));
                 return json_response(200, {{"status", "ok"},
                                            {"store", d_.store.backend()},
                                            {"dataplane_reachable", dp}});
               }});
  R.push_back({"POST", "/api/v1/login", 0, [this](Context& c) {
                 json b;
                 HttpResponse err;
                 std::string user, password;
                 if (!body_object(c.req, &b, &err) || !field(b, "user", &user, true, &err) ||
                     !field(b, "password", &password, true, &err))
                   return err;
                 auth::Session s;
                 switch (d_.auth.login(user, password, c.req.peer, &s)) {
                   case auth::LoginResult::kOk: break;
                   case auth::LoginResult::kLocked:
                     return error_response(423, "account locked after repeated failures");
                   case auth::LoginResult::kBadCredentials:
                     return error_response(401, "wrong user name or password");
                   case auth::LoginResult::kError: return error_response(500, "login failed");
                 }
                 auto r = json_response(200, {{"token", s.token},
                                              {"csrf_token", s.csrf},
                                              {"user", s.user},
                                              {"role", auth::role_name(s.role)},
                                              {"expires", cp::format_rfc3339(s.expires_us)}});
                 r.headers.push_back({"Set-Cookie", std::string(kCookie) + "=" + s.token +
                                                        "; Path=/; Secure; HttpOnly; "
                                                        "SameSite=Strict"});
                 return r;
               }});
  R.push_back({"POST", "/api/v1/logout", kAll, [this](Context& c) {
                 auto h = c.req.headers.find("authorization");
                 std::string token = h != c.req.headers.end() && h->second.size() > 7
                                         ? h->second.substr(7)
                                         : cookie_value(c.req.headers.count("cookie")
                                                            ? c.req.headers.at("cookie")
                                                            : "",
                                                        kCookie);
                 d_.auth.logout(token);
                 d_.audit.append(c.session.user, "logout", c.session.user, {{"peer", c.req.peer}});
                 auto r = json_response(200, {{"ok", true}});
                 r.headers.push_back({"Set-Cookie", std::string(kCookie) +
                                                        "=; Path=/; Secure; HttpOnly; "
                                                        "SameSite=Strict; Max-Age=0"});
                 return r;
               }});
  R.push_back({"GET", "/api/v1/whoami", kAll, [](Context& c) {
                 return json_response(200, {{"user", c.session.user},
                                            {"role", auth::role_name(c.session.role)},
                                            {"expires", cp::format_rfc3339(c.session.expires_us)}});
               }});
  R.push_back({"GET", "/metrics", kAll, [this](Context&) {
                 HttpResponse r;
                 r.body = metrics_text();
                 r.content_type = "text/plain; version=0.0.4";
                 return r;
               }});
  // --- users (system administrator) ----------------------------------------------------------
  R.push_back({"GET", "/api/v1/users", kSys, [this](Context&) {
                 std::vector<store::User> users;
                 if (auto s = d_.store.list_users(&users); !s) return status_error(s);
                 json list = json::array();
                 int64_t now = d_.clock.now_us();
                 for (const auto& u : users)
                   list.push_back({{"name", u.name},
                                   {"role", u.role},
                                   {"locked", u.locked_until_us > now},
                                   {"created", cp::format_rfc3339(u.created_us)}});
                 return json_response(200, {{"users", list}});
               }});
  R.push_back({"POST", "/api/v1/users", kSys, [this](Context& c) {
                 json b;
                 HttpResponse err;
                 std::string name, role, password;
                 if (!body_object(c.req, &b, &err) || !field(b, "name", &name, true, &err) ||
                     !field(b, "role", &role, true, &err) ||
                     !field(b, "password", &password, true, &err))
                   return err;
                 auto r = auth::parse_role(role);
                 if (!r) return error_response(400, "role must be sysadmin, secadmin, auditor or "
                                                    "operator");
                 if (auto s = d_.auth.add_user(name, *r, password, c.session.user); !s)
                   return status_error(s);
                 return json_response(201, {{"name", name}, {"role", role}});
               }});
  // --- policy (reads: everyone; changes: security administrator) -----------------------------
  R.push_back({"GET", "/api/v1/policy", kAll,
               [this](Context&) { return json_response(200, d_.commit.status_json()); }});
  R.push_back({"POST", "/api/v1/policy/apply", kSec, [this](Context& c) {
                 json b;
                 HttpResponse err;
                 commit::ApplyRequest a;
                 a.user = c.session.user;
                 if (!body_object(c.req, &b, &err) || !field(b, "source", &a.source, true, &err) ||
                     !field(b, "origin", &a.origin, false, &err) ||
                     !field(b, "comment", &a.comment, false, &err) ||
                     !field(b, "confirm_seconds", &a.confirm_s, false, &err))
                   return err;
                 commit::ApplyResult r;
                 auto s = d_.commit.apply(a, &r);
                 return apply_response(s, r);
               }});
  R.push_back({"POST", "/api/v1/policy/confirm", kSec, [this](Context& c) {
                 int64_t rev = 0;
                 if (auto s = d_.commit.confirm(c.session.user, &rev); !s) return status_error(s);
                 return json_response(200, {{"revision", rev}, {"confirmed", true}});
               }});
  R.push_back({"POST", "/api/v1/policy/rollback", kSec, [this](Context& c) {
                 json b;
                 HttpResponse err;
                 int64_t rev = 0;
                 std::string comment;
                 uint32_t confirm = 0;
                 if (!body_object(c.req, &b, &err) || !field(b, "revision", &rev, true, &err) ||
                     !field(b, "comment", &comment, false, &err) ||
                     !field(b, "confirm_seconds", &confirm, false, &err))
                   return err;
                 commit::ApplyResult r;
                 auto s = d_.commit.rollback(rev, c.session.user, comment, confirm, &r);
                 return apply_response(s, r);
               }});
  R.push_back({"GET", "/api/v1/policy/revisions", kAll, [this](Context& c) {
                 int64_t limit = 100;
                 if (auto q = c.req.query.find("limit"); q != c.req.query.end() &&
                                                         (!to_int(q->second, &limit) || limit < 1))
                   return error_response(400, "limit must be a positive integer");
                 std::vector<store::Revision> revs;
                 if (auto s = d_.store.list_revisions(static_cast<int>(std::min<int64_t>(limit, 100000)), &revs); !s)
                   return status_error(s);
                 json list = json::array();
                 for (const auto& r : revs) list.push_back(revision_json(r, false));
                 return json_response(200, {{"revisions", list}});
               }});
  R.push_back({"GET", "/api/v1/policy/revisions/{number}", kAll, [this](Context& c) {
                 int64_t n = 0;
                 if (!to_int(c.params["number"], &n)) return error_response(400, "bad revision");
                 store::Revision r;
                 if (auto s = d_.store.get_revision(n, &r); !s) return status_error(s);
                 return json_response(200, revision_json(r, true));
               }});
  R.push_back({"GET", "/api/v1/policy/diff", kAll, [this](Context& c) {
                 int64_t a = 0, b = 0;
                 auto qa = c.req.query.find("a"), qb = c.req.query.find("b");
                 if (qa == c.req.query.end() || qb == c.req.query.end() ||
                     !to_int(qa->second, &a) || !to_int(qb->second, &b))
                   return error_response(400, "query parameters a and b (revision numbers) "
                                              "are required");
                 store::Revision ra, rb;
                 if (auto s = d_.store.get_revision(a, &ra); !s) return status_error(s);
                 if (auto s = d_.store.get_revision(b, &rb); !s) return status_error(s);
                 std::string diff =
                     commit::unified_diff(ra.source, rb.source, "revision " + std::to_string(a),
                                          "revision " + std::to_string(b));
                 return json_response(200, {{"a", a}, {"b", b}, {"diff", diff}});
               }});
  // --- events (security administrator, operator); every query is audited ---------------------
  auto parse_query = [](const HttpRequest& r, store::EventQuery* q, HttpResponse* err) {
    for (const auto& [k, v] : r.query) {
      int64_t n = 0;
      if (k == "from" || k == "to") {
        if (!cp::parse_rfc3339(v, &n)) {
          *err = error_response(400, k + " must be an RFC 3339 time");
          return false;
        }
        (k == "from" ? q->from_us : q->to_us) = n;
      } else if (k == "type") {
        q->event_type = v;
      } else if (k == "severity") {
        if (!to_int(v, &n) || n < 1 || n > 4) {
          *err = error_response(400, "severity must be 1..4");
          return false;
        }
        q->max_severity = static_cast<int>(n);
      } else if (k == "address") {
        q->address = v;
      } else if (k == "app") {
        q->app = v;
      } else if (k == "rule") {
        q->rule = v;
      } else if (k == "limit") {
        if (!to_int(v, &n) || n < 1 || n > 1000) {
          *err = error_response(400, "limit must be 1..1000");
          return false;
        }
        q->limit = static_cast<int>(n);
      } else if (k == "cursor") {
        q->cursor = v;
      } else if (k != "bucket") {
        *err = error_response(400, "unknown query parameter '" + k + "'");
        return false;
      }
    }
    return true;
  };
  R.push_back({"GET", "/api/v1/events", kSec | kOps, [this, parse_query](Context& c) {
                 store::EventQuery q;
                 HttpResponse err;
                 if (!parse_query(c.req, &q, &err)) return err;
                 store::EventPage page;
                 if (auto s = d_.store.query_events(q, &page); !s) return status_error(s);
                 d_.audit.append(c.session.user, "events.query",
                                 q.address.empty() ? "events" : "address " + q.address,
                                 {{"query", c.req.query}, {"returned", page.events.size()}});
                 json list = json::array();
                 for (const auto& e : page.events) list.push_back(event_json(e));
                 return json_response(200, {{"events", list},
                                            {"next_cursor", page.next_cursor.empty()
                                                                ? json(nullptr)
                                                                : json(page.next_cursor)}});
               }});
  R.push_back({"GET", "/api/v1/events/counts", kSec | kOps, [this, parse_query](Context& c) {
                 store::EventQuery q;
                 HttpResponse err;
                 if (!parse_query(c.req, &q, &err)) return err;
                 int64_t bucket = 3600;
                 if (auto b = c.req.query.find("bucket");
                     b != c.req.query.end() && (!to_int(b->second, &bucket) || bucket < 1 ||
                                                bucket > 86400 * 366))
                   return error_response(400, "bucket must be 1..31622400 seconds");
                 std::vector<store::BucketCount> counts;
                 if (auto s = d_.store.count_events(q, bucket * kUs, &counts); !s)
                   return status_error(s);
                 json list = json::array();
                 for (const auto& b : counts)
                   list.push_back({{"start", cp::format_rfc3339(b.start_us)}, {"count", b.count}});
                 return json_response(200, {{"bucket_seconds", bucket}, {"buckets", list}});
               }});
  // --- audit (auditor) -----------------------------------------------------------------------
  R.push_back({"GET", "/api/v1/audit", kAud, [this](Context& c) {
                 int64_t after = 0, limit = 100;
                 if (auto q = c.req.query.find("after");
                     q != c.req.query.end() && !to_int(q->second, &after))
                   return error_response(400, "after must be an integer");
                 if (auto q = c.req.query.find("limit"); q != c.req.query.end() &&
                                                         (!to_int(q->second, &limit) ||
                                                          limit < 1 || limit > 1000))
                   return error_response(400, "limit must be 1..1000");
                 std::vector<store::AuditRecord> recs;
                 if (auto s = d_.store.list_audit(after, static_cast<int>(limit), &recs); !s)
                   return status_error(s);
                 json list = json::array();
                 for (const auto& r : recs) {
                   json detail = json::parse(r.detail, nullptr, false);
                   list.push_back({{"seq", r.seq},
                                   {"time", cp::format_rfc3339(r.ts_us)},
                                   {"user", r.user},
                                   {"action", r.action},
                                   {"object", r.object},
                                   {"detail", detail.is_discarded() ? json(r.detail) : detail},
                                   {"prev_hash", r.prev_hash},
                                   {"hash", r.hash}});
                 }
                 return json_response(200, {{"records", list}});
               }});
  R.push_back({"GET", "/api/v1/audit/verify", kAud, [this](Context& c) {
                 audit::VerifyResult v;
                 if (auto s = d_.audit.verify(&v); !s) return status_error(s);
                 d_.audit.append(c.session.user, "audit.verify", "audit",
                                 {{"ok", v.ok}, {"records", v.records}});
                 return json_response(200, {{"ok", v.ok},
                                            {"records", v.records},
                                            {"anchor_seq", v.anchor_seq},
                                            {"bad_seq", v.bad_seq},
                                            {"problem", v.problem}});
               }});
  declare_alert_routes();
  declare_quarantine_routes();
}

// --- alerts (reads: security administrator, auditor, operator; changes: security
// administrator). Every change and every alert query (alerts carry student addresses) is
// audited. The calls are controlplane/alerting's Service (README "REST mapping").
void Api::declare_alert_routes() {
  auto& R = routes_;
  constexpr auth::RoleMask kRead = kSec | kAud | kOps;
  auto off = [] { return error_response(503, "alerting is not configured (alerting.file)"); };
  auto alert_id = [](Context& c, uint64_t* id) {
    int64_t n = 0;
    if (!to_int(c.params["id"], &n) || n < 1) return false;
    *id = static_cast<uint64_t>(n);
    return true;
  };
  R.push_back({"GET", "/api/v1/alerts", kRead, [this, off](Context& c) {
                 if (!alerts_) return off();
                 alerting::AlertQuery q;
                 for (const auto& [k, v] : c.req.query) {
                   int64_t n = 0;
                   if (k == "state") {
                     q.state = alerting::parse_alert_state(v);
                     if (!q.state) return error_response(400, "state must be open, acked or "
                                                              "silenced");
                   } else if (k == "severity") {
                     q.min_severity = alerting::parse_severity(v);
                     if (!q.min_severity)
                       return error_response(400, "severity must be info, low, medium, high "
                                                  "or critical");
                   } else if (k == "rule") {
                     q.rule = v;
                   } else if (k == "since") {
                     if (!cp::parse_rfc3339(v, &n))
                       return error_response(400, "since must be an RFC 3339 time");
                     q.since = alerting::from_us(n);
                   } else if (k == "before") {
                     if (!to_int(v, &n) || n < 1)
                       return error_response(400, "before must be a positive alert id");
                     q.before_id = static_cast<uint64_t>(n);
                   } else if (k == "limit") {
                     if (!to_int(v, &n) || n < 1 || n > 1000)
                       return error_response(400, "limit must be 1..1000");
                     q.limit = static_cast<uint32_t>(n);
                   } else {
                     return error_response(400, "unknown query parameter '" + k + "'");
                   }
                 }
                 auto alerts = alerts_->list_alerts(q);
                 json list = json::array();
                 for (const auto& a : alerts) list.push_back(alerting::alert_to_json(a));
                 d_.audit.append(c.session.user, "alerts.query", "alerts",
                                 {{"query", c.req.query}, {"returned", alerts.size()}});
                 json next = alerts.size() == q.limit && !alerts.empty() ? json(alerts.back().id)
                                                                         : json(nullptr);
                 return json_response(200, {{"alerts", list}, {"next_before", next}});
               }});
  R.push_back({"GET", "/api/v1/alerts/{id}", kRead, [this, off, alert_id](Context& c) {
                 if (!alerts_) return off();
                 uint64_t id = 0;
                 if (!alert_id(c, &id)) return error_response(400, "bad alert id");
                 auto a = alerts_->get_alert(id);
                 if (!a) return error_response(404, "no alert " + std::to_string(id));
                 json j = alerting::alert_to_json(*a);
                 j["deliveries"] = json::array();
                 for (const auto& d : alerts_->deliveries(id))
                   j["deliveries"].push_back(alerting::delivery_to_json(d));
                 d_.audit.append(c.session.user, "alerts.show", "alert " + std::to_string(id),
                                 json::object());
                 return json_response(200, j);
               }});
  R.push_back({"POST", "/api/v1/alerts/{id}/ack", kSec, [this, off, alert_id](Context& c) {
                 if (!alerts_) return off();
                 uint64_t id = 0;
                 if (!alert_id(c, &id)) return error_response(400, "bad alert id");
                 json b;
                 HttpResponse err;
                 std::string comment;
                 if (!body_object(c.req, &b, &err) || !field(b, "comment", &comment, false, &err))
                   return err;
                 if (auto s = alerts_->ack(id, c.session.user, comment); !s)
                   return status_error(s);
                 d_.audit.append(c.session.user, "alerts.ack", "alert " + std::to_string(id),
                                 {{"comment", comment}});
                 return json_response(200, alerting::alert_to_json(*alerts_->get_alert(id)));
               }});
  R.push_back({"GET", "/api/v1/silences", kRead, [this, off](Context&) {
                 if (!alerts_) return off();
                 json list = json::array();
                 for (const auto& s : alerts_->silences()) list.push_back(alerting::silence_to_json(s));
                 return json_response(200, {{"silences", list}});
               }});
  R.push_back({"POST", "/api/v1/silences", kSec, [this, off](Context& c) {
                 if (!alerts_) return off();
                 json b;
                 HttpResponse err;
                 if (!body_object(c.req, &b, &err)) return err;
                 // The owner defaults to the caller; the id to a fresh one.
                 if (!b.contains("owner")) b["owner"] = c.session.user;
                 if (!b.contains("id")) b["id"] = "s-" + cp::random_hex(6);
                 std::string why;
                 auto s = alerting::silence_from_json(b, why);
                 if (!s) return error_response(400, "silence: " + why);
                 if (auto st = alerts_->add_silence(*s); !st) return status_error(st);
                 json j = alerting::silence_to_json(*s);
                 d_.audit.append(c.session.user, "silences.add", "silence " + s->id, j);
                 return json_response(201, j);
               }});
  R.push_back({"DELETE", "/api/v1/silences/{id}", kSec, [this, off](Context& c) {
                 if (!alerts_) return off();
                 const std::string& id = c.params["id"];
                 if (auto s = alerts_->remove_silence(id); !s) return status_error(s);
                 d_.audit.append(c.session.user, "silences.remove", "silence " + id,
                                 json::object());
                 return json_response(200, {{"id", id}, {"removed", true}});
               }});
}

// --- quarantine (reads: security administrator, auditor, operator; changes: security
// administrator). The service audits add / remove / expire (controlplane/quarantine).
void Api::declare_quarantine_routes() {
  auto& R = routes_;
  auto off = [] { return error_response(503, "quarantine is not available"); };
  R.push_back({"GET", "/api/v1/quarantine", kSec | kAud | kOps, [this, off](Context&) {
                 if (!quarantine_) return off();
                 const int64_t now = d_.clock.now_us();
                 json list = json::array();
                 for (const auto& e : quarantine_->list())
                   list.push_back(quarantine::Service::to_json(e, now));
                 return json_response(200, {{"entries", list}});
               }});
  R.push_back({"POST", "/api/v1/quarantine", kSec, [this, off](Context& c) {
                 if (!quarantine_) return off();
                 json b;
                 HttpResponse err;
                 std::string address, reason;
                 int64_t seconds = 0;
                 if (!body_object(c.req, &b, &err) || !field(b, "address", &address, true, &err) ||
                     !field(b, "seconds", &seconds, true, &err) ||
                     !field(b, "reason", &reason, true, &err))
                   return err;
                 store::QuarantineEntry e;
                 json pushed;
                 if (auto s = quarantine_->add(address, seconds, reason, c.session.user, &e,
                                               &pushed);
                     !s)
                   return status_error(s);
                 json j = quarantine::Service::to_json(e, d_.clock.now_us());
                 j["pushed"] = pushed;
                 return json_response(201, j);
               }});
  R.push_back({"DELETE", "/api/v1/quarantine", kSec, [this, off](Context& c) {
                 if (!quarantine_) return off();
                 auto a = c.req.query.find("address");
                 if (a == c.req.query.end())
                   return error_response(400, "query parameter address is required");
                 json pushed;
                 if (auto s = quarantine_->remove(a->second, c.session.user, &pushed); !s)
                   return status_error(s);
                 return json_response(200,
                                      {{"address", a->second}, {"removed", true}, {"pushed", pushed}});
               }});
}

std::string Api::metrics_text() {
  std::ostringstream o;
  auto metric = [&o](const std::string& name, const char* type, const std::string& help,
                     const std::vector<std::pair<std::string, uint64_t>>& samples) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    for (const auto& [labels, v] : samples) o << name << labels << " " << v << "\n";
  };
  {
    std::lock_guard lock(mu_);
    std::vector<std::pair<std::string, uint64_t>> codes;
    for (const auto& [code, n] : responses_) codes.push_back({"{code=\"" + code + "\"}", n});
    metric("cg_controld_http_responses_total", "counter", "API responses by status code", codes);
    metric("cg_controld_http_rejected_total", "counter", "API requests rejected, by reason",
           {{"{reason=\"unauthenticated\"}", unauthenticated_},
            {"{reason=\"role\"}", denied_},
            {"{reason=\"csrf\"}", csrf_rejected_}});
  }
  auto a = d_.auth.counters();
  metric("cg_controld_logins_total", "counter", "successful logins", {{"", a.logins}});
  metric("cg_controld_login_failures_total", "counter", "failed logins", {{"", a.failures}});
  metric("cg_controld_lockouts_total", "counter", "accounts locked", {{"", a.lockouts}});
  metric("cg_controld_sessions", "gauge", "live sessions", {{"", a.sessions}});
  auto c = d_.commit.counters();
  metric("cg_controld_policy_commits_total", "counter", "policy commit outcomes",
         {{"{result=\"applied\"}", c.applies},
          {"{result=\"invalid\"}", c.invalid},
          {"{result=\"failed\"}", c.apply_failures}});
  metric("cg_controld_policy_confirms_total", "counter", "commits confirmed", {{"", c.confirms}});
  metric("cg_controld_policy_reverts_total", "counter", "unconfirmed commits reverted",
         {{"", c.reverts}});
  metric("cg_controld_policy_repushes_total", "counter",
         "current policy re-pushed to a dataplane that lost it", {{"", c.repushes}});
  metric("cg_controld_dataplane_unreachable_total", "counter",
         "dataplane requests that found no dataplane", {{"", c.dataplane_unreachable}});
  metric("cg_controld_audit_records_total", "counter", "audit records appended",
         {{"", d_.audit.appended()}});
  metric("cg_controld_audit_failures_total", "counter", "audit appends that failed",
         {{"", d_.audit.failures()}});
  int64_t total = 0;
  if (d_.store.total_events(&total))
    metric("cg_controld_events_stored", "gauge", "events in the store",
           {{"", static_cast<uint64_t>(total)}});
  if (d_.extra_metrics) o << d_.extra_metrics();
  if (quarantine_) {
    auto q = quarantine_->counters();
    metric("cg_controld_quarantine_active", "gauge", "quarantined hosts / prefixes",
           {{"", q.active}});
    metric("cg_controld_quarantine_actions_total", "counter", "quarantine changes, by action",
           {{"{action=\"add\"}", q.added},
            {"{action=\"remove\"}", q.removed},
            {"{action=\"expire\"}", q.expired}});
    metric("cg_controld_quarantine_pushes_total", "counter",
           "full quarantine lists pushed, by target and result",
           {{"{target=\"dataplane\",result=\"ok\"}", q.dataplane_pushes},
            {"{target=\"dataplane\",result=\"failed\"}", q.dataplane_push_failures},
            {"{target=\"nftables\",result=\"ok\"}", q.nft_applies},
            {"{target=\"nftables\",result=\"failed\"}", q.nft_failures}});
  }
  if (alerts_) {  // alerting::Service counters (controlplane/alerting/README.md)
    std::vector<std::pair<std::string, uint64_t>> plain, sent, failed;
    for (const auto& [name, v] : alerts_->counters()) {
      size_t brace = name.find('{');
      if (brace == std::string::npos) {
        plain.push_back({"{counter=\"" + name + "\"}", v});
        continue;
      }
      std::string channel = name.substr(brace + 1, name.size() - brace - 2);
      (name.rfind("channel_sent", 0) == 0 ? sent : failed)
          .push_back({"{channel=\"" + channel + "\"}", v});
    }
    metric("cg_controld_alerting", "gauge", "alert engine and delivery counters", plain);
    metric("cg_controld_alert_deliveries_sent_total", "counter", "deliveries a channel accepted",
           sent);
    metric("cg_controld_alert_delivery_failures_total", "counter",
           "failed delivery attempts (retried with backoff)", failed);
  }
  // The dataplane's own counters (stats command), numeric leaves flattened into gauges.
  json stats;
  if (d_.dataplane.request({{"cmd", "stats"}}, &stats) && stats.value("ok", false)) {
    std::vector<std::pair<std::string, uint64_t>> samples;
    std::function<void(const json&, const std::string&)> walk = [&](const json& j,
                                                                    const std::string& path) {
      if (j.is_object()) {
        for (auto it = j.begin(); it != j.end(); ++it)
          if (it.key() != "v" && it.key() != "ok")
            walk(it.value(), path.empty() ? it.key() : path + "." + it.key());
      } else if (j.is_number_unsigned() || (j.is_number_integer() && j.get<int64_t>() >= 0)) {
        samples.push_back({"{counter=\"" + path + "\"}", j.get<uint64_t>()});
      }
    };
    walk(stats, "");
    metric("cg_dataplane_counter", "gauge", "dataplane counters from the control socket stats",
           samples);
  }
  return o.str();
}

}  // namespace cg::api

// The alert endpoints of the REST API over a real alerting::Service (SQLite queue in the
// fixture's temp dir, a recording channel instead of the network): list + filters + pagination,
// show with deliveries, ack, silences, roles, audit records; and the ingest -> engine wiring
// (events reach the engine once per event_id, after their batch committed).
#include "controlplane/alerting/service.h"
#include "controlplane/events/ingest.h"
#include "tests/unit/controlplane/controld/fixture.h"

namespace cg::testing {
namespace {

using auth::Role;
using nlohmann::json;

class RecordingChannel final : public alerting::Channel {
 public:
  RecordingChannel(alerting::ChannelConfig c, std::vector<uint64_t>& sent)
      : Channel(std::move(c)), sent_(sent) {}
  alerting::SendResult send(const alerting::Alert& a, alerting::TimePoint) override {
    sent_.push_back(a.id);
    return {true, ""};
  }

 private:
  std::vector<uint64_t>& sent_;
};

json scan(const std::string& src, int i) {
  return {{"timestamp", "2026-11-30T01:00:00.000000+0000"},
          {"event_type", "alert"},
          {"event_id", "ev-" + std::to_string(i)},
          {"src_ip", src},
          {"dest_ip", "10.30.1.1"},
          {"detector", "port_scan"},
          {"alert", {{"signature", "port scan"}, {"severity", 2}}}};
}

class AlertsApiTest : public ControldFixture {
 protected:
  void SetUp() override {
    ControldFixture::SetUp();
    std::filesystem::create_directories(dir_);
    std::string y = "version: 1\ndelivery: {queue: " + (dir_ / "alerts.db").string() +
                    "}\nchannels:\n  hook: {type: webhook, url: 'http://127.0.0.1:1/'}\n"
                    "rules:\n  - name: scans\n    match: {detector: port_scan}\n"
                    "    group_by: src_ip\n    threshold: {count: 2, window: 5m}\n"
                    "    channels: [hook]\n";
    auto cfg = alerting::load_config(y, "a.yaml");
    ASSERT_TRUE(cfg.ok());
    std::string err;
    svc_ = alerting::Service::create(cfg.config, clock_, err, {},
                                     [this](const alerting::ChannelConfig& c) {
                                       return std::make_unique<RecordingChannel>(c, sent_);
                                     });
    ASSERT_TRUE(svc_) << err;
    api_->set_alerting(svc_.get());
    for (auto [name, role] : {std::pair{"sec", Role::kSecadmin}, {"aud", Role::kAuditor},
                              {"ops", Role::kOperator}, {"sys", Role::kSysadmin}}) {
      ASSERT_TRUE(auth_->add_user(name, role, "password for " + std::string(name), "root"));
      auth::Session s;
      ASSERT_EQ(auth_->login(name, "password for " + std::string(name), "t", &s),
                auth::LoginResult::kOk);
      tok_[name] = s.token;
    }
  }
  void TearDown() override {
    api_->set_alerting(nullptr);
    svc_.reset();
    ControldFixture::TearDown();
  }
  api::HttpResponse call(const std::string& method, const std::string& path,
                         const std::string& user, const json& body = json::object(),
                         std::map<std::string, std::string> query = {}) {
    api::HttpRequest r;
    r.method = method;
    r.path = path;
    r.body = body.dump();
    r.query = std::move(query);
    r.peer = "127.0.0.1";
    r.headers["authorization"] = "Bearer " + tok_[user];
    return api_->handle(r);
  }
  std::vector<std::string> audit_actions() {
    std::vector<store::AuditRecord> recs;
    EXPECT_TRUE(store_->list_audit(0, 1000, &recs));
    std::vector<std::string> out;
    for (const auto& r : recs) out.push_back(r.action);
    return out;
  }
  void raise(const std::string& src, int base) {
    svc_->ingest(scan(src, base));
    svc_->ingest(scan(src, base + 1));
  }

  std::vector<uint64_t> sent_;
  std::unique_ptr<alerting::Service> svc_;
  std::map<std::string, std::string> tok_;
};

TEST_F(AlertsApiTest, ListFiltersAndPaginates) {
  raise("10.30.0.1", 0);
  raise("10.30.0.2", 10);
  raise("10.30.0.3", 20);
  auto r = call("GET", "/api/v1/alerts", "ops", {}, {{"limit", "2"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  ASSERT_EQ(j["alerts"].size(), 2u);
  EXPECT_EQ(j["alerts"][0]["id"], 3);
  EXPECT_EQ(j["next_before"], 2);
  auto r2 = call("GET", "/api/v1/alerts", "aud", {}, {{"before", "2"}});
  auto j2 = json::parse(r2.body);
  ASSERT_EQ(j2["alerts"].size(), 1u);
  EXPECT_EQ(j2["alerts"][0]["event"]["src_ip"], "10.30.0.1");
  EXPECT_TRUE(j2["next_before"].is_null());
  EXPECT_EQ(call("GET", "/api/v1/alerts", "ops", {}, {{"state", "acked"}}).body,
            R"({"alerts":[],"next_before":null})");
  EXPECT_EQ(call("GET", "/api/v1/alerts", "ops", {}, {{"state", "bogus"}}).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/alerts", "ops", {}, {{"since", "yesterday"}}).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/alerts", "ops", {}, {{"colour", "red"}}).status, 400);
  EXPECT_EQ(call("GET", "/api/v1/alerts", "sys").status, 403);
  auto show = call("GET", "/api/v1/alerts/3", "aud");
  ASSERT_EQ(show.status, 200);
  EXPECT_EQ(json::parse(show.body)["deliveries"][0]["channel"], "hook");
  EXPECT_EQ(call("GET", "/api/v1/alerts/99", "aud").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/alerts/x", "aud").status, 400);
  auto acts = audit_actions();
  EXPECT_EQ(std::count(acts.begin(), acts.end(), "alerts.query"), 3);  // the 400s are not
}

TEST_F(AlertsApiTest, AckIsSecadminOnlyAndAudited) {
  raise("10.30.0.1", 0);
  EXPECT_EQ(call("POST", "/api/v1/alerts/1/ack", "ops").status, 403);
  EXPECT_EQ(call("POST", "/api/v1/alerts/1/ack", "aud").status, 403);
  auto r = call("POST", "/api/v1/alerts/1/ack", "sec", {{"comment", "reimaged"}});
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = json::parse(r.body);
  EXPECT_EQ(j["state"], "acked");
  EXPECT_EQ(j["acked_by"], "sec");
  EXPECT_EQ(j["ack_comment"], "reimaged");
  EXPECT_EQ(call("POST", "/api/v1/alerts/1/ack", "sec").status, 409);
  EXPECT_EQ(call("POST", "/api/v1/alerts/7/ack", "sec").status, 404);
  EXPECT_EQ(call("POST", "/api/v1/alerts/1/ack", "sec", {{"comment", 5}}).status, 400);
  auto acts = audit_actions();
  EXPECT_EQ(std::count(acts.begin(), acts.end(), "alerts.ack"), 1);
}

TEST_F(AlertsApiTest, SilencesCreateListDeleteWithOwnerAndExpiry) {
  json body = {{"reason", "pentest"},
               {"ends", "2025-11-29T00:00:00Z"},
               {"match", {{"src_ip", {{"cidr", "10.30.0.0/24"}}}}}};
  auto expired = call("POST", "/api/v1/silences", "sec", body);
  EXPECT_EQ(expired.status, 400) << expired.body;  // the clock is at 2025-11-30
  body["ends"] = "2025-11-30T02:00:00Z";
  EXPECT_EQ(call("POST", "/api/v1/silences", "ops", body).status, 403);
  auto r = call("POST", "/api/v1/silences", "sec", body);
  ASSERT_EQ(r.status, 201) << r.body;
  auto s = json::parse(r.body);
  EXPECT_EQ(s["owner"], "sec");
  EXPECT_EQ(s["reason"], "pentest");
  std::string id = s["id"];
  EXPECT_EQ(id.rfind("s-", 0), 0u);
  body["rules"] = {"nope"};
  EXPECT_EQ(call("POST", "/api/v1/silences", "sec", body).status, 400);
  body.erase("rules");
  body["colour"] = "red";
  EXPECT_EQ(call("POST", "/api/v1/silences", "sec", body).status, 400);
  body.erase("colour");

  auto list = json::parse(call("GET", "/api/v1/silences", "aud").body)["silences"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], id);

  raise("10.30.0.9", 0);  // silenced: stored, not delivered
  auto a = json::parse(call("GET", "/api/v1/alerts", "ops", {}, {{"state", "silenced"}}).body);
  ASSERT_EQ(a["alerts"].size(), 1u);
  EXPECT_EQ(a["alerts"][0]["silence_id"], id);
  svc_->pump();
  EXPECT_TRUE(sent_.empty());

  EXPECT_EQ(call("DELETE", "/api/v1/silences/" + id, "aud").status, 403);
  EXPECT_EQ(call("DELETE", "/api/v1/silences/" + id, "sec").status, 200);
  EXPECT_EQ(call("DELETE", "/api/v1/silences/" + id, "sec").status, 404);
  raise("10.30.0.9", 10);
  svc_->pump();
  EXPECT_EQ(sent_.size(), 1u);

  // Expiry: a silence ends by itself at `ends`.
  body["id"] = "short";
  body["ends"] = "2025-11-30T00:10:00Z";
  ASSERT_EQ(call("POST", "/api/v1/silences", "sec", body).status, 201);
  clock_.advance_us(11 * 60 * kSec);
  EXPECT_EQ(json::parse(call("GET", "/api/v1/silences", "aud").body)["silences"].size(), 0u);
  auto acts = audit_actions();
  EXPECT_EQ(std::count(acts.begin(), acts.end(), "silences.add"), 2);
  EXPECT_EQ(std::count(acts.begin(), acts.end(), "silences.remove"), 1);
}

TEST_F(AlertsApiTest, WithoutAlertingTheEndpointsAnswer503) {
  api_->set_alerting(nullptr);
  EXPECT_EQ(call("GET", "/api/v1/alerts", "ops").status, 503);
  EXPECT_EQ(call("POST", "/api/v1/silences", "sec").status, 503);
}

TEST_F(AlertsApiTest, MetricsCarryTheAlertingCounters) {
  raise("10.30.0.1", 0);
  svc_->pump();
  auto m = call("GET", "/metrics", "ops").body;
  EXPECT_NE(m.find("cg_controld_alerting{counter=\"alerts_raised\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("cg_controld_alert_deliveries_sent_total{channel=\"hook\"} 1"),
            std::string::npos);
}

}  // namespace
}  // namespace cg::testing

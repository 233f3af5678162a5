// Event ingest: parsing + enrichment of stream lines, the ingest thread against a local Unix
// socket that speaks the dataplane's events.subscribe stream (resume after the persisted stream
// position, also after a restart), and the alert feed (every stored event evaluated exactly
// once, in row-id order, also what a kill -9 left unevaluated) with a real alerting::Service.
#include "controlplane/events/ingest.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <thread>

#include "controlplane/alerting/service.h"
#include "controlplane/events/alert_feed.h"
#include "policies/compiler/policy.h"
#include "tests/unit/controlplane/controld/fixture.h"

namespace cg::testing {
namespace {

using nlohmann::json;

json alert(int i) {
  return {{"timestamp", "2026-11-29T23:54:56.123456+0000"},
          {"event_type", "alert"},
          {"event_id", "0badcafe-0-" + std::to_string(i)},
          {"schema_version", 1},
          {"flow_id", 7},
          {"community_id", "1:LQU9qZlK+B5F3KDmev6m5PMibrg="},
          {"src_ip", "10.30.0.7"},
          {"src_port", 51000},
          {"dest_ip", "203.0.113.9"},
          {"dest_port", 443},
          {"proto", "TCP"},
          {"app_proto", "TLS"},
          {"detector", "port_scan"},
          {"alert", {{"signature", "port scan"}, {"severity", 2}}}};
}

TEST(EventParse, EveFieldsAndEnrichment) {
  auto compiled = policy::compile_policy(example_policy(), "p.yaml");
  ASSERT_TRUE(compiled.ok());
  events::Enrichment e{"", compiled.image};
  store::Event ev;
  std::string err;
  ASSERT_TRUE(events::event_from_json(alert(1), e, &ev, &err)) << err;
  EXPECT_EQ(ev.event_id, "0badcafe-0-1");
  EXPECT_EQ(ev.ts_us, 1795996496123456LL);
  EXPECT_EQ(ev.severity, 2);
  EXPECT_EQ(ev.rule, "port_scan");
  EXPECT_EQ(ev.signature, "port scan");
  EXPECT_EQ(ev.src_port, 51000);
  EXPECT_EQ(ev.school_id, compiled.image->school_id);  // from the policy
  EXPECT_FALSE(ev.zone.empty());                       // 10.30.0.0/20 is a zone of the example
  auto body = json::parse(ev.body);
  EXPECT_EQ(body["zone"], ev.zone);
  EXPECT_EQ(body["school_id"], ev.school_id);
  // The dataplane's own zone / school win; the configured school id beats the policy's.
  auto j = alert(2);
  j["zone"] = "lab";
  e.school_id = "s-42";
  ASSERT_TRUE(events::event_from_json(j, e, &ev, &err));
  EXPECT_EQ(ev.zone, "lab");
  EXPECT_EQ(ev.school_id, "s-42");
}

TEST(EventParse, RejectsWhatIsNotAnEvent) {
  events::Enrichment e;
  store::Event ev;
  std::string err;
  EXPECT_FALSE(events::event_from_line("not json", e, &ev, &err));
  EXPECT_FALSE(events::event_from_line("[1,2]", e, &ev, &err));
  auto j = alert(1);
  j.erase("event_id");
  EXPECT_FALSE(events::event_from_json(j, e, &ev, &err));
  j = alert(1);
  j["timestamp"] = "yesterday";
  EXPECT_FALSE(events::event_from_json(j, e, &ev, &err));
  j = alert(1);
  j["src_port"] = 70000;  // out of range: dropped to 0, the event is kept
  ASSERT_TRUE(events::event_from_json(j, e, &ev, &err));
  EXPECT_EQ(ev.src_port, 0);
}

class IngestTest : public ControldFixture {
 protected:
  // A listening Unix socket standing in for the dataplane's control socket.
  int listen_socket() {
    path_ = (dir_ / "dp.sock").string();
    int srv = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    EXPECT_EQ(listen(srv, 4), 0);
    return srv;
  }
  // Accepts one subscriber, returns its request, sends `out` and closes.
  json serve(int srv, const std::string& out) {
    int c = accept(srv, nullptr, nullptr);
    EXPECT_GE(c, 0);
    std::string req;
    char buf[512];
    while (req.find('\n') == std::string::npos) {
      ssize_t n = recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    EXPECT_EQ(send(c, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
    ::close(c);
    return json::parse(req.substr(0, req.find('\n')), nullptr, false);
  }
  void wait_stored(events::EventIngest& ingest, uint64_t n) {
    for (int i = 0; i < 400; ++i) {
      auto c = ingest.counters();
      if (c.stored + c.duplicates >= n) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  std::string path_;
};

TEST_F(IngestTest, StreamIsStoredInBatchesAndSurvivesReconnects) {
  int srv = listen_socket();
  events::EventIngest ingest(*store_, {path_, 50, 20, 100000}, "s-1", nullptr);
  int hooks = 0;
  ingest.set_commit_hook([&hooks] { ++hooks; });
  ingest.start();
  // Two connections of an older dataplane (no run, no stream_seq): the first sends 120 events
  // and a garbage line, then closes; the ingest reconnects and the second sends 80 more plus
  // 10 repeats.
  auto lines = [](int from, int to, bool garbage) {
    std::string out = "{\"v\":1,\"ok\":true}\n";
    for (int i = from; i < to; ++i) out += alert(i).dump() + "\n";
    if (garbage) out += "{\"broken\n";
    return out;
  };
  json req = serve(srv, lines(0, 120, true));
  EXPECT_EQ(req["cmd"], "events.subscribe");
  EXPECT_EQ(req["after"], json({{"run", ""}, {"seq", 0}})) << "always asks for the backlog";
  serve(srv, lines(110, 200, false));
  wait_stored(ingest, 210);
  ingest.stop();
  ::close(srv);
  auto c = ingest.counters();
  EXPECT_EQ(c.received, 210u);
  EXPECT_EQ(c.stored, 200u);
  EXPECT_EQ(c.duplicates, 10u);
  EXPECT_EQ(c.malformed, 1u);
  EXPECT_GE(c.connects, 2u);
  EXPECT_EQ(c.resumes, 0u) << "no stream position known";
  int64_t total = 0;
  ASSERT_TRUE(store_->total_events(&total));
  EXPECT_EQ(total, 200);
  EXPECT_NE(ingest.metrics_text().find("cg_controld_events_stored_total 200"), std::string::npos);
  EXPECT_GE(hooks, 1);
}

json seq_alert(int i) {
  json j = alert(i);
  j["event_id"] = "c0ffee42-0-" + std::to_string(i);
  j["stream_seq"] = i;
  return j;
}

// What the dataplane's hub does: the ack names the run and the replay; lines carry stream_seq.
std::string stream(int from, int to, int seq_now, int replay_lines) {
  json ack = {{"v", 1},
              {"ok", true},
              {"stream", "events.subscribe"},
              {"run", "c0ffee42"},
              {"seq", seq_now}};
  if (replay_lines) ack["replay_from"] = from, ack["replay_lines"] = replay_lines;
  std::string out = ack.dump() + "\n";
  for (int i = from; i <= to; ++i) out += seq_alert(i).dump() + "\n";
  return out;
}

TEST_F(IngestTest, ResumesAfterTheLastPositionAlsoAfterARestart) {
  int srv = listen_socket();
  {
    events::EventIngest ingest(*store_, {path_, 20, 20, 100000}, "s-1", nullptr);
    ingest.start();
    json req = serve(srv, stream(1, 100, 0, 0));
    EXPECT_EQ(req["after"]["run"], "");
    wait_stored(ingest, 100);
    // The stream broke: the next subscribe resumes after what this process received.
    req = serve(srv, stream(101, 150, 140, 40));
    EXPECT_EQ(req["after"], json({{"run", "c0ffee42"}, {"seq", 100}}));
    wait_stored(ingest, 150);
    ingest.stop();
    auto c = ingest.counters();
    EXPECT_EQ(c.stored, 150u);
    EXPECT_GE(c.resumes, 1u);  // and maybe one more connect queued before stop()
    EXPECT_EQ(c.replayed, 40u) << "lines 101..140 came from the dataplane's backlog";
    EXPECT_NE(ingest.metrics_text().find("cg_controld_events_replayed_total 40"),
              std::string::npos);
  }
  std::string text;
  bool found = false;
  ASSERT_TRUE(store_->get_state(events::kStreamPositionKey, &text, &found));
  ASSERT_TRUE(found);
  events::StreamPosition pos;
  ASSERT_TRUE(events::position_from_json(text, &pos));
  EXPECT_EQ(pos.run, "c0ffee42");
  EXPECT_EQ(pos.seq, 150u) << "the last committed batch's position";
  // A new process (after a kill -9 or a restart) resumes from the persisted position; lines it
  // gets again are duplicates the store skips. (A fresh socket: none of the old connects.)
  ::close(srv);
  ::unlink(path_.c_str());
  srv = listen_socket();
  events::EventIngest again(*store_, {path_, 20, 20, 100000}, "s-1", nullptr);
  again.start();
  json req = serve(srv, stream(141, 160, 160, 20));
  EXPECT_EQ(req["after"], json({{"run", "c0ffee42"}, {"seq", 150}}));
  wait_stored(again, 20);
  again.stop();
  ::close(srv);
  EXPECT_EQ(again.counters().stored, 10u);
  EXPECT_EQ(again.counters().duplicates, 10u);
  EXPECT_GE(again.counters().resumes, 1u);
  int64_t total = 0;
  ASSERT_TRUE(store_->total_events(&total));
  EXPECT_EQ(total, 160);
}

TEST_F(IngestTest, ARefusedSubscribeIsCountedAndRetried) {
  int srv = listen_socket();
  events::EventIngest ingest(*store_, {path_, 20, 20, 100000}, "s-1", nullptr);
  ingest.start();
  serve(srv, "{\"v\":1,\"ok\":false,\"error\":\"events.subscribe: 'after' must be ...\"}\n");
  serve(srv, stream(1, 5, 5, 0));
  wait_stored(ingest, 5);
  ingest.stop();
  ::close(srv);
  EXPECT_EQ(ingest.counters().refused, 1u);
  EXPECT_EQ(ingest.counters().stored, 5u);
}

// The alert feed over the real store and a real alerting::Service (rule: one alert per event,
// dedup by event_id, so an event evaluated twice would fold into its alert: events == 2).
class AlertFeedTest : public ControldFixture {
 protected:
  std::unique_ptr<alerting::Service> service() {
    std::string y = "version: 1\ndelivery: {queue: " + (dir_ / "alerts.db").string() +
                    "}\nchannels:\n  hook: {type: webhook, url: 'http://127.0.0.1:1/'}\n"
                    "rules:\n  - name: each\n    match: {detector: port_scan}\n"
                    "    group_by: event_id\n    threshold: {count: 1, window: 5m}\n"
                    "    dedup: {key: [event_id], window: 1h}\n    channels: [hook]\n";
    auto cfg = alerting::load_config(y, "a.yaml");
    EXPECT_TRUE(cfg.ok());
    std::string err;
    auto svc = alerting::Service::create(cfg.config, clock_, err);
    EXPECT_TRUE(svc) << err;
    return svc;
  }
  static events::AlertFeed::Evaluate to(alerting::Service& svc) {
    return [&svc](const std::vector<store::Event>& evs, int64_t through) {
      std::vector<json> bodies;
      for (const auto& e : evs) bodies.push_back(json::parse(e.body, nullptr, false));
      svc.ingest_stored(bodies, through);
    };
  }
  void insert(int from, int to) {
    std::vector<store::Event> v;
    events::Enrichment e;
    for (int i = from; i < to; ++i) {
      store::Event ev;
      std::string err;
      ASSERT_TRUE(events::event_from_json(alert(i), e, &ev, &err)) << err;
      v.push_back(ev);
    }
    ASSERT_TRUE(store_->insert_events(v, nullptr));
  }
  static std::map<std::string, uint64_t> alerts_by_event(alerting::Service& svc) {
    alerting::AlertQuery q;
    q.limit = 1000;
    std::map<std::string, uint64_t> out;
    for (const auto& a : svc.list_alerts(q)) out[a.event["event_id"]] += a.events;
    return out;
  }
};

TEST_F(AlertFeedTest, EveryStoredEventIsEvaluatedOnceAcrossACrash) {
  insert(0, 5);  // history from before alerting existed: not alerted on
  {
    auto svc = service();
    EXPECT_EQ(svc->evaluated_through(), -1);
    events::AlertFeed feed(*store_, to(*svc), 7);
    ASSERT_TRUE(feed.start(svc->evaluated_through()));
    EXPECT_EQ(feed.advance(), 0u);
    insert(5, 35);
    EXPECT_EQ(feed.advance(), 30u) << "in pages of 7";
    EXPECT_EQ(feed.advance(), 0u);
    // Committed by the ingest, then controld is killed before the feed ran.
    insert(35, 50);
  }
  auto svc = service();
  events::AlertFeed feed(*store_, to(*svc), 7);
  ASSERT_TRUE(feed.start(svc->evaluated_through()));
  EXPECT_EQ(feed.advance(), 15u) << "catch-up at start: exactly what was never evaluated";
  EXPECT_EQ(feed.caught_up(), 15u);
  insert(50, 52);
  EXPECT_EQ(feed.advance(), 2u);
  EXPECT_EQ(feed.caught_up(), 15u);
  EXPECT_EQ(feed.evaluated(), 17u);
  auto seen = alerts_by_event(*svc);
  ASSERT_EQ(seen.size(), 47u);
  for (int i = 5; i < 52; ++i)
    EXPECT_EQ(seen[alert(i)["event_id"].get<std::string>()], 1u) << "event " << i;
  // A stale feed (same events again) is ignored by the engine's persisted mark.
  std::vector<store::Event> again;
  ASSERT_TRUE(store_->list_events_after(0, 100, &again));
  to (*svc)(again, again.back().id);
  for (const auto& [id, n] : alerts_by_event(*svc)) EXPECT_EQ(n, 1u) << id;
  EXPECT_NE(feed.metrics_text().find("cg_controld_alert_feed_caught_up_total 15"),
            std::string::npos);
}

}  // namespace
}  // namespace cg::testing

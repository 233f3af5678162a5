// Event ingest: parsing + enrichment of stream lines, and the ingest thread against a local
// Unix socket that speaks the dataplane's events.subscribe stream.
#include <sys/socket.h>
#include <unistd.h>
#include <sys/un.h>

#include <cstring>
#include <thread>

#include "controlplane/events/ingest.h"
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

class IngestTest : public ControldFixture {};

TEST_F(IngestTest, StreamIsStoredInBatchesAndSurvivesReconnects) {
  std::string path = (dir_ / "dp.sock").string();
  int srv = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(srv, 4), 0);
  events::EventIngest ingest(*store_, {path, 50, 20, 100000}, "s-1", nullptr);
  std::vector<std::string> sunk;  // what the alert engine would see: each event once
  ingest.set_sink([&sunk](const std::vector<store::Event>& evs) {
    for (const auto& e : evs) sunk.push_back(e.event_id);
  });
  ingest.start();
  // Two connections: the first sends 120 events and a garbage line, then closes; the ingest
  // reconnects and the second sends 80 more plus 10 repeats.
  auto serve = [&](int from, int to, bool garbage) {
    int c = accept(srv, nullptr, nullptr);
    ASSERT_GE(c, 0);
    char buf[256];
    ssize_t n = recv(c, buf, sizeof buf, 0);
    ASSERT_GT(n, 0);
    EXPECT_NE(std::string(buf, static_cast<size_t>(n)).find("events.subscribe"),
              std::string::npos);
    std::string out = "{\"v\":1,\"ok\":true}\n";
    for (int i = from; i < to; ++i) out += alert(i).dump() + "\n";
    if (garbage) out += "{\"broken\n";
    ASSERT_EQ(send(c, out.data(), out.size(), MSG_NOSIGNAL), static_cast<ssize_t>(out.size()));
    ::close(c);
  };
  serve(0, 120, true);
  serve(110, 200, false);
  for (int i = 0; i < 400 && ingest.counters().stored + ingest.counters().duplicates < 210; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  ingest.stop();
  ::close(srv);
  auto c = ingest.counters();
  EXPECT_EQ(c.received, 210u);
  EXPECT_EQ(c.stored, 200u);
  EXPECT_EQ(c.duplicates, 10u);
  EXPECT_EQ(c.malformed, 1u);
  EXPECT_GE(c.connects, 2u);
  int64_t total = 0;
  ASSERT_TRUE(store_->total_events(&total));
  EXPECT_EQ(total, 200);
  EXPECT_NE(ingest.metrics_text().find("cg_controld_events_stored_total 200"), std::string::npos);
  ASSERT_EQ(sunk.size(), 200u);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(sunk[static_cast<size_t>(i)], alert(i)["event_id"]);
}

}  // namespace
}  // namespace cg::testing

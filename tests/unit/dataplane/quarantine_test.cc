// Quarantine (dataplane/runtime/quarantine.h): strict parsing of the quarantine.set list, the
// RCU publish to worker slots (real rte_rcu_qsbr, plain threads as workers), the pipeline's
// drop in both directions with drop_quarantine and a rate-limited `quarantine` event; and the
// blocklist hot reload of PolicyLoader (detect.blocklist.files re-read at prepare).
#include "dataplane/runtime/quarantine.h"

#include <gtest/gtest.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <thread>

#include "dataplane/export/event_json.h"
#include "dataplane/pipeline/pipeline.h"
#include "dataplane/runtime/policy_loader.h"
#include "policies/compiler/policy.h"
#include "dataplane/main/compile_for_loader.h"
#include "tests/unit/dataplane/frame_builder.h"
#include "tests/unit/dataplane/rcu_readers.h"

namespace cg::runtime {
namespace {

using namespace cg::testing;

std::array<uint8_t, 16> mapped(const char* v4) {
  std::array<uint8_t, 16> a{};
  a[10] = a[11] = 0xff;
  uint32_t x = ip4(v4);
  a[12] = x >> 24;
  a[13] = x >> 16;
  a[14] = x >> 8;
  a[15] = x;
  return a;
}
std::array<uint8_t, 16> v6(const char* s) {
  std::array<uint8_t, 16> a{};
  inet_pton(AF_INET6, s, a.data());
  return a;
}

TEST(QuarantineParse, CanonicalSortedDeduplicated) {
  QuarantineList q;
  std::string err;
  ASSERT_TRUE(parse_quarantine(nlohmann::json::array({"10.1.2.3", "2001:DB8::7", "10.9.0.77/24",
                                                      "10.1.2.3", "::ffff:192.0.2.1",
                                                      "2001:db8:1::1/48", "0.0.0.0/0"}),
                               &q, &err))
      << err;
  EXPECT_EQ(q.addresses, (std::vector<std::string>{"0.0.0.0/0", "10.1.2.3", "10.9.0.0/24",
                                                   "192.0.2.1", "2001:db8:1::/48",
                                                   "2001:db8::7"}));
  ASSERT_NE(q.matcher, nullptr);
  EXPECT_TRUE(q.matcher->match_addr(mapped("10.9.0.200")));
  EXPECT_TRUE(q.matcher->match_addr(v6("2001:db8:1:ffff::9")));
  EXPECT_TRUE(q.matcher->match_addr(v6("2001:db8::7")));
  EXPECT_FALSE(q.matcher->match_addr(v6("2001:db8::8")));
}

TEST(QuarantineParse, EmptyListHasNoMatcher) {
  QuarantineList q;
  std::string err;
  ASSERT_TRUE(parse_quarantine(nlohmann::json::array(), &q, &err));
  EXPECT_TRUE(q.addresses.empty());
  EXPECT_EQ(q.matcher, nullptr);
}

TEST(QuarantineParse, RejectsWhatIsNotAnAddress) {
  for (const nlohmann::json& bad :
       {nlohmann::json::array({"10.1.2.3", "x"}), nlohmann::json::array({"10.0.0.0/33"}),
        nlohmann::json::array({"2001:db8::/129"}), nlohmann::json::array({"10.0.0.1/"}),
        nlohmann::json::array({"10.0.0.1/-1"}), nlohmann::json::array({"evil.example.com"}),
        nlohmann::json::array({""}), nlohmann::json::array({7}),
        nlohmann::json::array({"10.0.0.1 10.0.0.2"}), nlohmann::json::array({"10.0.0.1\n"}),
        nlohmann::json("10.0.0.1"), nlohmann::json::object()}) {
    QuarantineList q;
    std::string err;
    EXPECT_FALSE(parse_quarantine(bad, &q, &err)) << bad.dump();
    EXPECT_FALSE(err.empty());
  }
  QuarantineList q;
  std::string err;
  EXPECT_FALSE(parse_quarantine(nlohmann::json::array({"10.1.2.3", "x"}), &q, &err));
  EXPECT_EQ(err, "bad address 'x'");
  nlohmann::json many = nlohmann::json::array();
  for (size_t i = 0; i <= kMaxQuarantineEntries; ++i) many.push_back("10.0.0.1");
  EXPECT_FALSE(parse_quarantine(many, &q, &err));
}

// Threads that follow the runtime's protocol: adopt the published set at a "burst boundary",
// use it, report quiescent.
struct Workers : RcuReaders {
  static constexpr uint32_t kN = 2;
  std::atomic<const detect::Blocklist*> slots[kN]{};
  std::atomic<uint64_t> hits[kN]{};
  Workers() : RcuReaders(kN) {
    start([this, probe = mapped("10.1.2.3")](uint32_t i) {
      const detect::Blocklist* q = slots[i].load(std::memory_order_acquire);
      if (q && q->match_addr(probe)) hits[i].fetch_add(1);
    });
  }
  ~Workers() { join(); }  // before the slots the threads read go
  std::vector<std::atomic<const detect::Blocklist*>*> ptrs() {
    std::vector<std::atomic<const detect::Blocklist*>*> v;
    for (auto& s : slots) v.push_back(&s);
    return v;
  }
};

TEST(QuarantineLoader, SetPublishesToEveryWorkerBadListChangesNothingEmptyClears) {
  Workers w;
  QuarantineLoader loader(w.ptrs(), w.qs, std::chrono::milliseconds(5000));
  EXPECT_EQ(loader.status()["entries"], 0);

  auto r = loader.set({{"cmd", "quarantine.set"}, {"addresses", {"10.1.2.3", "10.9.0.0/24"}}});
  ASSERT_TRUE(r["ok"]) << r.dump();
  EXPECT_EQ(r["entries"], 2);
  EXPECT_TRUE(r.contains("apply_us"));
  for (auto& s : w.slots) ASSERT_NE(s.load(), nullptr);
  EXPECT_EQ(w.slots[0].load(), w.slots[1].load()) << "one frozen set shared by the workers";
  for (auto& h : w.hits)
    while (h.load() == 0) std::this_thread::yield();
  const detect::Blocklist* first = w.slots[0].load();

  auto bad = loader.set({{"addresses", {"10.1.2.4", "300.1.1.1"}}});
  EXPECT_FALSE(bad["ok"]);
  EXPECT_NE(bad["error"].get<std::string>().find("bad address '300.1.1.1'"), std::string::npos)
      << bad.dump();
  EXPECT_EQ(w.slots[0].load(), first) << "nothing changes on error";
  EXPECT_FALSE(loader.set({{"cmd", "quarantine.set"}})["ok"]);

  auto st = loader.status();
  EXPECT_EQ(st["entries"], 2);
  EXPECT_EQ(st["addresses"], nlohmann::json({"10.1.2.3", "10.9.0.0/24"}));
  EXPECT_EQ(st["sets_ok"], 1);
  EXPECT_EQ(st["sets_failed"], 2);

  // Replacement: the old set is freed after the grace period (ASan would see a reader's use).
  ASSERT_TRUE(loader.set({{"addresses", {"2001:db8::7"}}})["ok"]);
  EXPECT_NE(w.slots[0].load(), nullptr);
  ASSERT_TRUE(loader.set({{"addresses", nlohmann::json::array()}})["ok"]);
  for (auto& s : w.slots) EXPECT_EQ(s.load(), nullptr) << "empty set: nothing to match";
  EXPECT_EQ(loader.status()["entries"], 0);
  w.join();
}

struct PipeHarness {
  pipeline::Pipeline p;
  static pipeline::PipelineConfig cfg() {
    pipeline::PipelineConfig c;
    c.table.capacity = 1024;
    c.classify = false;
    c.detect.policy_events_per_source = 3;
    return c;
  }
  PipeHarness() : p(cfg()) {}
  pipeline::Verdict send(const Bytes& f, uint8_t port, uint64_t ts = 1'000'000'000) {
    pipeline::PacketRef r{f.data(), static_cast<uint32_t>(f.size()),
                          static_cast<uint32_t>(f.size()), ts, port};
    pipeline::Verdict v;
    p.process(&r, 1, &v);
    return v;
  }
};

TEST(QuarantinePipeline, DropsBothDirectionsCountsAndRateLimitsEvents) {
  PipeHarness h;
  QuarantineList q;
  std::string err;
  ASSERT_TRUE(parse_quarantine({"10.0.0.5", "2001:db8::/64"}, &q, &err));
  const Bytes out = frame(eth(0x0800), ipv4(ip4("10.0.0.5"), ip4("192.0.2.1"), 6, tcp(4000, 80, 2)));
  const Bytes in = frame(eth(0x0800), ipv4(ip4("192.0.2.1"), ip4("10.0.0.5"), 1, icmp(0, 0)));
  const Bytes other =
      frame(eth(0x0800), ipv4(ip4("10.0.0.6"), ip4("192.0.2.1"), 6, tcp(4000, 80, 2)));
  const Bytes six = frame(eth(0x86dd), ipv6("2001:db8::99", "2001:db8:5::1", 17, {}, udp(5, 53)));
  EXPECT_EQ(h.send(out, 0), pipeline::Verdict::kForward) << "nothing quarantined yet";

  h.p.install_quarantine(q.matcher.get());
  const size_t flows_before = h.p.table().size();
  EXPECT_EQ(h.send(out, 0), pipeline::Verdict::kDrop) << "from the quarantined host";
  EXPECT_EQ(h.send(in, 1), pipeline::Verdict::kDrop) << "to the quarantined host";
  EXPECT_EQ(h.send(six, 0), pipeline::Verdict::kDrop) << "IPv6 prefix";
  EXPECT_EQ(h.send(other, 0), pipeline::Verdict::kForward) << "another host passes";
  EXPECT_EQ(h.p.counter(pipeline::Counter::kDropQuarantine), 3u);
  EXPECT_EQ(h.p.table().size(), flows_before + 1) << "quarantined packets create no flow";

  for (int i = 0; i < 10; ++i) h.send(out, 0, 2'000'000'000 + i);
  EXPECT_EQ(h.p.counter(pipeline::Counter::kDropQuarantine), 13u);
  const auto& d = h.p.detector();
  // 10.0.0.5: 3 events per window (config), the rest suppressed; 2001:db8::99: 1 event.
  EXPECT_EQ(d.counter(detect::Counter::kQuarantineEvents), 4u);
  EXPECT_EQ(d.counter(detect::Counter::kQuarantineEventsSuppressed), 9u);

  exporter::Event evs[16];
  uint32_t n = h.p.detector().events().pop(evs, 16);
  ASSERT_EQ(n, 4u);
  exporter::EventContext ctx;
  auto j = exporter::to_json(evs[0], ctx);
  EXPECT_EQ(j["event_type"], "alert");
  EXPECT_EQ(j["detector"], "quarantine");
  EXPECT_EQ(j["src_ip"], "10.0.0.5");
  EXPECT_EQ(j["dest_port"], 80);
  EXPECT_EQ(j["alert"]["action"], "blocked");
  EXPECT_EQ(j["quarantine"]["entry"], "10.0.0.5");
  auto j2 = exporter::to_json(evs[1], ctx);
  EXPECT_EQ(j2["src_ip"], "192.0.2.1");
  EXPECT_EQ(j2["quarantine"]["entry"], "10.0.0.5") << "the quarantined end, not the source";
  auto j3 = exporter::to_json(evs[2], ctx);
  EXPECT_EQ(j3["quarantine"]["entry"], "2001:db8::99");

  h.p.install_quarantine(nullptr);
  EXPECT_EQ(h.send(out, 0, 3'000'000'000), pipeline::Verdict::kForward) << "lifted";
}

// ---- blocklist hot reload (PolicyLoader) ----

constexpr const char* kPolicy = R"(apiVersion: campusguard/v1
school: { id: t-1, name: test, timezone: Asia/Shanghai }
rules:
  - { name: no-ssh, dst-ports: 22, action: deny }
default: allow
)";

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& text) {
    char tmpl[] = "/tmp/cg_blocklist_XXXXXX";
    int fd = mkstemp(tmpl);
    close(fd);
    path = tmpl;
    write(text);
  }
  void write(const std::string& text) const { std::ofstream(path) << text; }
  ~TempFile() { unlink(path.c_str()); }
};

TEST(BlocklistReload, PrepareRereadsTheFilesBrokenFileChangesNothing) {
  TempFile feed("198.51.100.0/24 ; SBL1\nevil.example.com\n");
  std::shared_ptr<const detect::Blocklist> initial;
  std::string err;
  ASSERT_TRUE(load_blocklists({feed.path}, &initial, &err)) << err;
  ASSERT_TRUE(initial->match_addr(mapped("198.51.100.9")));

  std::atomic<WorkerPolicy*> slot{nullptr};
  PolicyLoader loader(compile_for_loader, {&slot}, nullptr, std::chrono::milliseconds(1000));
  loader.set_blocklist_files({feed.path}, initial);

  feed.write("198.51.100.0/24\n203.0.113.7\n");
  auto p = loader.prepare(kPolicy, "p.yaml");
  ASSERT_TRUE(p["ok"]) << p.dump();
  EXPECT_EQ(p["blocklist_entries"], 2);
  ASSERT_TRUE(loader.apply(p["generation"])["ok"]);
  WorkerPolicy* w = slot.load();
  ASSERT_NE(w->blocklist, nullptr);
  EXPECT_TRUE(w->blocklist->match_addr(mapped("203.0.113.7"))) << "the new entry";
  EXPECT_EQ(w->blocklist->match_domain("evil.example.com"), nullptr) << "the removed entry";

  feed.write("203.0.113.8\nthis is not an entry\n");
  auto bad = loader.prepare(kPolicy, "p.yaml");
  EXPECT_FALSE(bad["ok"]);
  EXPECT_NE(bad["error"].get<std::string>().find(feed.path + ":2:"), std::string::npos)
      << bad.dump();
  EXPECT_EQ(slot.load(), w) << "nothing changed";
  EXPECT_TRUE(slot.load()->blocklist->match_addr(mapped("203.0.113.7")));

  loader.set_blocklist_files({feed.path + ".missing"}, nullptr);
  auto missing = loader.prepare(kPolicy, "p.yaml");
  EXPECT_FALSE(missing["ok"]);
  EXPECT_NE(missing["error"].get<std::string>().find("cannot open"), std::string::npos);
}

}  // namespace
}  // namespace cg::runtime

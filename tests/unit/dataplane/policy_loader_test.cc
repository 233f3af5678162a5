// PolicyLoader: two-phase load with real compiled policies and real rte_rcu_qsbr, with plain
// threads standing in for workers (same slot/quiescent protocol as the runtime's loop).
#include "dataplane/runtime/policy_loader.h"

#include <gtest/gtest.h>
#include <rte_rcu_qsbr.h>

#include <cstdlib>
#include <thread>

#include "policies/compiler/policy.h"
#include "dataplane/main/compile_for_loader.h"
#include "tests/unit/dataplane/rcu_readers.h"

namespace cg::runtime {
namespace {

constexpr const char* kPolicyA = R"(apiVersion: campusguard/v1
school: { id: t-1, name: test, timezone: Asia/Shanghai }
rules:
  - { name: no-ssh, dst-ports: 22, action: deny }
default: allow
)";
constexpr const char* kPolicyB = R"(apiVersion: campusguard/v1
school: { id: t-1, name: test, timezone: Asia/Shanghai }
rules:
  - { name: no-telnet, dst-ports: 23, action: deny }
  - { name: no-ssh, dst-ports: 22, action: deny }
default: deny
)";

// Workers that follow the runtime's protocol: adopt the published binding at a "burst
// boundary", touch it (as judging a packet would), report quiescent.
struct Workers : RcuReaders {
  static constexpr uint32_t kN = 2;
  std::atomic<WorkerPolicy*> slots[kN]{};
  std::atomic<uint64_t> seen_rules[kN]{};

  Workers() : RcuReaders(kN) {}
  void start() {
    RcuReaders::start([this](uint32_t i) {
      if (WorkerPolicy* mine = slots[i].load(std::memory_order_acquire)) {
        mine->binding->default_rule.packets += 1;  // a use of the binding
        seen_rules[i].store(mine->binding->image->rules.size());
      }
    });
  }
  ~Workers() { join(); }  // before the slots the threads read go
  std::vector<std::atomic<WorkerPolicy*>*> slot_ptrs() {
    std::vector<std::atomic<WorkerPolicy*>*> v;
    for (auto& s : slots) v.push_back(&s);
    return v;
  }
};

TEST(PolicyLoader, PrepareChangesNothingApplySwapsEveryWorker) {
  Workers w;
  w.start();
  PolicyLoader loader(compile_for_loader, w.slot_ptrs(), w.qs, std::chrono::milliseconds(5000));
  EXPECT_EQ(loader.status()["generation"], 0);

  auto p = loader.prepare(kPolicyA, "a.yaml");
  ASSERT_TRUE(p["ok"]) << p.dump();
  EXPECT_EQ(p["generation"], 1);
  EXPECT_EQ(p["rules"], 1);
  EXPECT_EQ(w.slots[0].load(), nullptr) << "prepare must not publish";
  EXPECT_EQ(loader.status()["generation"], 0);

  auto a = loader.apply(1);
  ASSERT_TRUE(a["ok"]) << a.dump();
  EXPECT_EQ(a["previous"], 0);
  // apply returned after every worker passed a quiescent state with the new binding published.
  for (uint32_t i = 0; i < Workers::kN; ++i) {
    while (w.seen_rules[i].load() != 1) std::this_thread::yield();
    EXPECT_NE(w.slots[i].load(), nullptr);
  }
  EXPECT_NE(w.slots[0].load(), w.slots[1].load()) << "one binding (counters) per worker";

  auto st = loader.status();
  EXPECT_EQ(st["generation"], 1);
  EXPECT_EQ(st["origin"], "a.yaml");
  EXPECT_EQ(st["sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ(st["rules"], 1);

  ASSERT_TRUE(loader.prepare(kPolicyB, "b.yaml")["ok"]);
  auto b = loader.apply(2);
  ASSERT_TRUE(b["ok"]) << b.dump();
  EXPECT_EQ(b["previous"], 1);
  for (uint32_t i = 0; i < Workers::kN; ++i)
    while (w.seen_rules[i].load() != 2) std::this_thread::yield();
  auto rules = loader.rule_counters();
  ASSERT_EQ(rules.size(), 3u);  // no-telnet, no-ssh, default
  EXPECT_EQ(rules[0]["rule"], "no-telnet");
  EXPECT_EQ(rules[2]["rule"], "default");
  EXPECT_GT(rules[2]["packets"].get<uint64_t>(), 0u);
  EXPECT_NE(loader.status()["sha256"], st["sha256"]);
  w.join();
}

TEST(PolicyLoader, RuleCountersContinueAcrossGenerationsByRuleName) {
  Workers w;
  w.start();
  PolicyLoader loader(compile_for_loader, w.slot_ptrs(), w.qs, std::chrono::milliseconds(5000));
  ASSERT_TRUE(loader.prepare(kPolicyA, "a.yaml")["ok"]);
  ASSERT_TRUE(loader.apply(1)["ok"]);
  w.join();  // workers offline: the test counts in their bindings itself
  auto count = [&](size_t rule, uint64_t packets) {
    for (auto& slot : w.slots) {
      enforce::PolicyBinding& b = *slot.load()->binding;
      auto& c = rule < b.rules.size() ? b.rules[rule] : b.default_rule;
      c = {c.packets + packets, c.bytes + packets * 100, c.flows + 1};
    }
  };
  auto row = [&](const std::string& name) {
    for (const auto& r : loader.rule_counters())
      if (r["rule"] == name) return r;
    return nlohmann::json();
  };
  const uint64_t default_before = row("default")["packets"].get<uint64_t>();
  count(0, 5);    // no-ssh: 5 packets on each of the 2 workers
  count(99, 7);   // default
  ASSERT_TRUE(loader.prepare(kPolicyB, "b.yaml")["ok"]);
  ASSERT_TRUE(loader.apply(2)["ok"]);
  EXPECT_EQ(row("no-ssh")["packets"], 10u);  // carried into generation 2 (now rule 1)
  EXPECT_EQ(row("no-ssh")["bytes"], 1000u);
  EXPECT_EQ(row("no-ssh")["flows"], 2u);
  EXPECT_EQ(row("no-telnet")["packets"], 0u);
  EXPECT_EQ(row("default")["packets"], default_before + 14);
  count(1, 1);  // no-ssh in generation 2
  count(0, 3);  // no-telnet
  ASSERT_TRUE(loader.prepare(kPolicyA, "a.yaml")["ok"]);
  ASSERT_TRUE(loader.apply(3)["ok"]);
  EXPECT_EQ(row("no-ssh")["packets"], 12u);
  EXPECT_TRUE(row("no-telnet").is_null());  // gone with generation 3
  ASSERT_TRUE(loader.prepare(kPolicyB, "b.yaml")["ok"]);
  ASSERT_TRUE(loader.apply(4)["ok"]);
  EXPECT_EQ(row("no-telnet")["packets"], 0u) << "a rule that left and came back starts again";
  EXPECT_EQ(row("no-ssh")["packets"], 12u);
}

TEST(PolicyLoader, BadPolicyChangesNothingAndNamesTheError) {
  Workers w;
  w.start();
  PolicyLoader loader(compile_for_loader, w.slot_ptrs(), w.qs, std::chrono::milliseconds(5000));
  ASSERT_TRUE(loader.prepare(kPolicyA, "a.yaml")["ok"]);
  ASSERT_TRUE(loader.apply(1)["ok"]);
  WorkerPolicy* before = w.slots[0].load();

  auto bad = loader.prepare("apiVersion: campusguard/v1\nrules: [ { name: x, action: maybe } ]\n",
                            "bad.yaml");
  EXPECT_FALSE(bad["ok"]);
  ASSERT_FALSE(bad["diagnostics"].empty());
  EXPECT_NE(bad["diagnostics"][0].get<std::string>().find("bad.yaml:"), std::string::npos)
      << bad.dump();
  EXPECT_EQ(w.slots[0].load(), before);
  EXPECT_EQ(loader.status()["generation"], 1);
  EXPECT_EQ(loader.status()["prepares_failed"], 1);
  EXPECT_FALSE(loader.apply(2)["ok"]) << "nothing prepared";
  w.join();
}

TEST(PolicyLoader, ApplyNeedsThePreparedGeneration) {
  Workers w;
  w.start();
  PolicyLoader loader(compile_for_loader, w.slot_ptrs(), w.qs, std::chrono::milliseconds(5000));
  ASSERT_TRUE(loader.prepare(kPolicyA, "a.yaml")["ok"]);
  ASSERT_TRUE(loader.prepare(kPolicyB, "b.yaml")["ok"]);  // replaces the unapplied one
  auto wrong = loader.apply(1);
  EXPECT_FALSE(wrong["ok"]);
  EXPECT_NE(wrong["error"].get<std::string>().find("not the prepared one (2)"),
            std::string::npos);
  EXPECT_TRUE(loader.apply(2)["ok"]);
  EXPECT_EQ(loader.status()["origin"], "b.yaml");
  w.join();
}

TEST(PolicyLoader, WorkerThatNeverReportsIsAnErrorAndTheOldImageIsKept) {
  Workers w;
  w.start();
  PolicyLoader loader(compile_for_loader, w.slot_ptrs(), w.qs, std::chrono::milliseconds(200));
  ASSERT_TRUE(loader.prepare(kPolicyA, "a.yaml")["ok"]);
  ASSERT_TRUE(loader.apply(1)["ok"]);
  w.paused.store(true);  // workers still read their binding but stop reporting
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(loader.prepare(kPolicyB, "b.yaml")["ok"]);
  auto r = loader.apply(2);
  EXPECT_FALSE(r["ok"]);
  EXPECT_NE(r["error"].get<std::string>().find("quiescent"), std::string::npos);
  EXPECT_EQ(loader.status()["generation"], 2) << "published all the same";
  w.paused.store(false);  // (ASan: generation 1 must still be alive while workers read it)
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  w.join();
}

TEST(PolicyLoader, WithoutCompilerLoadingIsRefused) {
  PolicyLoader loader(nullptr, {}, nullptr, std::chrono::milliseconds(100));
  auto r = loader.prepare(kPolicyA, "a.yaml");
  EXPECT_FALSE(r["ok"]);
}

}  // namespace
}  // namespace cg::runtime

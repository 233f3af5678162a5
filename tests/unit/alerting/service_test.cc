// Service: persisted queue, backoff, restart, ack and silences, with fake channels and a manual
// clock over a real SQLite file in a temporary directory.
#include "controlplane/alerting/service.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace cg::alerting {
namespace {

namespace fs = std::filesystem;

struct FakeLog {
  bool up = true;
  std::vector<std::pair<std::string, uint64_t>> sent;  // channel, alert id
  int attempts = 0;
};

class FakeChannel final : public Channel {
 public:
  FakeChannel(ChannelConfig c, FakeLog& log) : Channel(std::move(c)), log_(log) {}
  SendResult send(const Alert& a, TimePoint) override {
    ++log_.attempts;
    if (!log_.up) return {false, "connect: Connection refused"};
    log_.sent.emplace_back(config_.name, a.id);
    return {true, ""};
  }

 private:
  FakeLog& log_;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cg-alert-svc-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::shared_ptr<const AlertingConfig> config(const std::string& extra = "") {
    std::string y = "version: 1\ndelivery:\n  queue: " + (dir_ / "alerts.db").string() +
                    "\n  backoff: {initial: 1s, max: 8s, multiplier: 2}\n" + extra +
                    "channels:\n  a: {type: webhook, url: 'http://127.0.0.1:1/'}\n"
                    "  b: {type: syslog, host: 127.0.0.1}\n"
                    "rules:\n  - {name: r, group_by: src_ip, channels: [a, b]}\n";
    auto r = load_config(y, "svc.yaml");
    for (const auto& e : r.errors) ADD_FAILURE() << format_diagnostic(e);
    return r.config;
  }

  std::unique_ptr<Service> make(std::shared_ptr<const AlertingConfig> cfg) {
    std::string err;
    auto s = Service::create(cfg, clock_, err, {}, [this](const ChannelConfig& c) {
      return std::make_unique<FakeChannel>(c, log_);
    });
    EXPECT_TRUE(s) << err;
    return s;
  }

  static nlohmann::json ev(const std::string& src) {
    return {
        {"event_type", "alert"}, {"src_ip", src}, {"alert", {{"signature", "x"}, {"severity", 1}}}};
  }

  fs::path dir_;
  cp::ManualClock clock_{1'800'000'000'000'000};
  FakeLog log_;
};

TEST_F(ServiceTest, DeliversToEveryChannelOnce) {
  auto svc = make(config());
  auto raised = svc->ingest(ev("10.0.0.1"));
  ASSERT_EQ(raised.size(), 1u);
  EXPECT_EQ(svc->pending_deliveries(), 2u);
  EXPECT_EQ(svc->pump(), 2u);
  EXPECT_EQ(svc->pump(), 0u);
  EXPECT_EQ(log_.sent.size(), 2u);
  auto ds = svc->deliveries(raised[0].id);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].state, DeliveryState::kDelivered);
  EXPECT_EQ(ds[0].attempts, 1u);
  EXPECT_EQ(svc->channel_stats()["a"].sent, 1u);
}

TEST(AlertingBackoff, ExponentialAndCapped) {
  DeliveryConfig d;
  d.backoff_initial = Millis(1000);
  d.backoff_max = Millis(8000);
  d.backoff_multiplier = 2;
  EXPECT_EQ(backoff_delay(d, 1), Millis(1000));
  EXPECT_EQ(backoff_delay(d, 2), Millis(2000));
  EXPECT_EQ(backoff_delay(d, 4), Millis(8000));
  EXPECT_EQ(backoff_delay(d, 40), Millis(8000));
}

TEST_F(ServiceTest, RetriesWithBackoffAndSurvivesRestart) {
  log_.up = false;
  uint64_t id;
  {
    auto svc = make(config());
    id = svc->ingest(ev("10.0.0.1")).at(0).id;
    EXPECT_EQ(svc->pump(), 0u);  // attempt 1 fails for both channels
    EXPECT_EQ(log_.attempts, 2);
    EXPECT_EQ(svc->pump(), 0u);  // not due before 1 s
    EXPECT_EQ(log_.attempts, 2);
    clock_.advance_us(999'000);
    svc->pump();
    EXPECT_EQ(log_.attempts, 2);
    clock_.advance_us(1'000);
    svc->pump();  // attempt 2 at +1 s
    EXPECT_EQ(log_.attempts, 4);
    clock_.advance_us(1'999'000);
    svc->pump();
    EXPECT_EQ(log_.attempts, 4);  // attempt 3 is due 2 s after attempt 2
    auto ds = svc->deliveries(id);
    EXPECT_EQ(ds[0].attempts, 2u);
    EXPECT_EQ(ds[0].last_error, "connect: Connection refused");
    auto c = svc->counters();
    auto get = [&](const std::string& n) {
      for (auto& [k, v] : c)
        if (k == n) return v;
      return uint64_t(999);
    };
    EXPECT_EQ(get("delivery_attempts_failed"), 4u);
    EXPECT_EQ(get("deliveries_pending"), 2u);
  }
  // Restart: a new Service on the same file still owes both deliveries, keeps the alert and
  // continues the id sequence.
  log_.up = true;
  clock_.advance_us(10'000'000);
  auto svc = make(config());
  EXPECT_EQ(svc->pending_deliveries(), 2u);
  EXPECT_EQ(svc->pump(), 2u);
  EXPECT_EQ(svc->pending_deliveries(), 0u);
  EXPECT_EQ(log_.sent.size(), 2u);
  EXPECT_EQ(svc->get_alert(id)->rule, "r");
  // The dedup window (10 min) of alert `id` is still open: the repeat folds into it.
  EXPECT_TRUE(svc->ingest(ev("10.0.0.1")).empty());
  EXPECT_EQ(svc->get_alert(id)->events, 2u);
  EXPECT_EQ(svc->ingest(ev("10.0.0.2")).at(0).id, id + 1);
}

TEST_F(ServiceTest, AckAndList) {
  auto svc = make(config());
  svc->ingest(ev("10.0.0.1"));
  svc->ingest(ev("10.0.0.2"));
  svc->ingest(ev("10.0.0.1"));  // folded into alert 1
  auto all = svc->list_alerts({});
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, 2u);  // newest first
  EXPECT_EQ(all[1].events, 2u);
  EXPECT_TRUE(svc->ack(1, "zhang", "known scanner").is_ok());
  EXPECT_EQ(svc->ack(1, "zhang", "").code(), cp::Code::kConflict);
  EXPECT_EQ(svc->ack(99, "zhang", "").code(), cp::Code::kNotFound);
  EXPECT_EQ(svc->ack(2, "", "").code(), cp::Code::kInvalid);
  AlertQuery open;
  open.state = AlertState::kOpen;
  auto o = svc->list_alerts(open);
  ASSERT_EQ(o.size(), 1u);
  EXPECT_EQ(o[0].id, 2u);
  auto acked = svc->get_alert(1);
  EXPECT_EQ(acked->acked_by, "zhang");
  EXPECT_EQ(acked->ack_comment, "known scanner");
  AlertQuery page;
  page.before_id = 2;
  page.limit = 1;
  EXPECT_EQ(svc->list_alerts(page).at(0).id, 1u);
}

TEST_F(ServiceTest, RuntimeSilencesPersistAndExpire) {
  auto t0 = from_us(clock_.now_us());
  {
    auto svc = make(config());
    std::string err;
    auto s = silence_from_json({{"id", "night"},
                                {"owner", "li"},
                                {"reason", "drill"},
                                {"ends", format_rfc3339(t0 + Millis(60'000))},
                                {"match", {{"src_ip", {{"cidr", "10.0.0.0/24"}}}}}},
                               err);
    ASSERT_TRUE(s) << err;
    EXPECT_TRUE(svc->add_silence(*s).is_ok());
    auto bad = *s;
    bad.rules = {"nope"};
    EXPECT_EQ(svc->add_silence(bad).code(), cp::Code::kInvalid);
  }
  auto svc = make(config());
  ASSERT_EQ(svc->silences().size(), 1u);
  auto a = svc->ingest(ev("10.0.0.7"));
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].state, AlertState::kSilenced);
  EXPECT_EQ(svc->pending_deliveries(), 0u);  // silenced alerts are recorded, not delivered
  clock_.advance_us(61'000'000);
  EXPECT_TRUE(svc->silences().empty());
  EXPECT_EQ(svc->ingest(ev("10.0.0.7")).at(0).state, AlertState::kOpen);
  EXPECT_EQ(svc->remove_silence("night").code(), cp::Code::kNotFound);
}

TEST_F(ServiceTest, FullQueueRefusesVisiblyAndUnknownChannelIsOrphaned) {
  auto svc = make(config("  max_queue: 3\n"));
  svc->ingest(ev("10.0.0.1"));
  auto second = svc->ingest(ev("10.0.0.2")).at(0);
  auto ds = svc->deliveries(second.id);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].state, DeliveryState::kPending);
  EXPECT_EQ(ds[1].state, DeliveryState::kRefused);
  EXPECT_EQ(ds[1].last_error, "queue_full");
  svc->pump();
  svc.reset();
  // The configuration loses channel b while a delivery to it is still owed.
  std::string y = "version: 1\ndelivery: {queue: " + (dir_ / "alerts.db").string() +
                  "}\nchannels:\n  a: {type: webhook, url: 'http://127.0.0.1:1/'}\n"
                  "rules:\n  - {name: r, channels: [a]}\n";
  log_.up = true;
  auto cfg = load_config(y, "x");
  ASSERT_TRUE(cfg.ok());
  std::string err;
  auto s2 = Service::create(cfg.config, clock_, err, {}, [this](const ChannelConfig& c) {
    return std::make_unique<FakeChannel>(c, log_);
  });
  ASSERT_TRUE(s2);
  EXPECT_EQ(s2->pending_deliveries(), 0u);  // everything was sent before the restart
  auto c = s2->counters();
  EXPECT_EQ(c.size(), 19u);
}

}  // namespace
}  // namespace cg::alerting

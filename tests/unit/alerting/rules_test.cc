#include "controlplane/alerting/rules.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace cg::alerting {
namespace {

const char* kGood = R"(version: 1
delivery:
  queue: /tmp/x.db
  backoff: {initial: 2s, max: 1m, multiplier: 3}
channels:
  soc: {type: webhook, url: "http://127.0.0.1:9/hook", headers: {X-Token: abc}}
  ding: {type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=t",
         secret: SECx, mention_mobiles: ["13800000000"]}
  mail: {type: email, url: "smtp://127.0.0.1:2525", from: a@b.cn, to: [c@d.cn, e@f.cn]}
  log: {type: syslog, host: 127.0.0.1, transport: tls, facility: 10}
  nms: {type: snmp, host: 127.0.0.1, mode: inform}
rules:
  - name: scan
    match:
      event_type: alert
      alert.signature: [port-scan, host-sweep]
      src_ip: {cidr: [10.0.0.0/8, "fd00::/8"], not_cidr: 10.9.0.0/16}
      alert.severity: {lte: 2}
    group_by: src_ip
    threshold: {count: 3, window: 30s}
    dedup: {key: [src_ip, alert.signature], window: 15m}
    severity_map: {1: critical, 2: high}
    channels: [soc, ding]
  - name: blocked
    enabled: false
    severity: low
    channels: mail
silences:
  - id: upgrade-night
    rules: [scan]
    match: {src_ip: {cidr: 10.1.0.0/16}}
    owner: admin
    reason: switch upgrade
    starts: 2026-12-01T00:00:00+08:00
    ends: 2026-12-01T06:00:00+08:00
)";

TEST(AlertingRules, LoadsEveryKey) {
  auto r = load_config(kGood, "a.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << format_diagnostic(e);
  ASSERT_TRUE(r.ok());
  const auto& c = *r.config;
  EXPECT_EQ(c.delivery.queue_path, "/tmp/x.db");
  EXPECT_EQ(c.delivery.backoff_initial, Millis(2000));
  EXPECT_EQ(c.delivery.backoff_max, Millis(60000));
  EXPECT_DOUBLE_EQ(c.delivery.backoff_multiplier, 3);
  ASSERT_EQ(c.channels.size(), 5u);
  EXPECT_EQ(c.channel("soc")->headers.at("X-Token"), "abc");
  EXPECT_EQ(c.channel("ding")->secret, "SECx");
  EXPECT_EQ(c.channel("mail")->to.size(), 2u);
  EXPECT_EQ(c.channel("mail")->starttls, StartTls::kRequired);
  EXPECT_EQ(c.channel("log")->port, 6514);
  EXPECT_EQ(c.channel("log")->facility, 10);
  EXPECT_EQ(c.channel("nms")->port, 162);
  EXPECT_EQ(c.channel("nms")->snmp_mode, SnmpMode::kInform);
  ASSERT_EQ(c.rules.size(), 2u);
  const Rule& s = c.rules[0];
  EXPECT_EQ(s.group_by, std::vector<std::string>{"src_ip"});
  EXPECT_EQ(s.threshold_count, 3u);
  EXPECT_EQ(s.threshold_window, Millis(30000));
  EXPECT_EQ(s.dedup_key, (std::vector<std::string>{"src_ip", "alert.signature"}));
  EXPECT_EQ(s.dedup_window, Millis(900000));
  EXPECT_EQ(s.severity_map.at(1), Severity::kCritical);
  ASSERT_EQ(s.match.fields.size(), 4u);
  EXPECT_FALSE(c.rules[1].enabled);
  EXPECT_EQ(c.rules[1].severity, Severity::kLow);
  EXPECT_EQ(c.rules[1].dedup_key, std::vector<std::string>{});
  ASSERT_EQ(c.silences.size(), 1u);
  EXPECT_EQ(c.silences[0].owner, "admin");
  EXPECT_EQ(to_ms(c.silences[0].ends) - to_ms(c.silences[0].starts), 6 * 3600 * 1000);
}

std::string first_error(const std::string& yaml) {
  auto r = load_config(yaml, "f.yaml");
  EXPECT_FALSE(r.ok()) << yaml;
  return r.errors.empty() ? "" : format_diagnostic(r.errors[0]);
}

TEST(AlertingRules, ErrorsNameFileLineColumnAndPath) {
  EXPECT_EQ(first_error("version: 1\nrules:\n  - name: a\n    chanels: []\n"),
            "f.yaml:4:5: error: rules[0].chanels: unknown key (known: name, description, "
            "enabled, match, group_by, threshold, dedup, severity, severity_map, "
            "default_severity, channels, summary)");
  EXPECT_EQ(first_error("version: 1\nversion: 1\n"),
            "f.yaml:2:1: error: version: key declared twice (first at line 1)");
  EXPECT_EQ(first_error("version: 1\nrules:\n  - name: a\n"),
            "f.yaml:3:5: error: rules[0]: missing required key 'channels' (channel names the "
            "alert is delivered to)");
  EXPECT_EQ(first_error("version: 1\nrules:\n  - {name: a, channels: [nope]}\n"),
            "f.yaml:3:26: error: rules[0].channels: unknown channel 'nope'");
  EXPECT_EQ(first_error("version: 1\nchannels: {w: {type: webhook, url: x}}\n"),
            "f.yaml:2:36: error: channels.w.url: expected an http:// or https:// URL");
  EXPECT_EQ(first_error("version: 2\n"),
            "f.yaml:1:10: error: version: unsupported version "
            "(expected 1)");
  EXPECT_EQ(first_error("version: [\n"), first_error("version: [\n"));  // parse error, stable
}

TEST(AlertingRules, MatcherAndValueErrors) {
  std::string base = "version: 1\nchannels: {w: {type: webhook, url: 'http://x/'}}\nrules:\n";
  EXPECT_NE(first_error(base + "  - {name: a, channels: w, match: {src_ip: {cidr: 10.0.0.0/33}}}\n")
                .find("rules[0].match.src_ip: cidr: '10.0.0.0/33' is not an IPv4/IPv6 prefix"),
            std::string::npos);
  EXPECT_NE(first_error(base + "  - {name: a, channels: w, match: {x: {like: 1}}}\n")
                .find("unknown operator 'like'"),
            std::string::npos);
  EXPECT_NE(first_error(base + "  - {name: a, channels: w, match: {x: 1, x: 2}}\n")
                .find("key declared twice"),
            std::string::npos);
  EXPECT_NE(first_error(base + "  - {name: a, channels: w, threshold: {count: 0, window: 1m}}\n")
                .find("rules[0].threshold.count: out of range 1..100000"),
            std::string::npos);
  EXPECT_NE(first_error(base + "  - {name: a, channels: w, threshold: {count: 2, window: 5x}}\n")
                .find("expected a duration"),
            std::string::npos);
  EXPECT_NE(first_error(base + "  - {name: a, channels: w, severity: urgent}\n")
                .find("rules[0].severity: expected info, low, medium, high or critical"),
            std::string::npos);
  EXPECT_NE(first_error(base + "  - {name: a, channels: w}\n  - {name: a, channels: w}\n")
                .find("rule name 'a' already used by rules[0]"),
            std::string::npos);
  EXPECT_NE(first_error("version: 1\nsilences:\n  - {id: s, owner: o, reason: r, ends: tomorrow}\n")
                .find("silences[0].ends: expected an RFC 3339 time"),
            std::string::npos);
  EXPECT_NE(
      first_error("version: 1\nsilences:\n  - {id: s, owner: o, ends: 2026-01-01T00:00:00Z}\n")
          .find("missing required key 'reason'"),
      std::string::npos);
  EXPECT_NE(first_error("version: 1\nchannels: {s: {type: snmp, host: h, url: 'http://x'}}\n")
                .find("channels.s.url: unknown key"),
            std::string::npos);
}

TEST(AlertingRules, CidrAndDurations) {
  auto c = Cidr::parse("10.1.0.0/16");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains("10.1.255.3"));
  EXPECT_FALSE(c->contains("10.2.0.1"));
  EXPECT_FALSE(c->contains("fd00::1"));
  auto v6 = Cidr::parse("fd00:1::/33");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->contains("fd00:1:7fff::1"));
  EXPECT_FALSE(v6->contains("fd00:1:8000::1"));
  EXPECT_FALSE(Cidr::parse("10.0.0.0/"));
  EXPECT_FALSE(Cidr::parse("300.0.0.0/8"));
  EXPECT_EQ(parse_duration("250ms"), Millis(250));
  EXPECT_EQ(parse_duration("2d"), Millis(2 * 86400000LL));
  EXPECT_EQ(parse_duration("15"), Millis(15000));
  EXPECT_FALSE(parse_duration("0s"));
  EXPECT_FALSE(parse_duration("-1s"));
  EXPECT_FALSE(parse_duration("1w"));
  auto t = parse_rfc3339("2026-12-01T08:00:00.5+08:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(format_rfc3339(*t), "2026-12-01T00:00:00.500Z");
}

TEST(AlertingRules, SilenceJsonRoundTrip) {
  std::string err;
  auto s = silence_from_json(nlohmann::json::parse(R"({"id":"m1","owner":"li","reason":"drill",
      "ends":"2026-12-01T00:00:00Z","rules":["scan"],"match":{"src_ip":{"cidr":"10.0.0.0/8"}}})"),
                             err);
  ASSERT_TRUE(s) << err;
  auto back = silence_from_json(silence_to_json(*s), err);
  ASSERT_TRUE(back) << err;
  EXPECT_EQ(back->id, "m1");
  EXPECT_EQ(back->rules, std::vector<std::string>{"scan"});
  EXPECT_TRUE(back->match.matches({{"src_ip", "10.3.3.3"}}));
  EXPECT_FALSE(back->match.matches({{"src_ip", "11.3.3.3"}}));
  EXPECT_FALSE(silence_from_json(nlohmann::json::parse(R"({"id":"m1","owner":"li",
      "reason":"drill","ends":"2026-12-01T00:00:00Z","extra":1})"),
                                 err));
  EXPECT_EQ(err, "extra: unknown key");
}

}  // namespace
}  // namespace cg::alerting

namespace cg::alerting {
namespace {

TEST(AlertingRules, ExampleConfigurationLoads) {
  const char* src = std::getenv("CG_SOURCE_DIR");
  auto r = load_config_file(std::string(src ? src : ".") +
                            "/controlplane/alerting/alerting.example.yaml");
  for (const auto& e : r.errors) ADD_FAILURE() << format_diagnostic(e);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.config->channels.size(), 7u);
  EXPECT_EQ(r.config->rules.size(), 3u);
}

}  // namespace
}  // namespace cg::alerting

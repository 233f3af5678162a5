#include "controlplane/alerting/format.h"

#include <gtest/gtest.h>

namespace cg::alerting {
namespace {

Alert sample() {
  Alert a;
  a.id = 42;
  a.rule = "scan";
  a.severity = Severity::kHigh;
  a.summary = "端口扫描 port-scan 10.1.2.3 -> 10.0.0.1";
  a.first_seen = a.last_seen = from_ms(1'800'000'000'123);
  a.events = 5;
  a.channels = {"soc"};
  a.event = {{"event_type", "alert"},
             {"src_ip", "10.1.2.3"},
             {"src_port", 40000},
             {"dest_ip", "10.0.0.1"},
             {"dest_port", 22},
             {"proto", "TCP"},
             {"school_id", "s-017"},
             {"zone", "lab"},
             {"community_id", "1:abc="},
             {"vlan", {120}},
             {"detector", "port_scan"},
             {"flow_id", 77},
             {"alert", {{"signature", "port-scan"}, {"severity", 2}}}};
  return a;
}

TEST(AlertingFormat, CryptoHelpers) {
  EXPECT_EQ(url_encode("a+b/c=d ~_.-"), "a%2Bb%2Fc%3Dd%20~_.-");
  EXPECT_EQ(base64_encode("hello"), "aGVsbG8=");
  EXPECT_EQ(utf8_truncate("端口", 4), "端");  // 3-byte characters: never half a character
  // Vectors computed with Python's hmac/base64/urllib (the vendors' own sample code).
  EXPECT_EQ(dingtalk_sign("SECtest", 1700000000000),
            "aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D");
  EXPECT_EQ(feishu_sign("feishu-secret", 1700000000),
            "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=");
}

TEST(AlertingFormat, DingTalkMarkdownAndSignedUrl) {
  ChannelConfig c;
  c.url = "https://oapi.dingtalk.com/robot/send?access_token=T";
  c.secret = "SECtest";
  c.mention_mobiles = {"13800000000"};
  auto b = dingtalk_body(sample(), c);
  EXPECT_EQ(b["msgtype"], "markdown");
  EXPECT_EQ(b["markdown"]["title"], "[HIGH] 端口扫描 port-scan 10.1.2.3 -> 10.0.0.1");
  std::string text = b["markdown"]["text"];
  EXPECT_NE(text.find("- src: 10.1.2.3\n"), std::string::npos);
  EXPECT_NE(text.find(" @13800000000"), std::string::npos);
  EXPECT_EQ(b["at"], nlohmann::json::parse(R"({"atMobiles":["13800000000"],"isAtAll":false})"));
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(dingtalk_url(c, 1700000000000),
            "https://oapi.dingtalk.com/robot/send?access_token=T&timestamp=1700000000000"
            "&sign=aZLLrriXgn05YbwaGR7knYsLeJADjr9NwLaNNKpxh4g%3D");
  c.secret.clear();
  EXPECT_EQ(dingtalk_url(c, 1), c.url);
}

TEST(AlertingFormat, WecomMarkdownOrTextWithMentions) {
  ChannelConfig c;
  auto md = wecom_body(sample(), c);
  EXPECT_EQ(md["msgtype"], "markdown");
  EXPECT_EQ(md["markdown"].size(), 1u);
  EXPECT_NE(std::string(md["markdown"]["content"]).find("### campusguard [HIGH]"),
            std::string::npos);
  c.mention_users = {"wangwei"};
  c.mention_all = true;
  c.mention_mobiles = {"13800000000"};
  auto text = wecom_body(sample(), c);
  EXPECT_EQ(text["msgtype"], "text");
  EXPECT_EQ(text["text"]["mentioned_list"], nlohmann::json::parse(R"(["wangwei","@all"])"));
  EXPECT_EQ(text["text"]["mentioned_mobile_list"], nlohmann::json::parse(R"(["13800000000"])"));
  Alert big = sample();
  big.summary = std::string(5000, 'x');
  EXPECT_LE(std::string(wecom_body(big, ChannelConfig{})["markdown"]["content"]).size(), 4096u);
}

TEST(AlertingFormat, FeishuPostAndSignature) {
  ChannelConfig c;
  c.secret = "feishu-secret";
  auto b = feishu_body(sample(), c, 1700000000);
  EXPECT_EQ(b["msg_type"], "post");
  EXPECT_EQ(b["timestamp"], "1700000000");
  EXPECT_EQ(b["sign"], "OrBzY1Y01Gq+HgJsl+7OfWcMVwc7YocohQm5iiZwjhU=");
  const auto& post = b["content"]["post"]["zh_cn"];
  EXPECT_EQ(post["title"], "campusguard [HIGH] 端口扫描 port-scan 10.1.2.3 -> 10.0.0.1");
  ASSERT_TRUE(post["content"].is_array());
  EXPECT_EQ(post["content"][1],
            nlohmann::json::parse(R"([{"tag":"text","text":"school: s-017"}])"));
  c.secret.clear();
  EXPECT_FALSE(feishu_body(sample(), c, 1).contains("sign"));
}

TEST(AlertingFormat, GenericWebhookCarriesTheAlert) {
  auto b = webhook_body(sample());
  EXPECT_EQ(b["version"], 1);
  EXPECT_EQ(b["source"], "campusguard");
  EXPECT_EQ(b["alert"]["id"], 42);
  EXPECT_EQ(b["alert"]["severity"], "high");
  EXPECT_EQ(b["alert"]["event"]["community_id"], "1:abc=");
  EXPECT_EQ(b["alert"]["first_seen"], "2027-01-15T08:00:00.123Z");
}

TEST(AlertingFormat, Rfc5424SyslogLine) {
  ChannelConfig c;
  c.facility = 4;
  Alert a = sample();
  a.event["zone"] = "lab \"B\"]";
  std::string m = syslog_message(a, c, from_ms(1'800'000'000'123), "cg-school-17", 123);
  EXPECT_EQ(m,
            "<35>1 2027-01-15T08:00:00.123Z cg-school-17 campusguard 123 ALERT "
            "[campusguard@32473 id=\"42\" rule=\"scan\" severity=\"high\" events=\"5\" "
            "src_ip=\"10.1.2.3\" src_port=\"40000\" dest_ip=\"10.0.0.1\" dest_port=\"22\" "
            "proto=\"TCP\" school_id=\"s-017\" zone=\"lab \\\"B\\\"\\]\" vlan=\"120\" "
            "detector=\"port_scan\" flow_id=\"77\" community_id=\"1:abc=\"] "
            "\xEF\xBB\xBF端口扫描 port-scan 10.1.2.3 -> 10.0.0.1");
  EXPECT_EQ(octet_counted("abc"), "3 abc");
  EXPECT_EQ(syslog_severity(Severity::kCritical), 2);
  EXPECT_EQ(syslog_severity(Severity::kInfo), 6);
}

TEST(AlertingFormat, EmailMessage) {
  ChannelConfig c;
  c.from = "cg@school.example";
  c.to = {"soc@city.example", "admin@school.example"};
  std::string m = email_message(sample(), c, from_ms(1'800'000'000'123), "host1");
  EXPECT_EQ(m.find("Date: Fri, 15 Jan 2027 08:00:00 +0000\r\n"), 0u);
  EXPECT_NE(m.find("\r\nTo: soc@city.example, admin@school.example\r\n"), std::string::npos);
  EXPECT_NE(m.find("\r\nSubject: =?UTF-8?B?" +
                   base64_encode("campusguard " + alert_title(sample())) + "?=\r\n"),
            std::string::npos);
  EXPECT_NE(m.find("Message-ID: <campusguard-alert-42-1800000000123@host1>"), std::string::npos);
  EXPECT_NE(m.find("\r\n\r\n"), std::string::npos);
  for (size_t p = 0, q; (q = m.find("\r\n", p)) != std::string::npos; p = q + 2)
    EXPECT_LE(q - p, 998u);
}

}  // namespace
}  // namespace cg::alerting

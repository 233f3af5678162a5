// Wire formats of every channel, as pure functions (no I/O) so unit tests pin them exactly:
// generic webhook JSON, WeCom / DingTalk / Feishu group-robot messages and signatures, the
// e-mail message (RFC 5322 + MIME) and RFC 5424 syslog lines with octet-counting framing.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "controlplane/alerting/engine.h"
#include "controlplane/alerting/rules.h"

namespace cg::alerting {

// campusguard's SNMP enterprise subtree and syslog SD-ID number. campusguard has no IANA Private
// Enterprise Number yet; 32473 is the PEN that RFC 5612 reserves for documentation. Replace it
// here (one place) once a number is assigned; CAMPUSGUARD-MIB must use the same root.
inline constexpr const char* kEnterpriseOid = "1.3.6.1.4.1.32473.1";
inline constexpr const char* kSyslogSdId = "campusguard@32473";

std::string hmac_sha256(std::string_view key, std::string_view message);  // raw 32 bytes
std::string base64_encode(std::string_view raw);
std::string url_encode(std::string_view s);  // RFC 3986: unreserved kept, the rest %XX
// Cuts at a UTF-8 character boundary so the result has at most `max_bytes` bytes.
std::string utf8_truncate(std::string_view s, size_t max_bytes);

// Human text shared by the robots and e-mail.
std::string alert_title(const Alert& a);       // "[HIGH] port-scan: ..."
std::string alert_markdown(const Alert& a);    // markdown lines (no mentions)
std::string alert_plain_text(const Alert& a);  // plain text lines

// Generic webhook: {"version":1,"source":"campusguard","alert":{...alert_to_json...}}
nlohmann::json webhook_body(const Alert& a);

// WeCom group robot: markdown (mentions as <@userid>), or text with mentioned_list /
// mentioned_mobile_list when mobiles or @all are configured (markdown cannot mention them).
nlohmann::json wecom_body(const Alert& a, const ChannelConfig& c);

// DingTalk custom robot: markdown with at.atMobiles / at.isAtAll.
nlohmann::json dingtalk_body(const Alert& a, const ChannelConfig& c);
// Signed mode: sign = urlEncode(base64(HmacSHA256(key=secret, "timestamp\nsecret"))), ms.
std::string dingtalk_sign(std::string_view secret, int64_t timestamp_ms);
// The URL with &timestamp=..&sign=.. appended when the channel has a secret.
std::string dingtalk_url(const ChannelConfig& c, int64_t timestamp_ms);

// Feishu/Lark custom bot: post message (zh_cn title + lines); with a secret also "timestamp"
// (seconds, string) and sign = base64(HmacSHA256(key="timestamp\nsecret", "")).
nlohmann::json feishu_body(const Alert& a, const ChannelConfig& c, int64_t timestamp_s);
std::string feishu_sign(std::string_view secret, int64_t timestamp_s);

// RFC 5322 message (CRLF line ends, UTF-8 subject in RFC 2047 B-encoding, base64 body).
std::string email_message(const Alert& a, const ChannelConfig& c, TimePoint now,
                          std::string_view message_id_host);

// RFC 5424 syslog message (no framing) and the RFC 6587 / 5425 octet-counting frame.
int syslog_severity(Severity s);
std::string syslog_message(const Alert& a, const ChannelConfig& c, TimePoint now,
                           std::string_view hostname, int procid);
std::string octet_counted(std::string_view msg);

}  // namespace cg::alerting

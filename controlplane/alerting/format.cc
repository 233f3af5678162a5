#include "controlplane/alerting/format.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <cctype>
#include <cstdio>
#include <ctime>

namespace cg::alerting {

std::string hmac_sha256(std::string_view key, std::string_view message) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string base64_encode(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(raw.data()),
                          static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string url_encode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string utf8_truncate(std::string_view s, size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t n = max_bytes;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

namespace {

std::string upper(std::string_view s) {
  std::string o(s);
  for (auto& c : o) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return o;
}

// Event facts worth a line, in a fixed order: label, field path.
// Field names: dataplane/api/event.schema.json (EVE names where Suricata has one).
const std::pair<const char*, const char*> kFacts[] = {
    {"school", "school_id"},
    {"zone", "zone"},
    {"vlan", "vlan"},
    {"src", "src_ip"},
    {"src_port", "src_port"},
    {"dest", "dest_ip"},
    {"dest_port", "dest_port"},
    {"proto", "proto"},
    {"app", "app_proto"},
    {"hostname", "hostname"},
    {"signature", "alert.signature"},
    {"detector", "detector"},
    {"policy_rule", "rule"},
    {"flow_id", "flow_id"},
    {"community_id", "community_id"},
    {"event_id", "event_id"},
};

}  // namespace

std::string alert_title(const Alert& a) {
  return "[" + upper(severity_name(a.severity)) + "] " + a.summary;
}

std::string alert_markdown(const Alert& a) {
  std::string t = "### campusguard " + alert_title(a) + "\n";
  t += "- alert: #" + std::to_string(a.id) + " rule `" + a.rule + "`\n";
  t += "- events: " + std::to_string(a.events) + ", first " + format_rfc3339(a.first_seen) + "\n";
  for (const auto& [label, path] : kFacts)
    if (auto v = field_text(a.event, path)) t += std::string("- ") + label + ": " + *v + "\n";
  return t;
}

std::string alert_plain_text(const Alert& a) {
  std::string t = "campusguard " + alert_title(a) + "\n";
  t += "alert #" + std::to_string(a.id) + ", rule " + a.rule + ", events " +
       std::to_string(a.events) + ", first seen " + format_rfc3339(a.first_seen) + "\n";
  for (const auto& [label, path] : kFacts)
    if (auto v = field_text(a.event, path)) t += std::string(label) + ": " + *v + "\n";
  return t;
}

nlohmann::json webhook_body(const Alert& a) {
  return {{"version", 1}, {"source", "campusguard"}, {"alert", alert_to_json(a)}};
}

nlohmann::json wecom_body(const Alert& a, const ChannelConfig& c) {
  if (!c.mention_mobiles.empty() || c.mention_all) {
    nlohmann::json users = c.mention_users;
    if (c.mention_all) users.push_back("@all");
    nlohmann::json text = {{"content", utf8_truncate(alert_plain_text(a), 2048)}};
    if (!users.empty()) text["mentioned_list"] = users;
    if (!c.mention_mobiles.empty()) text["mentioned_mobile_list"] = c.mention_mobiles;
    return {{"msgtype", "text"}, {"text", text}};
  }
  std::string md = alert_markdown(a);
  for (const auto& u : c.mention_users) md += "<@" + u + ">";
  return {{"msgtype", "markdown"}, {"markdown", {{"content", utf8_truncate(md, 4096)}}}};
}

nlohmann::json dingtalk_body(const Alert& a, const ChannelConfig& c) {
  std::string md = alert_markdown(a);
  // DingTalk only notifies the mobiles that also appear as @mobile in the text.
  for (const auto& m : c.mention_mobiles) md += " @" + m;
  return {{"msgtype", "markdown"},
          {"markdown", {{"title", utf8_truncate(alert_title(a), 128)}, {"text", md}}},
          {"at", {{"atMobiles", c.mention_mobiles}, {"isAtAll", c.mention_all}}}};
}

std::string dingtalk_sign(std::string_view secret, int64_t timestamp_ms) {
  std::string to_sign = std::to_string(timestamp_ms) + "\n" + std::string(secret);
  return url_encode(base64_encode(hmac_sha256(secret, to_sign)));
}

std::string dingtalk_url(const ChannelConfig& c, int64_t timestamp_ms) {
  if (c.secret.empty()) return c.url;
  char sep = c.url.find('?') == std::string::npos ? '?' : '&';
  return c.url + sep + "timestamp=" + std::to_string(timestamp_ms) +
         "&sign=" + dingtalk_sign(c.secret, timestamp_ms);
}

std::string feishu_sign(std::string_view secret, int64_t timestamp_s) {
  std::string key = std::to_string(timestamp_s) + "\n" + std::string(secret);
  return base64_encode(hmac_sha256(key, ""));
}

nlohmann::json feishu_body(const Alert& a, const ChannelConfig& c, int64_t timestamp_s) {
  nlohmann::json lines = nlohmann::json::array();
  auto line = [&](const std::string& s) {
    lines.push_back(nlohmann::json::array({{{"tag", "text"}, {"text", s}}}));
  };
  line("alert #" + std::to_string(a.id) + ", rule " + a.rule + ", events " +
       std::to_string(a.events) + ", first seen " + format_rfc3339(a.first_seen));
  for (const auto& [label, path] : kFacts)
    if (auto v = field_text(a.event, path)) line(std::string(label) + ": " + *v);
  nlohmann::json body = {
      {"msg_type", "post"},
      {"content",
       {{"post", {{"zh_cn", {{"title", "campusguard " + alert_title(a)}, {"content", lines}}}}}}}};
  if (!c.secret.empty()) {
    body["timestamp"] = std::to_string(timestamp_s);
    body["sign"] = feishu_sign(c.secret, timestamp_s);
  }
  return body;
}

namespace {
std::string rfc5322_date(TimePoint t) {
  time_t secs = static_cast<time_t>(to_ms(t) / 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string base64_lines(std::string_view raw) {
  std::string b = base64_encode(raw), out;
  for (size_t i = 0; i < b.size(); i += 76) out += b.substr(i, 76) + "\r\n";
  return out;
}
}  // namespace

std::string email_message(const Alert& a, const ChannelConfig& c, TimePoint now,
                          std::string_view message_id_host) {
  std::string to;
  for (const auto& r : c.to) to += (to.empty() ? "" : ", ") + r;
  std::string body = alert_plain_text(a) + "\n" + webhook_body(a).dump(2) + "\n";
  std::string m;
  m += "Date: " + rfc5322_date(now) + "\r\n";
  m += "From: " + c.from + "\r\n";
  m += "To: " + to + "\r\n";
  m += "Subject: =?UTF-8?B?" + base64_encode("campusguard " + alert_title(a)) + "?=\r\n";
  m += "Message-ID: <campusguard-alert-" + std::to_string(a.id) + "-" + std::to_string(to_ms(now)) +
       "@" + std::string(message_id_host) + ">\r\n";
  m += "X-Campusguard-Alert-Id: " + std::to_string(a.id) + "\r\n";
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: base64\r\n\r\n";
  m += base64_lines(body);
  return m;
}

int syslog_severity(Severity s) {
  switch (s) {
    case Severity::kCritical:
      return 2;
    case Severity::kHigh:
      return 3;
    case Severity::kMedium:
      return 4;
    case Severity::kLow:
      return 5;
    case Severity::kInfo:
      return 6;
  }
  return 6;
}

namespace {
// RFC 5424 header fields: printable US-ASCII without space, bounded, "-" when empty.
std::string header_field(std::string_view s, size_t max) {
  std::string o;
  for (char ch : s)
    if (ch > 32 && ch < 127 && o.size() < max) o += ch;
  return o.empty() ? "-" : o;
}
std::string sd_escape(std::string_view s) {
  std::string o;
  for (char ch : s) {
    if (ch == '"' || ch == '\\' || ch == ']') o += '\\';
    o += ch;
  }
  return o;
}
}  // namespace

std::string syslog_message(const Alert& a, const ChannelConfig& c, TimePoint now,
                           std::string_view hostname, int procid) {
  int pri = c.facility * 8 + syslog_severity(a.severity);
  std::string m = "<" + std::to_string(pri) + ">1 " + format_rfc3339(now) + " " +
                  header_field(hostname, 255) + " " + header_field(c.app_name, 48) + " " +
                  std::to_string(procid) + " ALERT ";
  m += std::string("[") + kSyslogSdId + " id=\"" + std::to_string(a.id) + "\" rule=\"" +
       sd_escape(a.rule) + "\" severity=\"" + std::string(severity_name(a.severity)) +
       "\" events=\"" + std::to_string(a.events) + "\"";
  static const std::pair<const char*, const char*> kSd[] = {{"src_ip", "src_ip"},
                                                            {"src_port", "src_port"},
                                                            {"dest_ip", "dest_ip"},
                                                            {"dest_port", "dest_port"},
                                                            {"proto", "proto"},
                                                            {"school_id", "school_id"},
                                                            {"zone", "zone"},
                                                            {"vlan", "vlan"},
                                                            {"detector", "detector"},
                                                            {"flow_id", "flow_id"},
                                                            {"community_id", "community_id"},
                                                            {"event_id", "event_id"}};
  for (const auto& [name, path] : kSd)
    if (auto v = field_text(a.event, path))
      m += std::string(" ") + name + "=\"" + sd_escape(*v) + "\"";
  m += "] \xEF\xBB\xBF" + a.summary;
  return m;
}

std::string octet_counted(std::string_view msg) {
  return std::to_string(msg.size()) + " " + std::string(msg);
}

}  // namespace cg::alerting

// Channel transports: HTTP(S) POST for webhook / WeCom / DingTalk / Feishu (cpp-httplib with
// OpenSSL), e-mail over SMTP with STARTTLS (libcurl), syslog over UDP / TCP / TLS (sockets +
// OpenSSL), SNMPv2c trap / inform (net-snmp). One send = one attempt; retries are the
// Dispatcher's. Called from the delivery thread only; sends block for at most the timeout.
#pragma once

#include <memory>
#include <string>

#include "controlplane/alerting/engine.h"
#include "controlplane/alerting/rules.h"

namespace cg::alerting {

struct SendResult {
  bool ok = false;
  std::string error;  // why the attempt failed (connect refused, HTTP 500, errcode 310000, ...)
};

class Channel {
 public:
  explicit Channel(ChannelConfig config) : config_(std::move(config)) {}
  virtual ~Channel() = default;
  virtual SendResult send(const Alert& alert, TimePoint now) = 0;
  const ChannelConfig& config() const { return config_; }

 protected:
  ChannelConfig config_;
};

// The real transport for a channel configuration.
std::unique_ptr<Channel> make_channel(const ChannelConfig& config);

// Robot API replies: WeCom / DingTalk {"errcode":0,...}; Feishu {"code":0,...} (older
// {"StatusCode":0}). Returns "" when the reply says success, else the reason.
std::string robot_reply_error(ChannelType type, int http_status, const std::string& body);

}  // namespace cg::alerting

#include "snmp/session/session.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <thread>

namespace cg::snmp {

namespace {
std::string normalize(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '-' || c == '_') continue;
    out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point now() override { return std::chrono::steady_clock::now(); }
  void sleep_for(std::chrono::nanoseconds d) override { std::this_thread::sleep_for(d); }
};
}  // namespace

bool parse_auth_protocol(const std::string& name, AuthProtocol* out) {
  std::string n = normalize(name);
  if (n == "NONE" || n.empty())
    *out = AuthProtocol::kNone;
  else if (n == "MD5")
    *out = AuthProtocol::kMd5;
  else if (n == "SHA" || n == "SHA1")
    *out = AuthProtocol::kSha1;
  else if (n == "SHA224")
    *out = AuthProtocol::kSha224;
  else if (n == "SHA256")
    *out = AuthProtocol::kSha256;
  else if (n == "SHA384")
    *out = AuthProtocol::kSha384;
  else if (n == "SHA512")
    *out = AuthProtocol::kSha512;
  else
    return false;
  return true;
}

bool parse_priv_protocol(const std::string& name, PrivProtocol* out) {
  std::string n = normalize(name);
  if (n == "NONE" || n.empty())
    *out = PrivProtocol::kNone;
  else if (n == "DES")
    *out = PrivProtocol::kDes;
  else if (n == "AES" || n == "AES128")
    *out = PrivProtocol::kAes128;
  else if (n == "AES192")
    *out = PrivProtocol::kAes192;
  else if (n == "AES256")
    *out = PrivProtocol::kAes256;
  else
    return false;
  return true;
}

std::string SessionConfig::peer() const {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

bool parse_address(const std::string& text, std::string* host, uint16_t* port) {
  std::string h = text, p;
  if (!h.empty() && h.front() == '[') {
    size_t close = h.find(']');
    if (close == std::string::npos) return false;
    std::string rest = h.substr(close + 1);
    h = h.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      p = rest.substr(1);
    }
  } else if (std::count(h.begin(), h.end(), ':') == 1) {
    size_t colon = h.find(':');
    p = h.substr(colon + 1);
    h = h.substr(0, colon);
  }
  if (h.empty()) return false;
  for (char c : h) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
          c == '_' || c == '%')) {
      return false;
    }
  }
  uint16_t port_num = 161;
  if (!p.empty()) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
    if (ec != std::errc() || ptr != p.data() + p.size() || v == 0 || v > 65535) return false;
    port_num = static_cast<uint16_t>(v);
  }
  *host = h;
  *port = port_num;
  return true;
}

std::string host_of(const std::string& address) {
  std::string host;
  uint16_t port = 0;
  if (parse_address(address, &host, &port)) return host;
  return address;
}

Clock& Clock::system() {
  static SystemClock clock;
  return clock;
}

RateLimiter::RateLimiter(double rate, double burst, Clock& clock)
    : rate_(rate),
      burst_(std::max(1.0, burst)),
      tokens_(std::max(1.0, burst)),
      clock_(clock),
      last_(clock.now()) {}

bool RateLimiter::acquire() {
  if (rate_ <= 0) return false;
  auto now = clock_.now();
  tokens_ = std::min(burst_, tokens_ + std::chrono::duration<double>(now - last_).count() * rate_);
  last_ = now;
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return false;
  }
  double wait_s = (1.0 - tokens_) / rate_;
  clock_.sleep_for(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::duration<double>(wait_s)));
  last_ = clock_.now();
  tokens_ = 0;
  return true;
}

Result<std::vector<VarBind>> SnmpSession::walk_columns(const std::vector<Oid>& columns) {
  std::vector<VarBind> out;
  for (const Oid& c : columns) {
    auto r = walk(c);
    if (!r.ok()) return r.status();
    for (auto& vb : *r) out.push_back(std::move(vb));
  }
  return out;
}

}  // namespace cg::snmp

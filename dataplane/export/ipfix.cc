#include "dataplane/export/ipfix.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dataplane/flow/flow_key.h"

namespace cg::exporter {
namespace {

constexpr uint16_t kVersion = 10;
constexpr uint16_t kTemplateSetId = 2;
constexpr uint16_t kOptionsTemplateSetId = 3;
constexpr uint16_t kVarLen = 0xffff;
constexpr uint32_t kReversePen = 29305;  // RFC 5103 reverse information elements
constexpr size_t kHeader = 16;
constexpr size_t kMaxString = 254;  // one-byte length prefix

struct Field {
  uint16_t id;
  uint16_t len;
  uint32_t pen;  // 0 = IANA, kReversePen, or 1 = campusguard's configured PEN
};

// The record layout; addresses are fields 0 and 1 (4 bytes v4, 16 bytes v6).
constexpr Field kFields[] = {
    {8, 4, 0},            // sourceIPv4Address / sourceIPv6Address (27)
    {12, 4, 0},           // destinationIPv4Address / destinationIPv6Address (28)
    {7, 2, 0},            // sourceTransportPort
    {11, 2, 0},           // destinationTransportPort
    {4, 1, 0},            // protocolIdentifier
    {58, 2, 0},           // vlanId
    {245, 2, 0},          // dot1qCustomerVlanId (inner tag of QinQ)
    {1, 8, 0},            // octetDeltaCount (initiator -> responder)
    {2, 8, 0},            // packetDeltaCount
    {1, 8, kReversePen},  // reverseOctetDeltaCount (responder -> initiator)
    {2, 8, kReversePen},  // reversePacketDeltaCount
    {152, 8, 0},          // flowStartMilliseconds
    {153, 8, 0},          // flowEndMilliseconds
    {136, 1, 0},          // flowEndReason
    {148, 8, 0},          // flowId (= the events' flow_id)
    {95, kVarLen, 0},     // applicationId (octetArray: variable length)
    {static_cast<uint16_t>(CgIe::kAppName), kVarLen, 1},
    {static_cast<uint16_t>(CgIe::kHostname), kVarLen, 1},
    {static_cast<uint16_t>(CgIe::kVerdict), 1, 1},
    {static_cast<uint16_t>(CgIe::kZone), kVarLen, 1},
    {static_cast<uint16_t>(CgIe::kRule), kVarLen, 1},
};

size_t str_len(const std::string& s) {
  const size_t n = s.size() > kMaxString ? kMaxString : s.size();
  return 1 + n;
}

constexpr const char* kCounterNames[] = {
    "ipfix_records",   "ipfix_app_records", "ipfix_messages",     "ipfix_bytes",
    "ipfix_templates", "ipfix_send_errors", "ipfix_records_lost", "ipfix_reconnects",
};

}  // namespace

const char* ipfix_counter_name(IpfixCounter c) {
  return kCounterNames[static_cast<size_t>(c)];
}

uint32_t ipfix_app_id(uint16_t master, uint16_t app) {
  return uint32_t{6} << 24 | uint32_t{master & 0xfffu} << 12 | (app & 0xfffu);
}

IpfixEncoder::IpfixEncoder(uint32_t observation_domain, uint32_t enterprise, uint16_t max_message)
    : domain_(observation_domain), pen_(enterprise), max_(max_message) {
  reset();
}

void IpfixEncoder::reset() {
  buf_.assign(kHeader, 0);
  set_id_ = 0;
  records_ = 0;
  has_templates_ = false;
}

void IpfixEncoder::put16(uint16_t v) {
  put8(static_cast<uint8_t>(v >> 8));
  put8(static_cast<uint8_t>(v));
}
void IpfixEncoder::put32(uint32_t v) {
  put16(static_cast<uint16_t>(v >> 16));
  put16(static_cast<uint16_t>(v));
}
void IpfixEncoder::put64(uint64_t v) {
  put32(static_cast<uint32_t>(v >> 32));
  put32(static_cast<uint32_t>(v));
}
void IpfixEncoder::put_str(const std::string& s) {
  const size_t n = s.size() > kMaxString ? kMaxString : s.size();
  put8(static_cast<uint8_t>(n));
  buf_.insert(buf_.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
}

void IpfixEncoder::open_set(uint16_t id) {
  if (set_id_ == id) return;
  close_set();
  set_start_ = buf_.size();
  set_id_ = id;
  put16(id);
  put16(0);
}

void IpfixEncoder::close_set() {
  if (!set_id_) return;
  const size_t len = buf_.size() - set_start_;
  buf_[set_start_ + 2] = static_cast<uint8_t>(len >> 8);
  buf_[set_start_ + 3] = static_cast<uint8_t>(len);
  set_id_ = 0;
}

void IpfixEncoder::add_templates() {
  open_set(kTemplateSetId);
  for (uint16_t tid : {kTemplateV4, kTemplateV6}) {
    put16(tid);
    put16(static_cast<uint16_t>(std::size(kFields)));
    for (size_t i = 0; i < std::size(kFields); ++i) {
      Field f = kFields[i];
      if (tid == kTemplateV6 && i < 2) {
        f.id = i == 0 ? 27 : 28;
        f.len = 16;
      }
      const uint32_t pen = f.pen == 1 ? pen_ : f.pen;
      put16(static_cast<uint16_t>(f.id | (pen ? 0x8000 : 0)));
      put16(f.len);
      if (pen) put32(pen);
    }
  }
  open_set(kOptionsTemplateSetId);
  // The application table (as NBAR exporters send it): scope observationDomainId, then
  // applicationId, applicationName, applicationDescription (fixed lengths, NUL-padded).
  put16(kTemplateAppNames);
  put16(4);    // field count
  put16(1);    // scope field count
  put16(149);  // scope: observationDomainId
  put16(4);
  put16(95);  // applicationId
  put16(4);
  put16(96);  // applicationName
  put16(static_cast<uint16_t>(kAppNameLen));
  put16(94);  // applicationDescription
  put16(static_cast<uint16_t>(kAppNameLen));
  close_set();
  has_templates_ = true;
}

bool IpfixEncoder::add_app_name(uint32_t app_id, const std::string& name) {
  // One record per set: nfdump 1.7 sizes option records from the named fields only (without
  // the scope), so a second record in the same set would be read misaligned.
  const size_t need = 4 + 4 + 4 + 2 * kAppNameLen;
  if (buf_.size() + need > max_) return false;
  close_set();
  open_set(kTemplateAppNames);
  put32(domain_);
  put32(app_id);
  const std::string desc = "nDPI " + name;
  for (size_t i = 0; i < kAppNameLen; ++i)  // NUL-terminated within the field
    put8(i + 1 < kAppNameLen && i < name.size() ? static_cast<uint8_t>(name[i]) : 0);
  for (size_t i = 0; i < kAppNameLen; ++i)
    put8(i + 1 < kAppNameLen && i < desc.size() ? static_cast<uint8_t>(desc[i]) : 0);
  close_set();
  ++records_;
  return true;
}

bool IpfixEncoder::add(const IpfixFlow& f) {
  const bool v4 = flow::is_ipv4_mapped(f.src) && flow::is_ipv4_mapped(f.dst);
  const uint16_t tid = v4 ? kTemplateV4 : kTemplateV6;
  const size_t need = (set_id_ == tid ? 0 : 4) + (v4 ? 8 : 32) + 2 + 2 + 1 + 2 + 2 + 8 * 4 + 8 + 8 +
                      1 + 8 + 5 + str_len(f.app) + str_len(f.hostname) + 1 + str_len(f.zone) +
                      str_len(f.rule);
  if (buf_.size() + need > max_) return false;
  open_set(tid);
  if (v4) {
    buf_.insert(buf_.end(), f.src.begin() + 12, f.src.end());
    buf_.insert(buf_.end(), f.dst.begin() + 12, f.dst.end());
  } else {
    buf_.insert(buf_.end(), f.src.begin(), f.src.end());
    buf_.insert(buf_.end(), f.dst.begin(), f.dst.end());
  }
  put16(f.src_port);
  put16(f.dst_port);
  put8(f.proto);
  put16(f.vlan);
  put16(f.vlan_inner);
  put64(f.bytes);
  put64(f.packets);
  put64(f.reverse_bytes);
  put64(f.reverse_packets);
  put64(f.start_ms);
  put64(f.end_ms);
  put8(f.end_reason);
  put64(f.flow_id);
  put8(4);  // applicationId: engine + 3-byte selector
  put32(f.app_id);
  put_str(f.app);
  put_str(f.hostname);
  put8(f.verdict);
  put_str(f.zone);
  put_str(f.rule);
  ++records_;
  return true;
}

const std::vector<uint8_t>& IpfixEncoder::finish(uint32_t export_time_s) {
  close_set();
  const size_t len = buf_.size();
  buf_[0] = 0;
  buf_[1] = kVersion;
  buf_[2] = static_cast<uint8_t>(len >> 8);
  buf_[3] = static_cast<uint8_t>(len);
  for (int i = 0; i < 4; ++i) {
    buf_[4 + i] = static_cast<uint8_t>(export_time_s >> (24 - 8 * i));
    buf_[8 + i] = static_cast<uint8_t>(sequence_ >> (24 - 8 * i));
    buf_[12 + i] = static_cast<uint8_t>(domain_ >> (24 - 8 * i));
  }
  sequence_ += records_;
  out_.swap(buf_);
  reset();
  return out_;
}

IpfixFlow ipfix_flow(const FlowRecord& r, const classify::Classifier* c, const enforce::Enforcer* p,
                     const std::string& zone) {
  return ipfix_flow(r, c, p ? p->image() : nullptr, zone);
}

IpfixFlow ipfix_flow(const FlowRecord& r, const classify::Classifier* c,
                     const api::PolicyImage* image, const std::string& zone) {
  IpfixFlow f;
  f.src = r.src_addr;
  f.dst = r.dst_addr;
  f.src_port = r.src_port;
  f.dst_port = r.dst_port;
  f.proto = r.proto;
  f.vlan = r.vlan_outer;
  f.vlan_inner = r.vlan_inner;
  f.packets = r.packets[0];
  f.bytes = r.bytes[0];
  f.reverse_packets = r.packets[1];
  f.reverse_bytes = r.bytes[1];
  f.start_ms = r.first_seen_ns / 1'000'000;
  f.end_ms = r.last_seen_ns / 1'000'000;
  switch (r.end_reason < 0 ? flow::EndReason::kShutdown
                           : static_cast<flow::EndReason>(r.end_reason)) {
    case flow::EndReason::kIdle:
      f.end_reason = 1;
      break;
    case flow::EndReason::kTcpClosed:
    case flow::EndReason::kReused:
      f.end_reason = 3;
      break;
    case flow::EndReason::kEvicted:
      f.end_reason = 5;
      break;
    case flow::EndReason::kShutdown:
      f.end_reason = 4;
      break;
  }
  if (r.interim) f.end_reason = 2;  // active timeout: the flow goes on
  f.flow_id = r.flow_id;
  if (c && r.classified) {
    f.app_id = ipfix_app_id(r.cls.master, r.cls.app);
    f.app = c->names(r.cls).app;
    f.hostname = r.hostname.data();
  }
  if (image && r.judged) {
    const bool judged = r.verdict.flags & enforce::FlowVerdict::kJudged;
    f.verdict = judged && (r.verdict.flags & enforce::FlowVerdict::kDeny) ? 2 : 1;
    f.rule = r.verdict.rule == 0 || r.verdict.rule > image->rules.size()
                 ? "default"
                 : image->rules[r.verdict.rule - 1].name;
  }
  f.zone = zone;
  return f;
}

// ---- exporter ------------------------------------------------------------------------------

IpfixExporter::IpfixExporter(const IpfixConfig& cfg)
    : cfg_(cfg), enc_(cfg.observation_domain, cfg.enterprise, cfg.max_message) {}

IpfixExporter::~IpfixExporter() {
  if (fd_ >= 0) close(fd_);
}

std::unique_ptr<IpfixExporter> IpfixExporter::create(const IpfixConfig& cfg, std::string* error) {
  std::unique_ptr<IpfixExporter> x(new IpfixExporter(cfg));
  if (cfg.max_message < 512) {
    *error = "ipfix: max_message below 512 bytes";
    return nullptr;
  }
  if (!x->connect_socket(error)) {
    // TCP collector not up yet: keep the exporter; each message retries (counted reconnects,
    // records lost until it answers). Resolution errors and bad addresses still fail.
    if (!(cfg.tcp && cfg.retry_unreachable && x->resolved_)) return nullptr;
  }
  return x;
}

bool IpfixExporter::connect_socket(std::string* error) {
  const size_t colon = cfg_.collector.rfind(':');
  if (colon == std::string::npos) {
    *error = "ipfix: collector must be HOST:PORT: " + cfg_.collector;
    return false;
  }
  std::string host = cfg_.collector.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  const std::string port = cfg_.collector.substr(colon + 1);
  addrinfo hints{};
  hints.ai_socktype = cfg_.tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    *error = "ipfix: " + cfg_.collector + ": " + gai_strerror(rc);
    return false;
  }
  resolved_ = true;
  int fd = -1;
  for (addrinfo* a = res; a; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    *error = "ipfix: cannot reach " + cfg_.collector + ": " + std::strerror(errno);
    return false;
  }
  if (fd_ >= 0) close(fd_);
  fd_ = fd;
  templates_due_ = true;
  return true;
}

void IpfixExporter::send(const std::vector<uint8_t>& msg, uint32_t records) {
  size_t off = 0;
  bool ok = fd_ >= 0;
  while (ok && off < msg.size()) {
    const ssize_t n = ::send(fd_, msg.data() + off, msg.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || (!cfg_.tcp && static_cast<size_t>(n) != msg.size())) {
      ok = false;
      break;
    }
    off += static_cast<size_t>(n);
  }
  if (ok) {
    inc(IpfixCounter::kMessages);
    inc(IpfixCounter::kBytes, msg.size());
    return;
  }
  inc(IpfixCounter::kSendErrors);
  inc(IpfixCounter::kRecordsLost, records);
  templates_due_ = true;  // the collector may have missed them
  if (cfg_.tcp) {         // reconnect for the next message
    std::string err;
    inc(IpfixCounter::kReconnects);
    connect_socket(&err);
  }
}

void IpfixExporter::start_message(uint64_t now_s) {
  const bool refresh = !cfg_.tcp && (now_s >= last_templates_s_ + cfg_.template_refresh_s ||
                                     messages_since_templates_ >= cfg_.template_refresh_messages);
  if (templates_due_ || refresh) {
    enc_.add_templates();
    inc(IpfixCounter::kTemplates);
    last_templates_s_ = now_s;
    messages_since_templates_ = 0;
    templates_due_ = false;
    apps_pending_.clear();  // every known app is named again after new templates
    for (const auto& [id, name] : apps_) apps_pending_.push_back(id);
  }
  while (!apps_pending_.empty() &&
         enc_.add_app_name(apps_pending_.back(), apps_[apps_pending_.back()])) {
    inc(IpfixCounter::kAppRecords);
    apps_pending_.pop_back();
  }
}

void IpfixExporter::export_flow(const IpfixFlow& f, uint64_t now_s) {
  if (f.app_id && apps_.emplace(f.app_id, f.app).second) apps_pending_.push_back(f.app_id);
  if (enc_.empty()) start_message(now_s);
  if (!apps_pending_.empty()) start_message(now_s);
  if (!enc_.add(f)) {
    flush(now_s);
    start_message(now_s);
    if (!enc_.add(f)) {  // cannot happen: strings are capped so a record fits an empty message
      inc(IpfixCounter::kRecordsLost);
      return;
    }
  }
  inc(IpfixCounter::kRecords);
}

void IpfixExporter::flush(uint64_t now_s) {
  if (enc_.empty()) return;
  const uint32_t records = enc_.records();
  const auto& msg = enc_.finish(static_cast<uint32_t>(now_s));
  ++messages_since_templates_;
  send(msg, records);
}

}  // namespace cg::exporter

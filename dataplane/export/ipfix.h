// IPFIX (RFC 7011) flow export: the flow audit log (上网日志) to a collector such as nfdump's
// nfcapd. One record per ended flow (biflow, RFC 5103 reverse counters), standard information
// elements where they exist, enterprise-specific ones for the nDPI app name, hostname / SNI,
// verdict, zone and rule; applicationId (95) with an options template that names each app
// (applicationName, 96) the way nfdump's NBAR support reads it.
//
// Thread: the control thread (live) or the caller (replay / tools). Templates: sent first, then
// every `template_refresh_s` seconds and every `template_refresh_messages` messages over UDP
// (RFC 7011 §8.4), once per connection over TCP. Counters below.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "dataplane/export/flow_record.h"

namespace cg::exporter {

inline constexpr uint32_t kCampusguardPen = 32473;  // RFC 5612 documentation PEN: set your own
inline constexpr uint16_t kTemplateV4 = 256;
inline constexpr uint16_t kTemplateV6 = 257;
inline constexpr uint16_t kTemplateAppNames = 258;
inline constexpr size_t kAppNameLen = 32;  // fixed-length applicationName in the options record

// Enterprise-specific information elements (under `enterprise`).
enum class CgIe : uint16_t { kAppName = 1, kHostname = 2, kVerdict = 3, kZone = 4, kRule = 5 };

// One flow as it is exported (plain data; filled from a FlowRecord by the caller).
struct IpfixFlow {
  std::array<uint8_t, 16> src{};  // initiator; IPv4 as IPv4-mapped IPv6
  std::array<uint8_t, 16> dst{};
  uint16_t src_port = 0, dst_port = 0;
  uint8_t proto = 0;
  uint16_t vlan = 0, vlan_inner = 0;
  uint64_t packets = 0, bytes = 0;                  // initiator -> responder
  uint64_t reverse_packets = 0, reverse_bytes = 0;  // responder -> initiator
  uint64_t start_ms = 0, end_ms = 0;                // epoch milliseconds
  uint8_t end_reason =
      3;  // IPFIX flowEndReason: 1 idle, 2 active, 3 end detected, 4 forced, 5 lack of resources
  uint64_t flow_id = 0;  // the events' flow_id
  uint32_t app_id = 0;   // applicationId: classification engine 6 (user defined) << 24 | selector
  std::string app;       // "TLS.YouTube"
  std::string hostname;
  uint8_t verdict = 0;  // 0 no policy, 1 allow, 2 deny
  std::string zone;
  std::string rule;
};

struct IpfixConfig {
  std::string collector;  // "HOST:PORT" (IPv4 / IPv6 literal or name)
  bool tcp = false;
  uint32_t observation_domain = 1;
  uint32_t enterprise = kCampusguardPen;
  uint32_t template_refresh_s = 60;
  uint32_t template_refresh_messages = 100;
  uint16_t max_message = 1400;  // bytes per message (UDP: below the path MTU)
  // TCP: a collector that refuses the connection at create() is retried on every message
  // instead of failing create() (the live dataplane must start while the collector is down).
  bool retry_unreachable = false;
};

enum class IpfixCounter : uint8_t {
  kRecords,     // flow data records sent
  kAppRecords,  // app-name options records sent
  kMessages,
  kBytes,
  kTemplates,   // template sets sent
  kSendErrors,  // messages the socket refused (records in them are lost, counted below)
  kRecordsLost,
  kReconnects,  // TCP
  kCount
};
const char* ipfix_counter_name(IpfixCounter c);

// Builds IPFIX messages (no I/O): tests and the exporter use it.
class IpfixEncoder {
 public:
  explicit IpfixEncoder(uint32_t observation_domain, uint32_t enterprise, uint16_t max_message);
  // Appends the flow; returns false when the current message has no room (flush first).
  bool add(const IpfixFlow& f);
  // Appends the templates (data templates + options template); call on an empty message.
  void add_templates();
  // Appends an options record naming `app_id`; false when there is no room.
  bool add_app_name(uint32_t app_id, const std::string& name);
  bool empty() const { return records_ == 0 && !has_templates_; }
  uint32_t records() const { return records_; }
  // Finishes the message (header with export time and sequence number) and returns it; the
  // encoder starts a new one. The sequence counts data records sent before this message.
  const std::vector<uint8_t>& finish(uint32_t export_time_s);
  void reset();

 private:
  void open_set(uint16_t id);
  void close_set();
  void put8(uint8_t v) { buf_.push_back(v); }
  void put16(uint16_t v);
  void put32(uint32_t v);
  void put64(uint64_t v);
  void put_str(const std::string& s);

  uint32_t domain_, pen_;
  uint16_t max_;
  std::vector<uint8_t> buf_;
  std::vector<uint8_t> out_;
  size_t set_start_ = 0;
  uint16_t set_id_ = 0;
  uint32_t records_ = 0;
  uint32_t sequence_ = 0;
  bool has_templates_ = false;
};

class IpfixExporter {
 public:
  // Resolves and connects (TCP) / binds (UDP). Null with `error` on failure.
  static std::unique_ptr<IpfixExporter> create(const IpfixConfig& cfg, std::string* error);
  ~IpfixExporter();
  IpfixExporter(const IpfixExporter&) = delete;
  IpfixExporter& operator=(const IpfixExporter&) = delete;

  void export_flow(const IpfixFlow& f, uint64_t now_s);
  void flush(uint64_t now_s);
  uint64_t counter(IpfixCounter c) const { return counters_[static_cast<size_t>(c)]; }

 private:
  explicit IpfixExporter(const IpfixConfig& cfg);
  bool connect_socket(std::string* error);
  void send(const std::vector<uint8_t>& msg, uint32_t records);
  void start_message(uint64_t now_s);
  void inc(IpfixCounter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }

  IpfixConfig cfg_;
  IpfixEncoder enc_;
  int fd_ = -1;
  bool resolved_ = false;
  uint64_t last_templates_s_ = 0;
  uint64_t messages_since_templates_ = 0;
  bool templates_due_ = true;
  std::unordered_map<uint32_t, std::string> apps_;  // app names announced (re-sent with templates)
  std::vector<uint32_t> apps_pending_;
  std::array<uint64_t, static_cast<size_t>(IpfixCounter::kCount)> counters_{};
};

// applicationId for an nDPI (master, app) pair: engine 6 (user defined), 24-bit selector.
uint32_t ipfix_app_id(uint16_t master, uint16_t app);

// The export form of an ended flow: counts, times, end reason, flow id; with a classifier the
// app (id and ndpiReader name) and hostname; with an enforcer holding a policy the verdict and
// rule; `zone` is the school-side endpoint's zone name (may be empty).
IpfixFlow ipfix_flow(const FlowRecord& r, const classify::Classifier* c, const enforce::Enforcer* p,
                     const std::string& zone = "");
// The same with the policy image directly (the live control thread: the workers' enforcers are
// theirs); `image` may be null.
IpfixFlow ipfix_flow(const FlowRecord& r, const classify::Classifier* c,
                     const api::PolicyImage* image, const std::string& zone);

}  // namespace cg::exporter

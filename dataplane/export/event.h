// Event records: what detectors and the policy stage tell the control plane. Plain data of a
// fixed size (no pointers into the flow table or the policy image), written by a worker into its
// bounded EventRing and read by the control thread (live) or --replay, which turn them into
// JSON (event_json.h) with the names of dataplane/api/event.schema.json.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>

#include "dataplane/export/spsc_ring.h"

namespace cg::exporter {

// What raised the event. The JSON `detector` name and `alert.signature` follow from it.
enum class EventKind : uint8_t {
  kPortScan,         // one source, many ports of one host (vertical scan)
  kHostSweep,        // one source, one port, many hosts (horizontal sweep)
  kSynFlood,         // TCP SYNs toward one host above the rate
  kUdpFlood,         // UDP packets toward one host above the rate
  kBlocklistIp,      // an endpoint address is on a blocklist
  kBlocklistDomain,  // the DNS query / TLS SNI / HTTP Host is on a blocklist
  kFlowRisk,         // nDPI flow risks above the configured severity
  kPolicy,           // a deny hit or an alerting rule of the school policy
  kOverflow,         // events were lost (a ring or a subscriber buffer was full)
  kQuarantine,       // a packet from / to a quarantined address (quarantine.set) was dropped
  kCount
};
inline constexpr size_t kEventKindCount = static_cast<size_t>(EventKind::kCount);

// Where a blocklisted name was seen.
enum class MatchOn : uint8_t { kNone, kIp, kDnsQuery, kTlsSni, kHttpHost, kHostname };

struct Event {
  uint64_t ts_ns = 0;             // packet time (capture time in --replay)
  uint64_t seq = 0;               // per-worker sequence number (part of the event id)
  uint64_t flow_id = 0;           // stable id of the flow (also in the IPFIX record), 0 = none
  std::array<uint8_t, 16> src{};  // IPv4 as IPv4-mapped IPv6 (the parser's form)
  std::array<uint8_t, 16> dst{};
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint16_t vlan = 0;
  uint16_t vlan_inner = 0;
  uint8_t proto = 0;
  EventKind kind = EventKind::kOverflow;
  uint8_t severity = 0;      // api::Severity
  bool blocked = false;      // alert.action: blocked / allowed
  bool src_outside = false;  // the source entered on the outside port (zone is the dst's)
  MatchOn match_on = MatchOn::kNone;
  int16_t worker = -1;
  uint32_t count = 0;       // detectors: distinct ports / hosts, or packets in the window
  uint32_t threshold = 0;   // the threshold that was crossed
  uint32_t window_ms = 0;   // the detector's window
  int32_t rule = -1;        // policy: rule index, -1 = the default action
  uint32_t suppressed = 0;  // policy: repeats suppressed by the per-source rate limit before this
  uint64_t risk = 0;        // nDPI risk bitmap (kFlowRisk)
  uint64_t lost = 0;        // kOverflow: events lost since the last overflow event
  char name[64] = {};       // rule name / matched domain or prefix / overflow place
  char host[64] = {};       // flow hostname (SNI / Host / DNS query), may be empty
  char app[32] = {};        // nDPI app name (master.app) when classified

  void set_name(const char* s) { copy(name, sizeof(name), s); }
  void set_host(const char* s) { copy(host, sizeof(host), s); }
  void set_app(const char* s) { copy(app, sizeof(app), s); }
  static void copy(char* d, size_t n, const char* s) {
    size_t l = s ? std::strlen(s) : 0;
    if (l >= n) l = n - 1;
    if (l) std::memcpy(d, s, l);
    d[l] = '\0';
  }
};

// The worker's event ring (single producer: the worker; single consumer: the control thread or
// replay). push() never blocks: when full the event is counted in dropped() and lost; the
// consumer turns the dropped count into an overflow event, so a loss is never silent.
using EventRing = SpscRing<Event>;

}  // namespace cg::exporter

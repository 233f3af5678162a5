// A flow as it leaves the fast path (end of flow, or a snapshot for a query): plain data copied
// out of a FlowEntry, and its JSON form shared by the --replay report and the control socket.
#pragma once

#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "dataplane/classify/classifier.h"
#include "dataplane/enforce/enforcer.h"
#include "dataplane/flow/flow_table.h"

namespace cg::exporter {

// Stable 53-bit id of a flow (JSON-safe): the events' flow_id and the IPFIX flowId.
inline uint64_t flow_id_of(const flow::FlowEntry& e) {
  uint64_t x = uint64_t{e.hash} << 32 ^ e.first_seen_ns;
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return (x ^ (x >> 31)) & ((uint64_t{1} << 53) - 1);
}

struct FlowRecord {
  std::array<uint8_t, 16> src_addr;  // the initiator (sent the flow's first packet)
  std::array<uint8_t, 16> dst_addr;
  uint16_t src_port;
  uint16_t dst_port;
  uint8_t proto;
  flow::TcpState tcp_state;
  uint16_t vlan_outer;
  uint16_t vlan_inner;
  uint64_t packets[2];  // [0] src→dst, [1] dst→src
  uint64_t bytes[2];
  uint64_t first_seen_ns;
  uint64_t last_seen_ns;
  int8_t end_reason = -1;  // flow::EndReason, or -1 while the flow is live
  bool interim = false;      // an active-timeout record of a live flow (counts since the last)
  bool src_outside = false;  // the initiator is on the outside port (the zone is dst's)
  int16_t worker = -1;
  uint64_t flow_id = 0;  // flow_id_of(entry)
  bool classified = false;     // a classifier slot was read (names need its Classifier)
  classify::FlowClass cls{};   // state pointer cleared; hostname copied below
  std::array<char, 80> hostname{};
  bool judged = false;  // an enforcer slot was read
  enforce::FlowVerdict verdict{};

  // `c` may be null (classification off); `p` may be null (no policy).
  static FlowRecord from(const flow::FlowEntry& e, const classify::Classifier* c = nullptr,
                         const enforce::Enforcer* p = nullptr);
};

std::string address_string(const std::array<uint8_t, 16>& a);
// "TCP", "UDP", "ICMP", "ICMPv6", "IGMP", "GRE", "ESP", "AH", "OSPF", "PIM", "VRRP", "SCTP",
// or empty for protocols reported by number.
const char* proto_name(uint8_t proto);
std::string tcp_state_name(flow::TcpState s);

// The report / socket form: proto, src_ip, src_port, dst_ip, dst_port, packets, bytes,
// first_seen, last_seen (epoch seconds, microsecond precision) plus per-direction counts.
// With a classifier: also app (ndpiReader's master.app name), category, hostname (when one was
// seen), risks (nDPI risk names). With an enforcer holding a policy: verdict and rule.
nlohmann::json to_json(const FlowRecord& r, const classify::Classifier* c = nullptr,
                       const enforce::Enforcer* p = nullptr);

}  // namespace cg::exporter

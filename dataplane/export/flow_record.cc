#include "dataplane/export/flow_record.h"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>

namespace cg::exporter {

FlowRecord FlowRecord::from(const flow::FlowEntry& e, const classify::Classifier* c,
                            const enforce::Enforcer* p) {
  FlowRecord r{};
  if (p && p->image()) {
    r.judged = true;
    r.verdict = p->slot(e);
  }
  if (c) {
    r.classified = true;
    r.cls = c->slot(e);
    r.cls.state = 0;
    const char* h = c->hostname(r.cls);
    std::strncpy(r.hostname.data(), h, r.hostname.size() - 1);
  }
  bool lo_first = e.initiator_is_lo();
  r.src_addr = lo_first ? e.key.lo_addr : e.key.hi_addr;
  r.dst_addr = lo_first ? e.key.hi_addr : e.key.lo_addr;
  r.src_port = lo_first ? e.key.lo_port : e.key.hi_port;
  r.dst_port = lo_first ? e.key.hi_port : e.key.lo_port;
  r.proto = e.key.proto();
  r.tcp_state = e.tcp_state;
  r.vlan_outer = e.key.vlan_outer();
  r.vlan_inner = e.key.vlan_inner();
  r.packets[0] = e.packets[0];
  r.packets[1] = e.packets[1];
  r.bytes[0] = e.bytes[0];
  r.bytes[1] = e.bytes[1];
  r.first_seen_ns = e.first_seen_ns;
  r.last_seen_ns = e.last_seen_ns;
  r.flow_id = flow_id_of(e);
  r.src_outside = e.flags & flow::FlowEntry::kInitiatorOutside;
  return r;
}

std::string address_string(const std::array<uint8_t, 16>& a) {
  char buf[INET6_ADDRSTRLEN];
  if (flow::is_ipv4_mapped(a)) {
    inet_ntop(AF_INET, a.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, a.data(), buf, sizeof(buf));
  }
  return buf;
}

const char* proto_name(uint8_t proto) {
  switch (proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "ICMPv6";
    case 2: return "IGMP";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 89: return "OSPF";
    case 103: return "PIM";
    case 112: return "VRRP";
    case 132: return "SCTP";
    default: return "";
  }
}

std::string tcp_state_name(flow::TcpState s) {
  switch (s) {
    case flow::TcpState::kNone: return "none";
    case flow::TcpState::kSynSent: return "syn_sent";
    case flow::TcpState::kSynAckSeen: return "syn_ack";
    case flow::TcpState::kEstablished: return "established";
    case flow::TcpState::kClosing: return "closing";
    case flow::TcpState::kClosed: return "closed";
  }
  return "?";
}

static double seconds(uint64_t ns) {
  return std::round(static_cast<double>(ns) / 1e3) / 1e6;  // microsecond precision
}

nlohmann::json to_json(const FlowRecord& r, const classify::Classifier* c,
                       const enforce::Enforcer* p) {
  nlohmann::json j;
  const char* name = proto_name(r.proto);
  if (*name) {
    j["proto"] = name;
  } else {
    j["proto"] = r.proto;
  }
  j["src_ip"] = address_string(r.src_addr);
  j["src_port"] = r.src_port;
  j["dst_ip"] = address_string(r.dst_addr);
  j["dst_port"] = r.dst_port;
  if (r.vlan_outer) j["vlan"] = r.vlan_outer;
  if (r.vlan_inner) j["vlan_inner"] = r.vlan_inner;
  j["packets"] = r.packets[0] + r.packets[1];
  j["bytes"] = r.bytes[0] + r.bytes[1];
  j["src2dst_packets"] = r.packets[0];
  j["dst2src_packets"] = r.packets[1];
  j["src2dst_bytes"] = r.bytes[0];
  j["dst2src_bytes"] = r.bytes[1];
  j["first_seen"] = seconds(r.first_seen_ns);
  j["last_seen"] = seconds(r.last_seen_ns);
  if (r.proto == 6) j["tcp_state"] = tcp_state_name(r.tcp_state);
  if (r.end_reason >= 0)
    j["end_reason"] = std::string(flow::end_reason_name(static_cast<flow::EndReason>(r.end_reason)));
  if (r.worker >= 0) j["worker"] = r.worker;
  if (c && r.classified) {
    auto n = c->names(r.cls);
    j["app"] = n.app;
    j["category"] = n.category;
    if (r.hostname[0]) j["hostname"] = std::string(r.hostname.data());
    j["risks"] = n.risks;
    if (!r.cls.done()) j["classification"] = "inspecting";
  }
  if (p && r.judged) {
    j["verdict"] = p->verdict_name(r.verdict);
    j["rule"] = p->rule_name(r.verdict);
  }
  return j;
}

}  // namespace cg::exporter

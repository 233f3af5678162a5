// Row decoders: walked columns in, typed rows out. They never trust the agent: a value of the
// wrong type, an index of the wrong shape or out of range, or a malformed address is skipped and
// counted in DecodeStats under a named reason ("<table>.<reason>"); nothing here can crash or
// throw on agent data.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "snmp/session/types.h"

namespace cg::snmp::mibs {

struct DecodeStats {
  std::map<std::string, uint64_t> skipped;  // reason -> count
  void skip(std::string_view reason) { ++skipped[std::string(reason)]; }
  uint64_t total() const;
};

// index (the OID components after entry.column) -> value, for one column.
using Column = std::map<Oid, Value>;

// Keeps the varbinds under `column_oid` with a non-empty index; drops exception values.
Column to_column(const std::vector<VarBind>& walked, const Oid& column_oid);

// Value helpers (nullopt when the type does not fit).
std::optional<uint64_t> as_unsigned(const Value& v);  // INTEGER >= 0, Counter/Gauge/TimeTicks/64
std::optional<int64_t> as_integer(const Value& v);    // INTEGER, or unsigned types <= INT64_MAX
std::optional<std::string> as_bytes(const Value& v);  // OCTET STRING only

// Text for humans and JSON: trailing NULs dropped; valid UTF-8 without control characters (other
// than tab, CR, LF) is kept as is, anything else becomes colon-separated lowercase hex.
std::string display_string(std::string_view bytes);
// "aa:bb:cc:dd:ee:ff" for 6 bytes; nullopt otherwise.
std::optional<std::string> format_mac(std::string_view bytes);
// 4 bytes -> dotted quad, 16 bytes -> RFC 5952 text; nullopt otherwise.
std::optional<std::string> format_ip(std::string_view bytes);

// ---- ENTITY-MIB
struct EntityColumns {
  Column contained_in, cls, serial, model;
};
struct EntityRow {
  uint32_t index = 0;
  std::optional<uint32_t> contained_in;
  std::optional<int64_t> cls;                // PhysicalClass: 3 = chassis
  std::optional<std::string> serial, model;  // raw bytes
};
std::map<uint32_t, EntityRow> decode_entity_rows(const EntityColumns& c, DecodeStats& stats);
// The device's chassis: the lowest-index chassis-class row that no other chassis contains
// (a stack's members are contained in the stack, a module's chassis in nothing); nullptr if the
// table has no chassis row.
const EntityRow* primary_chassis(const std::map<uint32_t, EntityRow>& rows);

// ---- IF-MIB
struct IfColumns {
  Column descr, type, speed, oper_status;  // ifTable
  Column name, high_speed, alias;          // ifXTable
};
struct IfRow {
  uint32_t index = 0;
  std::optional<std::string> descr, name, alias;
  std::optional<int64_t> type;
  std::optional<uint64_t> speed_bps;        // ifSpeed (Gauge32, saturates at 4294967295)
  std::optional<uint64_t> high_speed_mbps;  // ifHighSpeed
  std::optional<int64_t> oper_status;       // 1..7
};
std::map<uint32_t, IfRow> decode_if_rows(const IfColumns& c, DecodeStats& stats);
const char* oper_status_name(int64_t status);  // nullptr outside 1..7

// ---- LLDP-MIB
struct LldpLocColumns {
  Column port_id_subtype, port_id, port_desc;
};
struct LldpLocPort {
  uint32_t port_num = 0;
  std::optional<int64_t> id_subtype;
  std::optional<std::string> id, desc;  // raw bytes
};
std::map<uint32_t, LldpLocPort> decode_lldp_loc_ports(const LldpLocColumns& c, DecodeStats& stats);

struct LldpRemColumns {
  Column chassis_id_subtype, chassis_id, port_id_subtype, port_id, port_desc, sys_name, sys_desc;
};
// Index shapes seen in the field: timeMark.localPortNum.remIndex (standard), localPortNum.remIndex
// (TP-Link JetStream), remIndex alone (MikroTik; RouterOS mixes 1- and 3-part rows).
struct LldpRemote {
  Oid key;                                 // the index as the agent gave it
  std::optional<uint32_t> local_port_num;  // absent for one-part indexes
  std::optional<int64_t> chassis_id_subtype, port_id_subtype;
  std::optional<std::string> chassis_id, port_id, port_desc, sys_name, sys_desc;  // raw bytes
};
std::vector<LldpRemote> decode_lldp_remotes(const LldpRemColumns& c, DecodeStats& stats);

struct LldpManAddr {
  Oid remote_key;       // matches LldpRemote::key
  int64_t subtype = 0;  // IANA address family: 1 ipv4, 2 ipv6
  std::string address;  // raw bytes
};
// `known_keys`: the remote keys decoded from lldpRemTable; the management-address index is
// remote-key.subtype.length.address, and the key's length is taken from the remote table.
std::vector<LldpManAddr> decode_lldp_man_addrs(const Column& if_subtype,
                                               const std::vector<Oid>& known_keys,
                                               DecodeStats& stats);
// Port / chassis id as text by subtype: MAC subtypes -> aa:bb:.., network address (IANA family
// byte + address) -> IP text, everything else display_string().
std::string format_port_id(std::optional<int64_t> subtype, std::string_view bytes);
std::string format_chassis_id(std::optional<int64_t> subtype, std::string_view bytes);

// ---- CISCO-CDP-MIB
struct CdpColumns {
  Column address_type, address, device_id, device_port;
};
struct CdpEntry {
  uint32_t if_index = 0;
  uint32_t device_index = 0;
  std::optional<int64_t> address_type;
  std::optional<std::string> address, device_id, device_port;  // raw bytes
};
std::vector<CdpEntry> decode_cdp_cache(const CdpColumns& c, DecodeStats& stats);

// ---- BRIDGE-MIB / Q-BRIDGE-MIB
std::map<uint32_t, uint32_t> decode_base_port_if_index(const Column& c, DecodeStats& stats);
struct FdbRow {
  std::string mac;                 // aa:bb:cc:dd:ee:ff
  std::optional<uint32_t> fdb_id;  // Q-BRIDGE only
  uint32_t port = 0;               // bridge port (0 = unknown to the agent)
  std::optional<int64_t> status;   // 1 other, 2 invalid, 3 learned, 4 self, 5 mgmt
};
std::vector<FdbRow> decode_dot1d_fdb(const Column& port, const Column& status, DecodeStats& stats);
std::vector<FdbRow> decode_dot1q_fdb(const Column& port, const Column& status, DecodeStats& stats);
// dot1qVlanFdbId (index timeMark.vlanIndex): vlan -> fdb id.
std::map<uint32_t, uint32_t> decode_vlan_fdb_ids(const Column& c, DecodeStats& stats);

// Generic "index is one Integer32 > 0, value is one Integer32 > 0" column (dot1dBasePortIfIndex,
// mtxrNeighborInterfaceID, jnxL2aldVlanTag, ...). `table` names the skip reasons.
std::map<uint32_t, uint32_t> decode_index_map(const Column& c, std::string_view table,
                                              DecodeStats& stats);

// ---- IP-MIB
// ipAdEntAddr (index = the address, value = the same IpAddress): the device's IPv4 addresses.
std::vector<std::string> decode_ip_ad_ent_addr(const Column& c, DecodeStats& stats);
struct ArpRow {
  uint32_t if_index = 0;
  std::string ip;               // text
  std::string mac;              // aa:bb:..
  std::optional<int64_t> type;  // 2 = invalid
};
std::vector<ArpRow> decode_ip_net_to_media(const Column& phys, const Column& type,
                                           DecodeStats& stats);
std::vector<ArpRow> decode_ip_net_to_physical(const Column& phys, const Column& type,
                                              DecodeStats& stats);

}  // namespace cg::snmp::mibs

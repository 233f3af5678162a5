// Discovery of ONE device over an SnmpSession: system group, interfaces, LLDP/CDP neighbours,
// forwarding table (MAC -> port, VLAN) and ARP, with vendor quirks resolved and what the device
// did not provide listed in `missing`.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "snmp/session/session.h"

namespace cg::snmp {

struct SystemInfo {
  std::optional<std::string> name, descr, object_id;
  std::optional<std::string> model, serial;  // ENTITY-MIB primary chassis (see README)
  std::optional<std::string> chassis_id;     // lldpLocChassisId as text (links are matched on it)
  std::vector<std::string> addresses;        // ipAdEntAddr: the device's own IPv4 addresses
};

struct Interface {
  uint32_t index = 0;
  std::string name;                        // ifName, else ifDescr, else the index as text
  std::string descr;                       // ifDescr ("" if absent)
  std::string alias;                       // ifAlias ("" if absent)
  std::optional<int64_t> type;             // IANAifType number
  std::optional<uint64_t> speed_mbps;      // ifHighSpeed if > 0, else ifSpeed rounded to Mbit/s
  std::optional<std::string> oper_status;  // up, down, testing, unknown, dormant, ...
  bool bridge_port = false;                // listed in dot1dBasePortTable (a switch port)
};

struct Neighbor {
  std::string protocol;                    // "lldp" or "cdp"
  std::optional<std::string> local_port;   // interface name (see README for the LLDP mapping)
  std::optional<uint32_t> local_if_index;  // when local_port is one of our interfaces
  std::string remote_name;                 // LLDP: sysName, else chassis id; CDP: device id
  std::string remote_port;
  std::optional<std::string> remote_address;
  std::string remote_chassis_id;  // LLDP only
  std::string remote_descr;       // LLDP lldpRemSysDesc ("" for CDP)
};

struct FdbEntry {
  std::string mac;
  std::optional<uint32_t> vlan;
  std::optional<std::string> port;  // interface name
  std::optional<uint32_t> if_index;
  uint32_t bridge_port = 0;
  std::optional<int64_t> status;  // dot1dTpFdbStatus / dot1qTpFdbStatus
};

struct ArpEntry {
  std::string ip;
  std::string mac;
  std::optional<std::string> interface;
};

struct DeviceDiscovery {
  SystemInfo system;
  std::vector<Interface> interfaces;
  std::vector<Neighbor> neighbors;
  std::vector<FdbEntry> fdb;
  std::vector<ArpEntry> arp;
  // Objects / tables the device did not provide (empty walk or noSuch* on GET), e.g.
  // "ifXTable", "cdpCacheTable"; a walk that failed appears as "lldpRemTable (timeout)".
  std::vector<std::string> missing;
  std::vector<std::string> walk_errors;     // full messages of failed walks
  std::map<std::string, uint64_t> skipped;  // decode / mapping skips by reason
};

struct DiscoveryOptions {
  bool fdb = true;
  bool arp = true;
  // After this many consecutive walks that time out, the device is considered gone and the
  // remaining tables are not asked for (no retry storm against a dead or throttling agent).
  int max_consecutive_timeouts = 2;
};

// Fails only when the device cannot be talked to at all (first request: timeout, auth failure,
// transport error). Later failures are reported in `missing` / `walk_errors`.
Result<DeviceDiscovery> discover_device(SnmpSession& session, const DiscoveryOptions& options = {});

// The `cgctl -o json topology probe` document: system, interfaces, neighbors, fdb, missing.
nlohmann::json to_json(const DeviceDiscovery& d);
std::string to_text(const DeviceDiscovery& d);

}  // namespace cg::snmp

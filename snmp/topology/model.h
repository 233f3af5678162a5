// The campus topology model built from a crawl: devices (managed = answered SNMP, or only seen
// as an LLDP / CDP neighbour), their ports with roles, links matched across devices and
// deduplicated, end hosts located on edge ports from FDB + ARP, and change events. Plain data
// with a versioned JSON form (to_json / topology_from_json) that cgctl saves to a file and
// cg-controld stores and serves to the web map.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "snmp/session/status.h"
#include "snmp/topology/crawl.h"

namespace cg::snmp {

inline constexpr int kTopologySchemaVersion = 1;

struct Port {
  uint32_t if_index = 0;
  std::string name, descr, alias;
  std::optional<int64_t> type;  // IANAifType
  std::optional<uint64_t> speed_mbps;
  std::optional<std::string> oper_status;
  bool bridge_port = false;  // in dot1dBasePortTable: a switch port (not a VLAN / loopback / CPU)
  // "uplink": links to a switch / router (managed, or an LLDP/CDP neighbour that is not an AP);
  // "ap": links to an access point; "edge": everything else (where end hosts are located).
  std::string role = "edge";
  uint32_t mac_count = 0;  // FDB entries learned on this port
};

struct Device {
  std::string id;        // sysName, else the address; unique within a topology
  bool managed = false;  // answered SNMP (false: only seen as someone's neighbour)
  std::string address;   // the address it was probed at / its management address
  std::string kind;      // "switch", "ap", "router", "other" (see README: inference)
  std::optional<std::string> descr, object_id, model, serial, chassis_id;
  std::vector<std::string> addresses;
  std::vector<Port> ports;           // managed devices only
  std::vector<std::string> missing;  // what the device did not provide (from discovery)
  std::optional<std::string> error;  // managed == false because it did not answer

  const Port* port(const std::string& name) const;
};

struct LinkEnd {
  std::string device;               // Device::id
  std::optional<std::string> port;  // Port::name (or the neighbour's own port text)
};

struct Link {
  LinkEnd a, b;                        // a < b (by device id, then port) for managed-managed
  std::vector<std::string> protocols;  // "lldp", "cdp" (sorted, unique)
  bool both_sides = false;             // both devices reported the link
  std::string key() const;             // "devA|portA -- devB|portB", stable across runs
};

struct Host {
  std::string mac;
  std::vector<std::string> ips;  // from every device's ARP table
  std::string device;            // where it is located
  std::string port;
  std::optional<uint32_t> vlan;
  uint32_t sightings = 0;  // FDB entries for this MAC across all devices
};

// A change, in the event JSON shape controld stores: {"time": unix seconds, "type": ...,
// type-specific fields}. Types: link_added, link_lost, host_moved, device_added, device_lost
// (from diff_topology); link_down, link_up, speed_changed, error_burst, poll_failed (from the
// poller; link_lost too when a port with a link goes down).
struct TopologyEvent {
  int64_t time = 0;
  std::string type;
  nlohmann::json detail = nlohmann::json::object();
  nlohmann::json to_json() const;
};

struct Topology {
  int64_t generated_at = 0;  // unix seconds
  std::vector<Device> devices;
  std::vector<Link> links;
  std::vector<Host> hosts;
  std::vector<TopologyEvent> events;  // history, oldest first
  std::map<std::string, uint64_t> counters;

  const Device* device(const std::string& id) const;
};

struct TopologyOptions {
  // Device id -> kind, overriding the inference (e.g. an AP whose sysDescr says nothing).
  std::map<std::string, std::string> kinds;
  size_t max_events = 10000;  // history kept when merging (oldest dropped, counted)
};

Topology build_topology(const CrawlResult& crawl, int64_t now, const TopologyOptions& options = {});

// Events that turn `before` into `after` (links added / lost, hosts moved, devices added / lost).
std::vector<TopologyEvent> diff_topology(const Topology& before, const Topology& after,
                                         int64_t now);

// `after` with the history of `before` plus the diff appended (bounded by max_events).
void carry_history(const Topology& before, Topology& after, int64_t now,
                   const TopologyOptions& options = {});

struct Location {
  Host host;
  std::string matched;  // "mac" or "ip"
};
// ADDRESS = IPv4 / IPv6 (through the ARP tables) or a MAC in any common notation.
std::optional<Location> locate(const Topology& t, const std::string& address);

nlohmann::json to_json(const Topology& t);
Result<Topology> topology_from_json(const nlohmann::json& j);
std::string to_text(const Topology& t);

// The JSON document in a file (cgctl --save / --from). Saving writes a temporary file in the same
// directory and renames it over the target, so a reader never sees half a topology.
Result<Topology> load_topology_file(const std::string& path);
Status save_topology_file(const std::string& path, const Topology& t);

// "aa:bb:cc:dd:ee:ff" from aa:bb:.., aa-bb-.., aabb.ccdd.eeff or 12 hex digits; nullopt else.
std::optional<std::string> normalize_mac(const std::string& text);

}  // namespace cg::snmp

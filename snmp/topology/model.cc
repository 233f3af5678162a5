#include "snmp/topology/model.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <tuple>

namespace cg::snmp {
namespace {

using nlohmann::json;

bool looks_like_ap(const std::string& text) {
  static const std::regex kAp(
      R"((access point|\bUAP\b|UAP-|nanoHD|\bU6-|AirEngine|\bAP\d|\bAP-|\bWA\d{4}|\bEAP\d|Aruba AP|wireless AP))",
      std::regex::icase);
  return !text.empty() && std::regex_search(text, kAp);
}

bool looks_like_phone(const std::string& text) {
  static const std::regex kPhone(R"((\bIP Phone\b|\bSIP-T\d|\bVoIP\b|\bphone\b))",
                                 std::regex::icase);
  return !text.empty() && std::regex_search(text, kPhone);
}

std::string infer_kind(const DeviceDiscovery& d) {
  std::string descr = d.system.descr.value_or("");
  if (looks_like_ap(descr)) return "ap";
  bool bridge =
      std::find(d.missing.begin(), d.missing.end(), "dot1dBasePortTable") == d.missing.end() ||
      !d.fdb.empty();
  if (bridge) return "switch";
  if (!d.arp.empty()) return "router";
  return "other";
}

json opt(const std::optional<std::string>& o) {
  return o ? json(*o) : json(nullptr);
}

template <class T>
std::optional<T> get_opt(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<T>();
}

json end_json(const LinkEnd& e) {
  return {{"device", e.device}, {"port", opt(e.port)}};
}

json host_json(const Host& h) {
  return {{"mac", h.mac},
          {"ips", h.ips},
          {"device", h.device},
          {"port", h.port},
          {"vlan", h.vlan ? json(*h.vlan) : json(nullptr)}};
}

}  // namespace

const Port* Device::port(const std::string& name) const {
  for (const Port& p : ports)
    if (p.name == name) return &p;
  return nullptr;
}

const Device* Topology::device(const std::string& id) const {
  for (const Device& d : devices)
    if (d.id == id) return &d;
  return nullptr;
}

std::string Link::key() const {
  return a.device + "|" + a.port.value_or("?") + " -- " + b.device + "|" + b.port.value_or("?");
}

json TopologyEvent::to_json() const {
  json j = detail.is_object() ? detail : json::object();
  j["time"] = time;
  j["type"] = type;
  return j;
}

std::optional<std::string> normalize_mac(const std::string& text) {
  std::string hex;
  for (char ch : text) {
    if (std::isxdigit(static_cast<unsigned char>(ch)))
      hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    else if (ch != ':' && ch != '-' && ch != '.')
      return std::nullopt;
  }
  if (hex.size() != 12) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < 12; i += 2) {
    if (i) out.push_back(':');
    out += hex.substr(i, 2);
  }
  return out;
}

Topology build_topology(const CrawlResult& crawl, int64_t now, const TopologyOptions& options) {
  Topology t;
  t.generated_at = now;
  auto count = [&](const char* what) { ++t.counters[what]; };

  // 1. Managed devices (and the ones that did not answer, so the map shows them).
  std::vector<const DeviceDiscovery*> disc;  // parallel to t.devices for managed ones
  std::set<std::string> ids;
  auto unique_id = [&](std::string id) {
    std::string base = id;
    for (int n = 2; !ids.insert(id).second; ++n) id = base + "#" + std::to_string(n);
    return id;
  };
  for (const CrawledDevice& c : crawl.devices) {
    if (c.duplicate_of) continue;
    Device d;
    d.address = host_of(c.address);
    if (!c.discovery) {
      d.id = unique_id(d.address);
      d.kind = "other";
      d.error = c.error ? c.error->to_string() : "no answer";
      t.devices.push_back(std::move(d));
      disc.push_back(nullptr);
      count("devices.unreachable");
      continue;
    }
    const DeviceDiscovery& dd = *c.discovery;
    d.managed = true;
    d.id = unique_id(dd.system.name && !dd.system.name->empty() ? *dd.system.name : d.address);
    d.descr = dd.system.descr;
    d.object_id = dd.system.object_id;
    d.model = dd.system.model;
    d.serial = dd.system.serial;
    d.chassis_id = dd.system.chassis_id;
    d.addresses = dd.system.addresses;
    d.missing = dd.missing;
    auto k = options.kinds.find(d.id);
    d.kind = k != options.kinds.end() ? k->second : infer_kind(dd);
    for (const Interface& i : dd.interfaces) {
      Port p;
      p.if_index = i.index;
      p.name = i.name;
      p.descr = i.descr;
      p.alias = i.alias;
      p.type = i.type;
      p.speed_mbps = i.speed_mbps;
      p.oper_status = i.oper_status;
      p.bridge_port = i.bridge_port;
      d.ports.push_back(std::move(p));
    }
    t.devices.push_back(std::move(d));
    disc.push_back(&dd);
  }
  size_t n_managed = t.devices.size();

  // 2. Which device does a neighbour row name? Chassis id, then address, then sysName.
  auto resolve = [&](const Neighbor& n) -> Device* {
    for (size_t i = 0; i < n_managed; ++i) {
      Device& d = t.devices[i];
      if (d.managed && d.chassis_id && !n.remote_chassis_id.empty() &&
          *d.chassis_id == n.remote_chassis_id)
        return &d;
    }
    if (n.remote_address) {
      for (size_t i = 0; i < n_managed; ++i) {
        Device& d = t.devices[i];
        const auto& a = d.addresses;
        if (d.managed && (d.address == *n.remote_address ||
                          std::find(a.begin(), a.end(), *n.remote_address) != a.end()))
          return &d;
      }
    }
    for (size_t i = 0; i < n_managed; ++i) {
      Device& d = t.devices[i];
      if (d.managed && !n.remote_name.empty() && d.id == n.remote_name) return &d;
    }
    return nullptr;
  };
  auto port_by_text = [](const Device& d, const std::string& text) -> const Port* {
    if (text.empty()) return nullptr;
    for (auto field : {&Port::name, &Port::descr, &Port::alias})
      for (const Port& p : d.ports)
        if (p.*field == text) return &p;
    return nullptr;
  };

  // 3. Links, deduplicated by their sorted ends.
  std::map<std::string, Link> links;
  std::map<std::string, std::set<std::string>> reporters;  // link key -> devices that saw it
  for (size_t i = 0; i < n_managed; ++i) {
    if (!disc[i]) continue;
    // t.devices grows below (unmanaged neighbours): keep the id, not a reference.
    const std::string self_id = t.devices[i].id;
    for (const Neighbor& n : disc[i]->neighbors) {
      count("links.neighbor_rows");
      LinkEnd here{self_id, n.local_port};
      LinkEnd there;
      Device* peer = resolve(n);
      if (peer && peer->id == self_id) {
        count("links.self");  // a device hearing itself (loop, or a bridge reflecting LLDP)
        continue;
      }
      if (peer) {
        there.device = peer->id;
        if (const Port* p = port_by_text(*peer, n.remote_port)) {
          there.port = p->name;
        } else {
          there.port = n.remote_port.empty() ? std::nullopt : std::optional(n.remote_port);
          count("links.remote_port_unresolved");
        }
      } else {
        // A neighbour that was not (or could not be) probed: keep it on the map.
        std::string id = !n.remote_name.empty()         ? n.remote_name
                         : !n.remote_chassis_id.empty() ? n.remote_chassis_id
                                                        : n.remote_address.value_or("");
        if (id.empty()) {
          count("links.anonymous_neighbor");
          continue;
        }
        auto it = std::find_if(t.devices.begin() + n_managed, t.devices.end(),
                               [&](const Device& d) { return d.id == id; });
        if (it == t.devices.end()) {
          Device d;
          d.id = id;
          ids.insert(id);
          d.address = n.remote_address.value_or("");
          d.descr = n.remote_descr.empty() ? std::nullopt : std::optional(n.remote_descr);
          if (!n.remote_chassis_id.empty()) d.chassis_id = n.remote_chassis_id;
          std::string text = n.remote_descr + " " + n.remote_name;
          d.kind = looks_like_ap(text) ? "ap" : looks_like_phone(text) ? "phone" : "other";
          auto k = options.kinds.find(id);
          if (k != options.kinds.end()) d.kind = k->second;
          t.devices.push_back(std::move(d));
          count("devices.unmanaged");
        }
        there.device = id;
        there.port = n.remote_port.empty() ? std::nullopt : std::optional(n.remote_port);
      }
      Link l;
      bool swap = std::tie(there.device, there.port) < std::tie(here.device, here.port);
      l.a = swap ? there : here;
      l.b = swap ? here : there;
      std::string key = l.key();
      auto [it, inserted] = links.emplace(key, l);
      auto& protos = it->second.protocols;
      if (std::find(protos.begin(), protos.end(), n.protocol) == protos.end()) {
        protos.push_back(n.protocol);
        std::sort(protos.begin(), protos.end());
      }
      reporters[key].insert(self_id);
      if (!inserted) count("links.duplicates_merged");
    }
  }
  for (auto& [key, l] : links) {
    l.both_sides = reporters[key].size() >= 2;
    t.links.push_back(l);
  }

  // 4. Port roles from the links.
  auto find_device = [&](const std::string& id) -> Device* {
    for (Device& d : t.devices)
      if (d.id == id) return &d;
    return nullptr;
  };
  for (const Link& l : t.links) {
    for (const auto& [mine, other] : {std::pair{&l.a, &l.b}, std::pair{&l.b, &l.a}}) {
      Device* d = find_device(mine->device);
      Device* o = find_device(other->device);
      if (!d || !d->managed || !mine->port || !o) continue;
      for (Port& p : d->ports) {
        if (p.name != *mine->port) continue;
        std::string role = o->kind == "ap" ? "ap" : o->kind == "phone" ? "edge" : "uplink";
        if (p.role != "uplink") p.role = role;  // uplink wins over ap / edge
      }
    }
  }

  // 5. Hosts: every FDB sighting on a non-uplink port; the port that learned the fewest MACs
  // wins (an access port sees one or a few MACs, a missed uplink sees many).
  struct Sighting {
    Device* device;
    Port* port;
    std::optional<uint32_t> vlan;
  };
  std::map<std::string, std::vector<Sighting>> sightings;
  std::map<std::string, uint32_t> total_sightings;
  std::set<std::string> own_macs;
  for (size_t i = 0; i < n_managed; ++i) {
    if (!disc[i]) continue;
    Device& d = t.devices[i];
    for (const FdbEntry& f : disc[i]->fdb) {
      if (f.status == 4) {  // self: the switch's own MAC
        own_macs.insert(f.mac);
        continue;
      }
      if (!f.port) {
        count("hosts.fdb_port_unknown");
        continue;
      }
      Port* p = nullptr;
      for (Port& q : d.ports)
        if (q.name == *f.port) p = &q;
      if (!p) continue;
      ++p->mac_count;
      ++total_sightings[f.mac];
      sightings[f.mac].push_back({&d, p, f.vlan});
    }
  }
  std::map<std::string, std::set<std::string>> ips_of;
  for (size_t i = 0; i < n_managed; ++i) {
    if (!disc[i]) continue;
    for (const ArpEntry& a : disc[i]->arp) ips_of[a.mac].insert(a.ip);
  }
  for (auto& [mac, list] : sightings) {
    if (own_macs.count(mac)) continue;
    std::vector<Sighting> edge;
    for (const Sighting& s : list)
      if (s.port->role != "uplink") edge.push_back(s);
    if (edge.empty()) {
      count("hosts.only_on_uplinks");
      continue;
    }
    std::sort(edge.begin(), edge.end(), [](const Sighting& x, const Sighting& y) {
      return std::tie(x.port->mac_count, x.device->id, x.port->name) <
             std::tie(y.port->mac_count, y.device->id, y.port->name);
    });
    std::set<std::pair<std::string, std::string>> distinct;
    for (const Sighting& s : edge) distinct.insert({s.device->id, s.port->name});
    if (distinct.size() > 1) count("hosts.ambiguous");
    Host h;
    h.mac = mac;
    h.device = edge[0].device->id;
    h.port = edge[0].port->name;
    h.vlan = edge[0].vlan;
    h.sightings = total_sightings[mac];
    auto ip = ips_of.find(mac);
    if (ip != ips_of.end()) h.ips.assign(ip->second.begin(), ip->second.end());
    t.hosts.push_back(std::move(h));
  }
  t.counters["devices"] = t.devices.size();
  t.counters["links"] = t.links.size();
  t.counters["hosts"] = t.hosts.size();
  return t;
}

std::vector<TopologyEvent> diff_topology(const Topology& before, const Topology& after,
                                         int64_t now) {
  std::vector<TopologyEvent> out;
  auto ev = [&](const char* type, json detail) { out.push_back({now, type, std::move(detail)}); };
  std::set<std::string> old_dev, new_dev;
  for (const Device& d : before.devices) old_dev.insert(d.id);
  for (const Device& d : after.devices) new_dev.insert(d.id);
  for (const Device& d : after.devices)
    if (!old_dev.count(d.id))
      ev("device_added", {{"device", d.id}, {"address", d.address}, {"managed", d.managed}});
  for (const Device& d : before.devices)
    if (!new_dev.count(d.id))
      ev("device_lost", {{"device", d.id}, {"address", d.address}, {"managed", d.managed}});

  std::map<std::string, const Link*> old_links, new_links;
  for (const Link& l : before.links) old_links[l.key()] = &l;
  for (const Link& l : after.links) new_links[l.key()] = &l;
  for (const auto& [k, l] : new_links)
    if (!old_links.count(k)) ev("link_added", {{"a", end_json(l->a)}, {"b", end_json(l->b)}});
  for (const auto& [k, l] : old_links)
    if (!new_links.count(k)) ev("link_lost", {{"a", end_json(l->a)}, {"b", end_json(l->b)}});

  std::map<std::string, const Host*> old_hosts;
  for (const Host& h : before.hosts) old_hosts[h.mac] = &h;
  for (const Host& h : after.hosts) {
    auto it = old_hosts.find(h.mac);
    if (it == old_hosts.end()) continue;
    const Host& o = *it->second;
    if (o.device == h.device && o.port == h.port) continue;
    ev("host_moved", {{"mac", h.mac},
                      {"ips", h.ips},
                      {"from", {{"device", o.device}, {"port", o.port}}},
                      {"to", {{"device", h.device}, {"port", h.port}}},
                      {"vlan", h.vlan ? json(*h.vlan) : json(nullptr)}});
  }
  return out;
}

void carry_history(const Topology& before, Topology& after, int64_t now,
                   const TopologyOptions& options) {
  std::vector<TopologyEvent> events = before.events;
  for (auto& e : diff_topology(before, after, now)) events.push_back(std::move(e));
  for (auto& e : after.events) events.push_back(std::move(e));
  if (events.size() > options.max_events) {
    after.counters["events.dropped_oldest"] += events.size() - options.max_events;
    events.erase(events.begin(), events.end() - static_cast<long>(options.max_events));
  }
  after.events = std::move(events);
}

std::optional<Location> locate(const Topology& t, const std::string& address) {
  if (auto mac = normalize_mac(address)) {
    for (const Host& h : t.hosts)
      if (h.mac == *mac) return Location{h, "mac"};
    return std::nullopt;
  }
  // Compare addresses in canonical form ("10.0.0.01" is not an address; v6 compressions vary).
  auto canonical = [](const std::string& ip) -> std::optional<std::string> {
    unsigned char b[16];
    char buf[INET6_ADDRSTRLEN];
    for (int af : {AF_INET, AF_INET6}) {
      if (inet_pton(af, ip.c_str(), b) == 1 && inet_ntop(af, b, buf, sizeof buf))
        return std::string(buf);
    }
    return std::nullopt;
  };
  auto want = canonical(address);
  if (!want) return std::nullopt;
  for (const Host& h : t.hosts)
    for (const std::string& ip : h.ips)
      if (canonical(ip) == want) return Location{h, "ip"};
  return std::nullopt;
}

json to_json(const Topology& t) {
  json j;
  j["schema_version"] = kTopologySchemaVersion;
  j["generated_at"] = t.generated_at;
  j["devices"] = json::array();
  for (const Device& d : t.devices) {
    json ports = json::array();
    for (const Port& p : d.ports) {
      ports.push_back({{"index", p.if_index},
                       {"name", p.name},
                       {"descr", p.descr},
                       {"alias", p.alias},
                       {"type", p.type ? json(*p.type) : json(nullptr)},
                       {"speed_mbps", p.speed_mbps ? json(*p.speed_mbps) : json(nullptr)},
                       {"oper_status", opt(p.oper_status)},
                       {"bridge_port", p.bridge_port},
                       {"role", p.role},
                       {"mac_count", p.mac_count}});
    }
    j["devices"].push_back({{"id", d.id},
                            {"managed", d.managed},
                            {"address", d.address},
                            {"kind", d.kind},
                            {"descr", opt(d.descr)},
                            {"object_id", opt(d.object_id)},
                            {"model", opt(d.model)},
                            {"serial", opt(d.serial)},
                            {"chassis_id", opt(d.chassis_id)},
                            {"addresses", d.addresses},
                            {"ports", ports},
                            {"missing", d.missing},
                            {"error", opt(d.error)}});
  }
  j["links"] = json::array();
  for (const Link& l : t.links) {
    j["links"].push_back({{"a", end_json(l.a)},
                          {"b", end_json(l.b)},
                          {"protocols", l.protocols},
                          {"both_sides", l.both_sides}});
  }
  j["hosts"] = json::array();
  for (const Host& h : t.hosts) {
    json hj = host_json(h);
    hj["sightings"] = h.sightings;
    j["hosts"].push_back(hj);
  }
  j["events"] = json::array();
  for (const auto& e : t.events) j["events"].push_back(e.to_json());
  j["counters"] = t.counters;
  return j;
}

Result<Topology> topology_from_json(const json& j) {
  try {
    if (!j.is_object()) return Status(ErrorCode::kInvalidArgument, "topology: not an object");
    int version = j.at("schema_version").get<int>();
    if (version != kTopologySchemaVersion) {
      return Status(ErrorCode::kInvalidArgument,
                    "topology: schema_version " + std::to_string(version) + ", this build reads " +
                        std::to_string(kTopologySchemaVersion));
    }
    Topology t;
    t.generated_at = j.at("generated_at").get<int64_t>();
    for (const json& dj : j.at("devices")) {
      Device d;
      d.id = dj.at("id").get<std::string>();
      d.managed = dj.at("managed").get<bool>();
      d.address = dj.at("address").get<std::string>();
      d.kind = dj.at("kind").get<std::string>();
      d.descr = get_opt<std::string>(dj, "descr");
      d.object_id = get_opt<std::string>(dj, "object_id");
      d.model = get_opt<std::string>(dj, "model");
      d.serial = get_opt<std::string>(dj, "serial");
      d.chassis_id = get_opt<std::string>(dj, "chassis_id");
      d.addresses = dj.at("addresses").get<std::vector<std::string>>();
      d.missing = dj.at("missing").get<std::vector<std::string>>();
      d.error = get_opt<std::string>(dj, "error");
      for (const json& pj : dj.at("ports")) {
        Port p;
        p.if_index = pj.at("index").get<uint32_t>();
        p.name = pj.at("name").get<std::string>();
        p.descr = pj.at("descr").get<std::string>();
        p.alias = pj.at("alias").get<std::string>();
        p.type = get_opt<int64_t>(pj, "type");
        p.speed_mbps = get_opt<uint64_t>(pj, "speed_mbps");
        p.oper_status = get_opt<std::string>(pj, "oper_status");
        p.bridge_port = pj.at("bridge_port").get<bool>();
        p.role = pj.at("role").get<std::string>();
        p.mac_count = pj.at("mac_count").get<uint32_t>();
        d.ports.push_back(std::move(p));
      }
      t.devices.push_back(std::move(d));
    }
    auto end = [](const json& e) {
      return LinkEnd{e.at("device").get<std::string>(), get_opt<std::string>(e, "port")};
    };
    for (const json& lj : j.at("links")) {
      Link l;
      l.a = end(lj.at("a"));
      l.b = end(lj.at("b"));
      l.protocols = lj.at("protocols").get<std::vector<std::string>>();
      l.both_sides = lj.at("both_sides").get<bool>();
      t.links.push_back(std::move(l));
    }
    for (const json& hj : j.at("hosts")) {
      Host h;
      h.mac = hj.at("mac").get<std::string>();
      h.ips = hj.at("ips").get<std::vector<std::string>>();
      h.device = hj.at("device").get<std::string>();
      h.port = hj.at("port").get<std::string>();
      h.vlan = get_opt<uint32_t>(hj, "vlan");
      h.sightings = hj.at("sightings").get<uint32_t>();
      t.hosts.push_back(std::move(h));
    }
    for (const json& ej : j.at("events")) {
      TopologyEvent e;
      e.time = ej.at("time").get<int64_t>();
      e.type = ej.at("type").get<std::string>();
      e.detail = ej;
      e.detail.erase("time");
      e.detail.erase("type");
      t.events.push_back(std::move(e));
    }
    t.counters = j.at("counters").get<std::map<std::string, uint64_t>>();
    return t;
  } catch (const json::exception& e) {
    return Status(ErrorCode::kInvalidArgument, std::string("topology: ") + e.what());
  }
}

Result<Topology> load_topology_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status(ErrorCode::kInvalidArgument, "cannot read " + path);
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) return Status(ErrorCode::kInvalidArgument, path + ": not JSON");
  auto t = topology_from_json(j);
  if (!t.ok()) return Status(ErrorCode::kInvalidArgument, path + ": " + t.status().message());
  return t;
}

Status save_topology_file(const std::string& path, const Topology& t) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << to_json(t).dump(1) << "\n";
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Status(ErrorCode::kInternal, "cannot write " + tmp);
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status(ErrorCode::kInternal, "cannot rename " + tmp + " to " + path);
  }
  return {};
}

std::string to_text(const Topology& t) {
  std::ostringstream o;
  size_t managed = 0;
  for (const Device& d : t.devices) managed += d.managed;
  o << "devices (" << t.devices.size() << ", " << managed << " answered SNMP):\n";
  for (const Device& d : t.devices) {
    o << "  " << d.id << "\t" << d.kind << "\t" << (d.address.empty() ? "-" : d.address) << "\t"
      << d.model.value_or("-") << "\t" << d.serial.value_or("-");
    if (!d.managed) o << "\t" << (d.error ? "no answer: " + *d.error : "neighbour only");
    o << "\n";
  }
  o << "\nlinks (" << t.links.size() << "):\n";
  for (const Link& l : t.links) {
    o << "  " << l.a.device << " " << l.a.port.value_or("?") << "  <->  " << l.b.device << " "
      << l.b.port.value_or("?") << "\t";
    for (const auto& p : l.protocols) o << p << " ";
    o << (l.both_sides ? "(both sides)" : "(one side)") << "\n";
  }
  o << "\nhosts (" << t.hosts.size() << "):\n";
  for (const Host& h : t.hosts) {
    o << "  " << h.mac << "\t";
    for (size_t i = 0; i < h.ips.size(); ++i) o << (i ? "," : "") << h.ips[i];
    if (h.ips.empty()) o << "-";
    o << "\t" << h.device << " " << h.port << "\tvlan "
      << (h.vlan ? std::to_string(*h.vlan) : std::string("-")) << "\n";
  }
  if (!t.events.empty()) {
    o << "\nevents (" << t.events.size() << ", newest last):\n";
    size_t from = t.events.size() > 20 ? t.events.size() - 20 : 0;
    for (size_t i = from; i < t.events.size(); ++i)
      o << "  " << t.events[i].to_json().dump() << "\n";
  }
  return o.str();
}

}  // namespace cg::snmp

#include "snmp/discovery/discovery.h"

#include <set>
#include <sstream>

#include "snmp/mibs/oids.h"
#include "snmp/mibs/rows.h"

namespace cg::snmp {
namespace {

using mibs::Column;
using mibs::column_oid;

class Prober {
 public:
  Prober(SnmpSession& s, const DiscoveryOptions& o, DeviceDiscovery& d)
      : session_(s), options_(o), d_(d) {}

  // Walks entry.column for each column; returns false if the table could not be read.
  // `out[i]` receives the column for columns[i]. Records the table as missing when empty.
  bool table(const char* name, const Oid& entry, const std::vector<uint32_t>& columns,
             std::vector<Column*> out) {
    if (gone_) {
      d_.missing.push_back(std::string(name) + " (not asked: device stopped answering)");
      return false;
    }
    std::vector<Oid> cols;
    for (uint32_t c : columns) cols.push_back(column_oid(entry, c));
    auto r = session_.walk_columns(cols);  // one GETBULK stream for the table's columns
    if (!r.ok()) {
      d_.missing.push_back(std::string(name) + " (" + error_code_name(r.status().code()) + ")");
      d_.walk_errors.push_back(r.status().message());
      if (r.status().code() == ErrorCode::kTimeout) {
        if (++consecutive_timeouts_ >= options_.max_consecutive_timeouts) gone_ = true;
      }
      return false;
    }
    consecutive_timeouts_ = 0;
    bool any = false;
    for (size_t i = 0; i < cols.size(); ++i) {
      *out[i] = mibs::to_column(*r, cols[i]);
      any = any || !out[i]->empty();
    }
    if (!any) d_.missing.push_back(name);
    return any;
  }

 private:
  SnmpSession& session_;
  const DiscoveryOptions& options_;
  DeviceDiscovery& d_;
  int consecutive_timeouts_ = 0;
  bool gone_ = false;
};

std::optional<uint64_t> speed_mbps(const mibs::IfRow& r) {
  if (r.high_speed_mbps && *r.high_speed_mbps > 0) return r.high_speed_mbps;
  if (r.speed_bps) return (*r.speed_bps + 500000) / 1000000;
  if (r.high_speed_mbps) return r.high_speed_mbps;  // 0
  return std::nullopt;
}

struct InterfaceIndex {
  std::map<uint32_t, const Interface*> by_index;
  const Interface* by_text(const std::string& text) const {
    if (text.empty()) return nullptr;
    for (const auto& [i, itf] : by_index)
      if (itf->name == text) return itf;
    for (const auto& [i, itf] : by_index)
      if (itf->descr == text) return itf;
    return nullptr;
  }
  const Interface* find(uint32_t i) const {
    auto it = by_index.find(i);
    return it == by_index.end() ? nullptr : it->second;
  }
};

}  // namespace

Result<DeviceDiscovery> discover_device(SnmpSession& session, const DiscoveryOptions& options) {
  DeviceDiscovery d;
  mibs::DecodeStats stats;

  // 1. System group: the first request decides whether the device is there at all.
  auto sys = session.get({mibs::kSysName, mibs::kSysDescr, mibs::kSysObjectId});
  if (!sys.ok()) return sys.status();
  for (const VarBind& vb : *sys) {
    if (vb.value.is_exception() || vb.value.type == ValueType::kNull) continue;
    if (vb.oid == mibs::kSysName || vb.oid == mibs::kSysDescr) {
      auto b = mibs::as_bytes(vb.value);
      if (!b) {
        stats.skip(vb.oid == mibs::kSysName ? "sysName.bad_value" : "sysDescr.bad_value");
        continue;
      }
      (vb.oid == mibs::kSysName ? d.system.name : d.system.descr) = mibs::display_string(*b);
    } else if (vb.oid == mibs::kSysObjectId) {
      if (vb.value.type != ValueType::kOid) {
        stats.skip("sysObjectID.bad_value");
        continue;
      }
      d.system.object_id = format_oid(vb.value.oid);
    }
  }
  // LLDP local chassis id (how neighbours name this device): a GET of its own, so an agent that
  // answers a GET of unknown objects with an error cannot spoil the system group. Optional.
  auto loc = session.get({mibs::kLldpLocChassisIdSubtype, mibs::kLldpLocChassisId});
  if (loc.ok()) {
    std::optional<int64_t> chassis_subtype;
    std::optional<std::string> chassis_id;
    for (const VarBind& vb : *loc) {
      if (vb.value.is_exception() || vb.value.type == ValueType::kNull) continue;
      if (vb.oid == mibs::kLldpLocChassisIdSubtype) {
        chassis_subtype = mibs::as_integer(vb.value);
      } else if (vb.oid == mibs::kLldpLocChassisId) {
        chassis_id = mibs::as_bytes(vb.value);
        if (!chassis_id) stats.skip("lldpLocChassisId.bad_value");
      }
    }
    if (chassis_id && !chassis_id->empty())
      d.system.chassis_id = mibs::format_chassis_id(chassis_subtype, *chassis_id);
  } else {
    stats.skip("lldpLocChassisId.get_failed");
  }
  if (!d.system.name) d.missing.push_back("sysName");
  if (!d.system.descr) d.missing.push_back("sysDescr");
  if (!d.system.object_id) d.missing.push_back("sysObjectID");

  Prober p(session, options, d);
  namespace m = mibs;

  // 1b. ENTITY-MIB: model and serial number of the chassis.
  m::EntityColumns entc;
  p.table("entPhysicalTable", m::kEntPhysicalEntry,
          {m::kEntPhysicalContainedIn, m::kEntPhysicalClass, m::kEntPhysicalSerialNum,
           m::kEntPhysicalModelName},
          {&entc.contained_in, &entc.cls, &entc.serial, &entc.model});
  auto entities = m::decode_entity_rows(entc, stats);
  if (const m::EntityRow* chassis = m::primary_chassis(entities)) {
    auto trimmed = [](const std::optional<std::string>& raw) -> std::optional<std::string> {
      if (!raw) return std::nullopt;
      std::string t = m::display_string(*raw);
      size_t b = t.find_first_not_of(" \t"), e = t.find_last_not_of(" \t");
      if (b == std::string::npos) return std::nullopt;
      return t.substr(b, e - b + 1);
    };
    d.system.model = trimmed(chassis->model);
    d.system.serial = trimmed(chassis->serial);
  } else if (!entities.empty()) {
    stats.skip("entity.no_chassis");
  }

  // 2. Interfaces.
  m::IfColumns ifc;
  p.table("ifTable", m::kIfEntry, {m::kIfDescr, m::kIfType, m::kIfSpeed, m::kIfOperStatus},
          {&ifc.descr, &ifc.type, &ifc.speed, &ifc.oper_status});
  p.table("ifXTable", m::kIfXEntry, {m::kIfName, m::kIfHighSpeed, m::kIfAlias},
          {&ifc.name, &ifc.high_speed, &ifc.alias});
  for (const auto& [index, r] : m::decode_if_rows(ifc, stats)) {
    Interface itf;
    itf.index = index;
    itf.descr = r.descr ? m::display_string(*r.descr) : "";
    std::string name = r.name ? m::display_string(*r.name) : "";
    itf.name = !name.empty() ? name : !itf.descr.empty() ? itf.descr : std::to_string(index);
    itf.alias = r.alias ? m::display_string(*r.alias) : "";
    itf.type = r.type;
    itf.speed_mbps = speed_mbps(r);
    if (r.oper_status) itf.oper_status = m::oper_status_name(*r.oper_status);
    d.interfaces.push_back(std::move(itf));
  }
  InterfaceIndex ifs;
  for (const Interface& itf : d.interfaces) ifs.by_index[itf.index] = &itf;

  // Bridge port -> ifIndex (used by LLDP local ports and the FDB).
  Column base_port_col;
  p.table("dot1dBasePortTable", m::kDot1dBasePortEntry, {m::kDot1dBasePortIfIndex},
          {&base_port_col});
  auto base_port = m::decode_base_port_if_index(base_port_col, stats);
  // TP-Link JetStream: dot1dBasePortTable is indexed by ifIndex (49153 -> 49153, ...) while
  // dot1qTpFdbPort and lldpLocPortNum count ports 1..n. Only when the table has exactly that
  // shape (every index equals its ifIndex, none in 1..n) is port p read as the p-th bridge port.
  std::vector<uint32_t> ordinal_if;
  {
    bool by_if_index = !base_port.empty();
    for (const auto& [port, if_index] : base_port)
      by_if_index = by_if_index && port == if_index && port > base_port.size();
    if (by_if_index)
      for (const auto& [port, if_index] : base_port) ordinal_if.push_back(if_index);
  }
  for (Interface& itf : d.interfaces) {
    for (const auto& [port, if_index] : base_port) itf.bridge_port |= if_index == itf.index;
  }
  auto by_ordinal = [&](uint32_t port) -> const Interface* {
    if (port == 0 || port > ordinal_if.size()) return nullptr;
    return ifs.find(ordinal_if[port - 1]);
  };

  // 3. LLDP.
  m::LldpLocColumns locc;
  p.table("lldpLocPortTable", m::kLldpLocPortEntry,
          {m::kLldpLocPortIdSubtype, m::kLldpLocPortId, m::kLldpLocPortDesc},
          {&locc.port_id_subtype, &locc.port_id, &locc.port_desc});
  auto loc_ports = m::decode_lldp_loc_ports(locc, stats);
  m::LldpRemColumns remc;
  p.table("lldpRemTable", m::kLldpRemEntry,
          {m::kLldpRemChassisIdSubtype, m::kLldpRemChassisId, m::kLldpRemPortIdSubtype,
           m::kLldpRemPortId, m::kLldpRemPortDesc, m::kLldpRemSysName, m::kLldpRemSysDesc},
          {&remc.chassis_id_subtype, &remc.chassis_id, &remc.port_id_subtype, &remc.port_id,
           &remc.port_desc, &remc.sys_name, &remc.sys_desc});
  auto remotes = m::decode_lldp_remotes(remc, stats);
  // MikroTik: one-part lldpRemTable indexes carry no local port; MIKROTIK-MIB's neighbour table
  // has the same index and the local ifIndex.
  std::map<uint32_t, uint32_t> mtxr_if;
  bool one_part = false;
  for (const auto& r : remotes) one_part = one_part || r.key.size() == 1;
  if (one_part) {
    Column mtxr_col;
    p.table("mtxrNeighborTable", m::kMtxrNeighborEntry, {m::kMtxrNeighborInterfaceId}, {&mtxr_col});
    mtxr_if = m::decode_index_map(mtxr_col, "mtxrNeighborTable", stats);
  }
  std::map<Oid, std::string> man_addr;
  if (!remotes.empty()) {
    Column man_col;
    p.table("lldpRemManAddrTable", m::kLldpRemManAddrEntry, {m::kLldpRemManAddrIfSubtype},
            {&man_col});
    std::vector<Oid> keys;
    for (const auto& r : remotes) keys.push_back(r.key);
    // First IPv4 address per remote, else first IPv6.
    std::map<Oid, std::string> v6;
    for (const auto& a : m::decode_lldp_man_addrs(man_col, keys, stats)) {
      auto ip = m::format_ip(a.address);
      if (a.subtype == 1 && a.address.size() == 4 && ip)
        man_addr.emplace(a.remote_key, *ip);
      else if (a.subtype == 2 && a.address.size() == 16 && ip)
        v6.emplace(a.remote_key, *ip);
    }
    for (auto& [k, ip] : v6) man_addr.emplace(k, ip);  // keeps IPv4 where present
  }
  for (const auto& r : remotes) {
    Neighbor n;
    n.protocol = "lldp";
    n.remote_chassis_id =
        r.chassis_id ? m::format_chassis_id(r.chassis_id_subtype, *r.chassis_id) : "";
    std::string sys_name = r.sys_name ? m::display_string(*r.sys_name) : "";
    n.remote_descr = r.sys_desc ? m::display_string(*r.sys_desc) : "";
    n.remote_name = !sys_name.empty() ? sys_name : n.remote_chassis_id;
    std::string port_id = r.port_id ? m::format_port_id(r.port_id_subtype, *r.port_id) : "";
    std::string port_desc = r.port_desc ? m::display_string(*r.port_desc) : "";
    bool id_is_address = r.port_id_subtype == 3 || r.port_id_subtype == 4;
    n.remote_port =
        ((id_is_address || port_id.empty()) && !port_desc.empty()) ? port_desc : port_id;
    auto ma = man_addr.find(r.key);
    if (ma != man_addr.end()) n.remote_address = ma->second;
    // Local port: lldpLocPortNum is a bridge port on some agents, an ifIndex on others and an
    // arbitrary number on a few; the local port table's id / description names the interface.
    const Interface* local = nullptr;
    std::string local_text;
    if (r.local_port_num) {
      uint32_t lp = *r.local_port_num;
      auto lr = loc_ports.find(lp);
      if (lr != loc_ports.end()) {
        std::string id =
            lr->second.id ? m::format_port_id(lr->second.id_subtype, *lr->second.id) : "";
        std::string desc = lr->second.desc ? m::display_string(*lr->second.desc) : "";
        local = ifs.by_text(id);
        if (!local) local = ifs.by_text(desc);
        local_text = !id.empty() ? id : desc;
      }
      if (!local) {
        auto bp = base_port.find(lp);
        if (bp != base_port.end()) local = ifs.find(bp->second);
      }
      if (!local) local = ifs.find(lp);
      if (!local && (local = by_ordinal(lp))) stats.skip("lldp.local_port_by_ordinal");
    } else if (r.key.size() == 1) {
      auto it = mtxr_if.find(r.key[0]);
      if (it != mtxr_if.end()) local = ifs.find(it->second);
    }
    if (local) {
      n.local_port = local->name;
      n.local_if_index = local->index;
    } else if (!local_text.empty()) {
      n.local_port = local_text;
      stats.skip("lldp.local_port_not_an_interface");
    } else {
      stats.skip("lldp.local_port_unknown");
    }
    d.neighbors.push_back(std::move(n));
  }

  // 4. CDP.
  m::CdpColumns cdpc;
  p.table(
      "cdpCacheTable", m::kCdpCacheEntry,
      {m::kCdpCacheAddressType, m::kCdpCacheAddress, m::kCdpCacheDeviceId, m::kCdpCacheDevicePort},
      {&cdpc.address_type, &cdpc.address, &cdpc.device_id, &cdpc.device_port});
  for (const auto& c : m::decode_cdp_cache(cdpc, stats)) {
    Neighbor n;
    n.protocol = "cdp";
    if (const Interface* local = ifs.find(c.if_index)) {
      n.local_port = local->name;
      n.local_if_index = local->index;
    } else {
      stats.skip("cdp.local_port_unknown");
    }
    n.remote_name = c.device_id ? m::display_string(*c.device_id) : "";
    n.remote_port = c.device_port ? m::display_string(*c.device_port) : "";
    if (c.address && (!c.address_type || *c.address_type == 1 || *c.address_type == 20)) {
      // 1 = ip (4 bytes); 20 = ipv6 on IOS (16 bytes)
      if (auto ip = m::format_ip(*c.address))
        n.remote_address = *ip;
      else
        stats.skip("cdpCacheAddress.bad_value");
    }
    d.neighbors.push_back(std::move(n));
  }

  // 5. Forwarding table: Q-BRIDGE (MAC, FDB id -> VLAN, port), then BRIDGE-MIB for the rest.
  if (options.fdb) {
    Column qport, qstatus, dport, dstatus, vlan_fdb;
    bool have_q = p.table("dot1qTpFdbTable", m::kDot1qTpFdbEntry,
                          {m::kDot1qTpFdbPort, m::kDot1qTpFdbStatus}, {&qport, &qstatus});
    std::vector<m::FdbRow> rows;
    std::map<uint32_t, std::set<uint32_t>> vlans_of_fdb;
    bool have_vlan_map = false;
    if (have_q) {
      rows = m::decode_dot1q_fdb(qport, qstatus, stats);
      have_vlan_map = p.table("dot1qVlanCurrentTable", m::kDot1qVlanCurrentEntry,
                              {m::kDot1qVlanFdbId}, {&vlan_fdb});
      for (const auto& [vlan, fdb] : m::decode_vlan_fdb_ids(vlan_fdb, stats))
        vlans_of_fdb[fdb].insert(vlan);
    }
    // Junos: FDB ids are (internal VLAN index << 16) and dot1qVlanCurrentTable is absent; the
    // tag comes from JUNIPER-L2ALD-MIB.
    std::map<uint32_t, uint32_t> junos_tag;
    bool big_fdb_ids = false;
    for (const auto& r : rows) big_fdb_ids = big_fdb_ids || (r.fdb_id && *r.fdb_id > 4094);
    if (have_q && !have_vlan_map && big_fdb_ids) {
      Column jnx_col;
      p.table("jnxL2aldVlanTable", m::kJnxL2aldVlanEntry, {m::kJnxL2aldVlanTag}, {&jnx_col});
      junos_tag = m::decode_index_map(jnx_col, "jnxL2aldVlanTable", stats);
    }
    p.table("dot1dTpFdbTable", m::kDot1dTpFdbEntry, {m::kDot1dTpFdbPort, m::kDot1dTpFdbStatus},
            {&dport, &dstatus});
    // BRIDGE-MIB rows add the MACs Q-BRIDGE did not list (some agents fill only one VLAN or
    // only the default VLAN in one of them); they carry no VLAN.
    std::set<std::string> q_macs;
    for (const auto& r : rows) q_macs.insert(r.mac);
    for (auto& r : m::decode_dot1d_fdb(dport, dstatus, stats)) {
      if (q_macs.count(r.mac)) continue;
      rows.push_back(std::move(r));
    }
    for (auto& r : rows) {
      if (r.status == 2) {
        stats.skip("fdb.status_invalid");
        continue;
      }
      FdbEntry e;
      e.mac = r.mac;
      e.bridge_port = r.port;
      e.status = r.status;
      if (r.fdb_id) {
        // Q-BRIDGE indexes by filtering database; with independent learning that is one VLAN.
        uint32_t id = *r.fdb_id;
        auto it = vlans_of_fdb.find(id);
        auto jt = junos_tag.find(id >> 16);
        if (have_vlan_map && it != vlans_of_fdb.end()) {
          if (it->second.size() == 1)
            e.vlan = *it->second.begin();
          else
            stats.skip("fdb.vlan_shared_fdb");  // shared learning: VLAN unknown
        } else if ((id & 0xffff) == 0 && jt != junos_tag.end() && jt->second <= 4094) {
          e.vlan = jt->second;
        } else if (id >= 1 && id <= 4094) {
          e.vlan = id;  // independent learning, FDB id = VLAN id (the common case)
        } else {
          stats.skip("fdb.vlan_unknown");
        }
      }
      // Port 0: the agent knows the MAC but not the port (Junos IRB, CPU / self entries); kept
      // with port null so the table is complete, counted.
      const Interface* itf = nullptr;
      if (r.port == 0) stats.skip("fdb.port_zero");
      auto bp = base_port.find(r.port);
      if (bp != base_port.end()) itf = ifs.find(bp->second);
      if (!itf) itf = ifs.find(r.port);  // agents without dot1dBasePortTable use ifIndex
      if (!itf && (itf = by_ordinal(r.port))) stats.skip("fdb.port_by_ordinal");
      if (itf) {
        e.port = itf->name;
        e.if_index = itf->index;
      } else if (r.port != 0) {
        stats.skip("fdb.port_unmapped");
      }
      d.fdb.push_back(std::move(e));
    }
  }

  // 6. ARP / neighbour cache.
  if (options.arp) {
    Column pphys, ptype, mphys, mtype;
    bool have_phys =
        p.table("ipNetToPhysicalTable", m::kIpNetToPhysicalEntry,
                {m::kIpNetToPhysicalPhysAddress, m::kIpNetToPhysicalType}, {&pphys, &ptype});
    std::vector<m::ArpRow> rows;
    if (have_phys) rows = m::decode_ip_net_to_physical(pphys, ptype, stats);
    if (rows.empty()) {
      p.table("ipNetToMediaTable", m::kIpNetToMediaEntry,
              {m::kIpNetToMediaPhysAddress, m::kIpNetToMediaType}, {&mphys, &mtype});
      rows = m::decode_ip_net_to_media(mphys, mtype, stats);
    }
    for (auto& r : rows) {
      if (r.type == 2) {
        stats.skip("arp.invalid");
        continue;
      }
      ArpEntry a{r.ip, r.mac, std::nullopt};
      if (const Interface* itf = ifs.find(r.if_index)) a.interface = itf->name;
      d.arp.push_back(std::move(a));
    }
  }

  // 7. The device's own addresses (to recognise it when a neighbour names another of them).
  Column addr_col;
  if (p.table("ipAddrTable", m::kIpAddrEntry, {m::kIpAdEntAddr}, {&addr_col}))
    d.system.addresses = m::decode_ip_ad_ent_addr(addr_col, stats);
  d.skipped = stats.skipped;
  return d;
}

nlohmann::json to_json(const DeviceDiscovery& d) {
  using nlohmann::json;
  auto opt = [](const auto& o) -> json { return o ? json(*o) : json(nullptr); };
  json j;
  j["system"] = {{"name", opt(d.system.name)},
                 {"descr", opt(d.system.descr)},
                 {"object_id", opt(d.system.object_id)},
                 {"model", opt(d.system.model)},
                 {"serial", opt(d.system.serial)}};
  j["interfaces"] = json::array();
  for (const auto& i : d.interfaces) {
    j["interfaces"].push_back({{"index", i.index},
                               {"name", i.name},
                               {"alias", i.alias},
                               {"type", opt(i.type)},
                               {"speed_mbps", opt(i.speed_mbps)},
                               {"oper_status", opt(i.oper_status)}});
  }
  j["neighbors"] = json::array();
  for (const auto& n : d.neighbors) {
    j["neighbors"].push_back({{"protocol", n.protocol},
                              {"local_port", opt(n.local_port)},
                              {"remote_name", n.remote_name},
                              {"remote_port", n.remote_port},
                              {"remote_address", opt(n.remote_address)}});
  }
  j["fdb"] = json::array();
  for (const auto& f : d.fdb) {
    j["fdb"].push_back({{"mac", f.mac}, {"vlan", opt(f.vlan)}, {"port", opt(f.port)}});
  }
  j["missing"] = d.missing;
  return j;
}

std::string to_text(const DeviceDiscovery& d) {
  std::ostringstream o;
  auto s = [](const std::optional<std::string>& x) { return x ? *x : std::string("-"); };
  o << "system: " << s(d.system.name) << "  (" << s(d.system.object_id) << ")\n";
  o << "  " << s(d.system.descr) << "\n";
  o << "  model " << s(d.system.model) << ", serial " << s(d.system.serial) << "\n";
  o << "\ninterfaces (" << d.interfaces.size() << "):\n";
  for (const auto& i : d.interfaces) {
    o << "  " << i.index << "\t" << i.name << "\t"
      << (i.speed_mbps ? std::to_string(*i.speed_mbps) + " Mbit/s" : std::string("-")) << "\t"
      << (i.oper_status ? *i.oper_status : "-") << "\t" << i.alias << "\n";
  }
  o << "\nneighbors (" << d.neighbors.size() << "):\n";
  for (const auto& n : d.neighbors) {
    o << "  " << n.protocol << "\t" << s(n.local_port) << " -> " << n.remote_name << " "
      << n.remote_port << (n.remote_address ? " (" + *n.remote_address + ")" : "") << "\n";
  }
  o << "\nfdb (" << d.fdb.size() << "):\n";
  for (const auto& f : d.fdb) {
    o << "  " << f.mac << "\tvlan " << (f.vlan ? std::to_string(*f.vlan) : "-") << "\t" << s(f.port)
      << "\n";
  }
  o << "\narp (" << d.arp.size() << "):\n";
  for (const auto& a : d.arp) o << "  " << a.ip << "\t" << a.mac << "\t" << s(a.interface) << "\n";
  if (!d.missing.empty()) {
    o << "\nnot provided by the device:";
    for (const auto& m : d.missing) o << " " << m << ";";
    o << "\n";
  }
  if (!d.skipped.empty()) {
    o << "skipped:";
    for (const auto& [k, v] : d.skipped) o << " " << k << "=" << v;
    o << "\n";
  }
  return o.str();
}

}  // namespace cg::snmp

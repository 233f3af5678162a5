#include "snmp/mibs/rows.h"

#include <arpa/inet.h>

#include <limits>
#include <set>
#include <tuple>

namespace cg::snmp::mibs {
namespace {

constexpr uint64_t kMaxIndex = 2147483647;  // InterfaceIndex / port numbers are Integer32 > 0

// Length in bytes of the UTF-8 sequence at s[i], or 0 if invalid (overlongs, surrogates and
// code points above U+10FFFF are invalid, exactly as Python's strict decoder sees them).
size_t utf8_seq_len(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  auto cont = [&](size_t k) { return k < s.size() && (b(k) & 0xc0) == 0x80; };
  if (c >= 0xc2 && c <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(i + 1) || !cont(i + 2)) return 0;
    if (c == 0xe0 && b(i + 1) < 0xa0) return 0;   // overlong
    if (c == 0xed && b(i + 1) >= 0xa0) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(i + 1) || !cont(i + 2) || !cont(i + 3)) return 0;
    if (c == 0xf0 && b(i + 1) < 0x90) return 0;
    if (c == 0xf4 && b(i + 1) >= 0x90) return 0;
    return 4;
  }
  return 0;
}

std::string hex_colon(std::string_view bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out.push_back(':');
    auto c = static_cast<unsigned char>(bytes[i]);
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

// Index components that must be bytes (MACs, addresses) -> string; nullopt if any is > 255.
std::optional<std::string> index_bytes(const Oid& idx, size_t from, size_t count) {
  if (from + count > idx.size()) return std::nullopt;
  std::string out;
  for (size_t i = from; i < from + count; ++i) {
    if (idx[i] > 255) return std::nullopt;
    out.push_back(static_cast<char>(idx[i]));
  }
  return out;
}

bool valid_index(uint32_t v) {
  return v > 0 && v <= kMaxIndex;
}

}  // namespace

uint64_t DecodeStats::total() const {
  uint64_t n = 0;
  for (const auto& [k, v] : skipped) n += v;
  return n;
}

Column to_column(const std::vector<VarBind>& walked, const Oid& column_oid) {
  Column out;
  for (const VarBind& vb : walked) {
    if (vb.value.is_exception() || vb.oid.size() <= column_oid.size()) continue;
    if (!oid_starts_with(vb.oid, column_oid)) continue;
    out.emplace(oid_suffix(vb.oid, column_oid), vb.value);
  }
  return out;
}

std::optional<uint64_t> as_unsigned(const Value& v) {
  switch (v.type) {
    case ValueType::kInteger:
      if (v.integer < 0) return std::nullopt;
      return static_cast<uint64_t>(v.integer);
    case ValueType::kCounter32:
    case ValueType::kGauge32:
    case ValueType::kTimeTicks:
    case ValueType::kCounter64:
      return v.unsigned_;
    default:
      return std::nullopt;
  }
}

std::optional<int64_t> as_integer(const Value& v) {
  if (v.type == ValueType::kInteger) return v.integer;
  auto u = as_unsigned(v);
  if (!u || *u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  return static_cast<int64_t>(*u);
}

std::optional<std::string> as_bytes(const Value& v) {
  if (v.type != ValueType::kOctetString) return std::nullopt;
  return v.bytes;
}

std::string display_string(std::string_view bytes) {
  while (!bytes.empty() && bytes.back() == '\0') bytes.remove_suffix(1);
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_seq_len(bytes, i);
    if (n == 0) return hex_colon(bytes);
    if (n == 1) {
      auto c = static_cast<unsigned char>(bytes[i]);
      if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return hex_colon(bytes);
    }
    i += n;
  }
  return std::string(bytes);
}

std::optional<std::string> format_mac(std::string_view bytes) {
  if (bytes.size() != 6) return std::nullopt;
  return hex_colon(bytes);
}

std::optional<std::string> format_ip(std::string_view bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (bytes.size() == 4) {
    if (!inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf))) return std::nullopt;
    return std::string(buf);
  }
  if (bytes.size() == 16) {
    if (!inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf))) return std::nullopt;
    return std::string(buf);
  }
  return std::nullopt;
}

// ---------------------------------------------------------------- IF-MIB

std::map<uint32_t, EntityRow> decode_entity_rows(const EntityColumns& c, DecodeStats& stats) {
  std::map<uint32_t, EntityRow> rows;
  auto row = [&](const Oid& idx, const char* column) -> EntityRow* {
    if (idx.size() != 1 || !valid_index(idx[0])) {
      stats.skip(std::string(column) + ".bad_index");
      return nullptr;
    }
    EntityRow& r = rows[idx[0]];
    r.index = idx[0];
    return &r;
  };
  for (const auto& [idx, v] : c.contained_in) {
    EntityRow* r = row(idx, "entPhysicalContainedIn");
    if (!r) continue;
    auto x = as_unsigned(v);
    if (!x || *x > kMaxIndex) {
      stats.skip("entPhysicalContainedIn.bad_value");
      continue;
    }
    r->contained_in = static_cast<uint32_t>(*x);
  }
  for (const auto& [idx, v] : c.cls) {
    EntityRow* r = row(idx, "entPhysicalClass");
    if (!r) continue;
    auto x = as_integer(v);
    if (!x || *x < 1 || *x > 12) {
      stats.skip("entPhysicalClass.bad_value");
      continue;
    }
    r->cls = *x;
  }
  for (const auto& [col, name, field] :
       {std::tuple{&c.serial, "entPhysicalSerialNum", &EntityRow::serial},
        std::tuple{&c.model, "entPhysicalModelName", &EntityRow::model}}) {
    for (const auto& [idx, v] : *col) {
      EntityRow* r = row(idx, name);
      if (!r) continue;
      auto b = as_bytes(v);
      if (!b) {
        stats.skip(std::string(name) + ".bad_value");
        continue;
      }
      r->*field = *b;
    }
  }
  return rows;
}

const EntityRow* primary_chassis(const std::map<uint32_t, EntityRow>& rows) {
  auto is_chassis = [](const EntityRow& r) { return r.cls == 3; };  // PhysicalClass chassis(3)
  for (const auto& [index, r] : rows) {
    if (!is_chassis(r)) continue;
    // Walk up the containment chain (bounded: agents can send loops).
    bool inside_chassis = false;
    std::optional<uint32_t> up = r.contained_in;
    for (int depth = 0; depth < 32 && up && *up != 0 && !inside_chassis; ++depth) {
      auto it = rows.find(*up);
      if (it == rows.end()) break;
      inside_chassis = is_chassis(it->second);
      up = it->second.contained_in;
    }
    if (!inside_chassis) return &r;
  }
  return nullptr;
}

std::map<uint32_t, IfRow> decode_if_rows(const IfColumns& c, DecodeStats& stats) {
  std::map<uint32_t, IfRow> rows;
  auto each = [&](const Column& col, const char* what, auto&& apply) {
    for (const auto& [idx, v] : col) {
      if (idx.size() != 1 || !valid_index(idx[0])) {
        stats.skip(std::string("ifTable.bad_index"));
        continue;
      }
      IfRow& r = rows[idx[0]];
      r.index = idx[0];
      if (!apply(r, v)) stats.skip(std::string(what) + ".bad_value");
    }
  };
  auto str = [](std::optional<std::string> IfRow::*field) {
    return [field](IfRow& r, const Value& v) {
      auto b = as_bytes(v);
      if (!b) return false;
      r.*field = std::move(*b);
      return true;
    };
  };
  each(c.descr, "ifDescr", str(&IfRow::descr));
  each(c.name, "ifName", str(&IfRow::name));
  each(c.alias, "ifAlias", str(&IfRow::alias));
  each(c.type, "ifType", [](IfRow& r, const Value& v) {
    auto x = as_integer(v);
    if (!x || *x < 1 || *x > 2147483647) return false;
    r.type = *x;
    return true;
  });
  each(c.speed, "ifSpeed", [](IfRow& r, const Value& v) {
    auto x = as_unsigned(v);
    if (!x || *x > 0xffffffffULL) return false;
    r.speed_bps = *x;
    return true;
  });
  each(c.high_speed, "ifHighSpeed", [](IfRow& r, const Value& v) {
    auto x = as_unsigned(v);
    if (!x || *x > 0xffffffffULL) return false;
    r.high_speed_mbps = *x;
    return true;
  });
  each(c.oper_status, "ifOperStatus", [](IfRow& r, const Value& v) {
    auto x = as_integer(v);
    if (!x || !oper_status_name(*x)) return false;
    r.oper_status = *x;
    return true;
  });
  return rows;
}

const char* oper_status_name(int64_t s) {
  static const char* kNames[] = {"up",      "down",       "testing",       "unknown",
                                 "dormant", "notPresent", "lowerLayerDown"};
  if (s < 1 || s > 7) return nullptr;
  return kNames[s - 1];
}

// ---------------------------------------------------------------- LLDP-MIB

std::map<uint32_t, LldpLocPort> decode_lldp_loc_ports(const LldpLocColumns& c, DecodeStats& stats) {
  std::map<uint32_t, LldpLocPort> rows;
  auto each = [&](const Column& col, const char* what, auto&& apply) {
    for (const auto& [idx, v] : col) {
      if (idx.size() != 1 || !valid_index(idx[0])) {
        stats.skip("lldpLocPortTable.bad_index");
        continue;
      }
      LldpLocPort& r = rows[idx[0]];
      r.port_num = idx[0];
      if (!apply(r, v)) stats.skip(std::string(what) + ".bad_value");
    }
  };
  each(c.port_id_subtype, "lldpLocPortIdSubtype", [](LldpLocPort& r, const Value& v) {
    auto x = as_integer(v);
    if (!x) return false;
    r.id_subtype = *x;
    return true;
  });
  each(c.port_id, "lldpLocPortId", [](LldpLocPort& r, const Value& v) {
    auto b = as_bytes(v);
    if (!b) return false;
    r.id = std::move(*b);
    return true;
  });
  each(c.port_desc, "lldpLocPortDesc", [](LldpLocPort& r, const Value& v) {
    auto b = as_bytes(v);
    if (!b) return false;
    r.desc = std::move(*b);
    return true;
  });
  return rows;
}

std::vector<LldpRemote> decode_lldp_remotes(const LldpRemColumns& c, DecodeStats& stats) {
  std::map<Oid, LldpRemote> rows;
  auto each = [&](const Column& col, const char* what, auto&& apply) {
    for (const auto& [idx, v] : col) {
      if (idx.empty() || idx.size() > 3) {
        stats.skip("lldpRemTable.bad_index");
        continue;
      }
      LldpRemote& r = rows[idx];
      r.key = idx;
      if (idx.size() >= 2) r.local_port_num = idx[idx.size() - 2];
      if (!apply(r, v)) stats.skip(std::string(what) + ".bad_value");
    }
  };
  auto str = [](std::optional<std::string> LldpRemote::*field) {
    return [field](LldpRemote& r, const Value& v) {
      auto b = as_bytes(v);
      if (!b) return false;
      r.*field = std::move(*b);
      return true;
    };
  };
  auto num = [](std::optional<int64_t> LldpRemote::*field) {
    return [field](LldpRemote& r, const Value& v) {
      auto x = as_integer(v);
      if (!x) return false;
      r.*field = *x;
      return true;
    };
  };
  each(c.chassis_id_subtype, "lldpRemChassisIdSubtype", num(&LldpRemote::chassis_id_subtype));
  each(c.chassis_id, "lldpRemChassisId", str(&LldpRemote::chassis_id));
  each(c.port_id_subtype, "lldpRemPortIdSubtype", num(&LldpRemote::port_id_subtype));
  each(c.port_id, "lldpRemPortId", str(&LldpRemote::port_id));
  each(c.port_desc, "lldpRemPortDesc", str(&LldpRemote::port_desc));
  each(c.sys_name, "lldpRemSysName", str(&LldpRemote::sys_name));
  each(c.sys_desc, "lldpRemSysDesc", str(&LldpRemote::sys_desc));
  std::vector<LldpRemote> out;
  out.reserve(rows.size());
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  return out;
}

std::vector<LldpManAddr> decode_lldp_man_addrs(const Column& if_subtype,
                                               const std::vector<Oid>& known_keys,
                                               DecodeStats& stats) {
  std::set<Oid> keys(known_keys.begin(), known_keys.end());
  std::vector<LldpManAddr> out;
  for (const auto& [idx, v] : if_subtype) {
    bool found = false;
    for (size_t p = 3; p >= 1 && !found; --p) {
      if (idx.size() < p + 2) continue;
      Oid key(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(p));
      if (!keys.count(key)) continue;
      uint32_t len = idx[p + 1];
      if (static_cast<size_t>(len) != idx.size() - p - 2) continue;
      auto addr = index_bytes(idx, p + 2, len);
      if (!addr) continue;
      out.push_back({std::move(key), idx[p], std::move(*addr)});
      found = true;
    }
    if (!found) stats.skip("lldpRemManAddrTable.bad_index");
  }
  return out;
}

namespace {
std::string format_network_address(std::string_view bytes) {
  // IANA address family byte + address (LLDP networkAddress subtype).
  if (bytes.size() == 5 && bytes[0] == 1) {
    if (auto ip = format_ip(bytes.substr(1))) return *ip;
  }
  if (bytes.size() == 17 && bytes[0] == 2) {
    if (auto ip = format_ip(bytes.substr(1))) return *ip;
  }
  return display_string(bytes);
}
}  // namespace

std::string format_port_id(std::optional<int64_t> subtype, std::string_view bytes) {
  if (subtype == 3) {
    if (auto m = format_mac(bytes)) return *m;
  } else if (subtype == 4) {
    return format_network_address(bytes);
  }
  return display_string(bytes);
}

std::string format_chassis_id(std::optional<int64_t> subtype, std::string_view bytes) {
  if (subtype == 4) {
    if (auto m = format_mac(bytes)) return *m;
  } else if (subtype == 5) {
    return format_network_address(bytes);
  }
  return display_string(bytes);
}

// ---------------------------------------------------------------- CISCO-CDP-MIB

std::vector<CdpEntry> decode_cdp_cache(const CdpColumns& c, DecodeStats& stats) {
  std::map<Oid, CdpEntry> rows;
  auto each = [&](const Column& col, const char* what, auto&& apply) {
    for (const auto& [idx, v] : col) {
      if (idx.size() != 2 || !valid_index(idx[0])) {
        stats.skip("cdpCacheTable.bad_index");
        continue;
      }
      CdpEntry& r = rows[idx];
      r.if_index = idx[0];
      r.device_index = idx[1];
      if (!apply(r, v)) stats.skip(std::string(what) + ".bad_value");
    }
  };
  auto str = [](std::optional<std::string> CdpEntry::*field) {
    return [field](CdpEntry& r, const Value& v) {
      auto b = as_bytes(v);
      if (!b) return false;
      r.*field = std::move(*b);
      return true;
    };
  };
  each(c.address_type, "cdpCacheAddressType", [](CdpEntry& r, const Value& v) {
    auto x = as_integer(v);
    if (!x) return false;
    r.address_type = *x;
    return true;
  });
  each(c.address, "cdpCacheAddress", str(&CdpEntry::address));
  each(c.device_id, "cdpCacheDeviceId", str(&CdpEntry::device_id));
  each(c.device_port, "cdpCacheDevicePort", str(&CdpEntry::device_port));
  std::vector<CdpEntry> out;
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  return out;
}

// ---------------------------------------------------------------- BRIDGE / Q-BRIDGE

std::map<uint32_t, uint32_t> decode_index_map(const Column& c, std::string_view table,
                                              DecodeStats& stats) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& [idx, v] : c) {
    if (idx.size() != 1 || !valid_index(idx[0])) {
      stats.skip(std::string(table) + ".bad_index");
      continue;
    }
    auto x = as_unsigned(v);
    if (!x || *x == 0 || *x > kMaxIndex) {
      stats.skip(std::string(table) + ".bad_value");
      continue;
    }
    out[idx[0]] = static_cast<uint32_t>(*x);
  }
  return out;
}

std::map<uint32_t, uint32_t> decode_base_port_if_index(const Column& c, DecodeStats& stats) {
  return decode_index_map(c, "dot1dBasePortTable", stats);
}

namespace {
std::vector<FdbRow> decode_fdb(const Column& port, const Column& status, size_t prefix,
                               const char* table, DecodeStats& stats) {
  std::vector<FdbRow> out;
  for (const auto& [idx, v] : port) {
    if (idx.size() != prefix + 6) {
      stats.skip(std::string(table) + ".bad_index");
      continue;
    }
    auto mac = index_bytes(idx, prefix, 6);
    if (!mac) {
      stats.skip(std::string(table) + ".bad_index");
      continue;
    }
    auto p = as_unsigned(v);
    if (!p || *p > kMaxIndex) {
      stats.skip(std::string(table) + ".bad_port");
      continue;
    }
    FdbRow r;
    r.mac = hex_colon(*mac);
    if (prefix == 1) r.fdb_id = idx[0];
    r.port = static_cast<uint32_t>(*p);
    auto st = status.find(idx);
    if (st != status.end()) {
      if (auto s = as_integer(st->second))
        r.status = *s;
      else
        stats.skip(std::string(table) + ".bad_status");
    }
    out.push_back(std::move(r));
  }
  return out;
}
}  // namespace

std::vector<FdbRow> decode_dot1d_fdb(const Column& port, const Column& status, DecodeStats& stats) {
  return decode_fdb(port, status, 0, "dot1dTpFdbTable", stats);
}

std::vector<FdbRow> decode_dot1q_fdb(const Column& port, const Column& status, DecodeStats& stats) {
  return decode_fdb(port, status, 1, "dot1qTpFdbTable", stats);
}

std::map<uint32_t, uint32_t> decode_vlan_fdb_ids(const Column& c, DecodeStats& stats) {
  std::map<uint32_t, uint32_t> out;
  for (const auto& [idx, v] : c) {
    if (idx.size() != 2 || idx[1] < 1 || idx[1] > 4094) {
      stats.skip("dot1qVlanCurrentTable.bad_index");
      continue;
    }
    auto x = as_unsigned(v);
    if (!x || *x > 0xffffffffULL) {
      stats.skip("dot1qVlanFdbId.bad_value");
      continue;
    }
    out[idx[1]] = static_cast<uint32_t>(*x);
  }
  return out;
}

// ---------------------------------------------------------------- IP-MIB

namespace {
// The part both ARP tables share: MAC value check, then the row with its optional type.
void add_arp_row(const Oid& idx, const std::string& ip, const Value& v, const Column& type,
                 const char* bad_mac_reason, DecodeStats& stats, std::vector<ArpRow>& out) {
  auto b = as_bytes(v);
  auto mac = b ? format_mac(*b) : std::nullopt;
  if (!mac) {
    stats.skip(bad_mac_reason);
    return;
  }
  ArpRow r{idx[0], *format_ip(ip), *mac, std::nullopt};
  auto t = type.find(idx);
  if (t != type.end()) r.type = as_integer(t->second);
  out.push_back(std::move(r));
}
}  // namespace

std::vector<ArpRow> decode_ip_net_to_media(const Column& phys, const Column& type,
                                           DecodeStats& stats) {
  std::vector<ArpRow> out;
  for (const auto& [idx, v] : phys) {
    auto ip = idx.size() == 5 ? index_bytes(idx, 1, 4) : std::nullopt;
    if (!ip || !valid_index(idx[0])) {
      stats.skip("ipNetToMediaTable.bad_index");
      continue;
    }
    add_arp_row(idx, *ip, v, type, "ipNetToMediaPhysAddress.bad_value", stats, out);
  }
  return out;
}

std::vector<ArpRow> decode_ip_net_to_physical(const Column& phys, const Column& type,
                                              DecodeStats& stats) {
  std::vector<ArpRow> out;
  for (const auto& [idx, v] : phys) {
    // ifIndex.addressType.length.address
    if (idx.size() < 3 || !valid_index(idx[0]) || idx[2] != idx.size() - 3 ||
        !(idx[2] == 4 || idx[2] == 16)) {
      stats.skip("ipNetToPhysicalTable.bad_index");
      continue;
    }
    auto ip = index_bytes(idx, 3, idx[2]);
    if (!ip) {
      stats.skip("ipNetToPhysicalTable.bad_index");
      continue;
    }
    add_arp_row(idx, *ip, v, type, "ipNetToPhysicalPhysAddress.bad_value", stats, out);
  }
  return out;
}

std::vector<std::string> decode_ip_ad_ent_addr(const Column& c, DecodeStats& stats) {
  std::vector<std::string> out;
  for (const auto& [idx, v] : c) {
    auto from_index = index_bytes(idx, 0, 4);
    if (idx.size() != 4 || !from_index) {
      stats.skip("ipAddrTable.bad_index");
      continue;
    }
    if (v.type != ValueType::kIpAddress || v.bytes.size() != 4) {
      stats.skip("ipAddrTable.bad_value");
      continue;
    }
    if (auto ip = format_ip(v.bytes)) out.push_back(*ip);
  }
  return out;
}

}  // namespace cg::snmp::mibs

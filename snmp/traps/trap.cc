#include "snmp/traps/trap.h"

#include "snmp/mibs/rows.h"

namespace cg::snmp {
namespace {

using nlohmann::json;

const Oid kSysUpTime{1, 3, 6, 1, 2, 1, 1, 3, 0};
const Oid kSnmpTrapOid{1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0};
const Oid kSnmpTraps{1, 3, 6, 1, 6, 3, 1, 1, 5};  // .1 coldStart .. .5 authenticationFailure
const Oid kLldpRemTablesChange{1, 0, 8802, 1, 1, 2, 0, 0, 1};
const Oid kLldpStatsRemTables{1, 0, 8802, 1,
                              1, 2, 1,    2};   // .2 inserts .3 deletes .4 drops .5 ageouts
const Oid kIfEntry{1, 3, 6, 1, 2, 1, 2, 2, 1};  // .1 ifIndex .2 ifDescr .7 admin .8 oper
const Oid kIfName{1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1};

const char* kOper[] = {"up",      "down",       "testing",       "unknown",
                       "dormant", "notPresent", "lowerLayerDown"};

json value_json(const Value& v) {
  switch (v.type) {
    case ValueType::kInteger:
      return v.integer;
    case ValueType::kCounter32:
    case ValueType::kGauge32:
    case ValueType::kTimeTicks:
    case ValueType::kCounter64:
      return v.unsigned_;
    case ValueType::kOctetString:
    case ValueType::kOpaque:
      return mibs::display_string(v.bytes);
    case ValueType::kIpAddress: {
      auto ip = mibs::format_ip(v.bytes);
      return ip ? json(*ip) : json(mibs::display_string(v.bytes));
    }
    case ValueType::kOid:
      return format_oid(v.oid);
    default:
      return nullptr;
  }
}

}  // namespace

Result<TopologyEvent> trap_to_event(const TrapMessage& trap, int64_t now) {
  const Oid* trap_oid = nullptr;
  std::optional<uint64_t> uptime;
  for (const VarBind& vb : trap.varbinds) {
    if (vb.oid == kSnmpTrapOid && vb.value.type == ValueType::kOid && !trap_oid)
      trap_oid = &vb.value.oid;
    if (vb.oid == kSysUpTime && vb.value.type == ValueType::kTimeTicks) uptime = vb.value.unsigned_;
  }
  if (!trap_oid) return Status(ErrorCode::kProtocol, "notification without snmpTrapOID.0");
  TopologyEvent e;
  e.time = now;
  json& d = e.detail;
  d["source"] = trap.source;
  d["version"] = trap.version;
  if (!trap.security_name.empty()) d["user"] = mibs::display_string(trap.security_name);
  d["inform"] = trap.inform;
  d["trap_oid"] = format_oid(*trap_oid);
  d["uptime_ticks"] = uptime ? json(*uptime) : json(nullptr);

  const Oid& t = *trap_oid;
  bool standard = t.size() == kSnmpTraps.size() + 1 && oid_starts_with(t, kSnmpTraps);
  uint32_t which = standard ? t.back() : 0;
  if (which == 3 || which == 4) {
    e.type = which == 3 ? "link_down" : "link_up";
    d["detected_by"] = "trap";
    for (const VarBind& vb : trap.varbinds) {
      if (oid_starts_with(vb.oid, kIfEntry) && vb.oid.size() == kIfEntry.size() + 2) {
        uint32_t col = vb.oid[kIfEntry.size()];
        uint32_t idx = vb.oid.back();
        if (idx == 0 || idx > 2147483647u) continue;
        d["if_index"] = idx;
        auto i = mibs::as_integer(vb.value);
        if (col == 2 && vb.value.type == ValueType::kOctetString)
          d["if_descr"] = mibs::display_string(vb.value.bytes);
        if ((col == 7 || col == 8) && i && *i >= 1 && *i <= 7)
          d[col == 7 ? "admin_status" : "oper_status"] = kOper[*i - 1];
      } else if (oid_starts_with(vb.oid, kIfName) && vb.oid.size() == kIfName.size() + 1 &&
                 vb.value.type == ValueType::kOctetString) {
        d["if_name"] = mibs::display_string(vb.value.bytes);
      }
    }
  } else if (which == 1 || which == 2) {
    e.type = which == 1 ? "cold_start" : "warm_start";
  } else if (which == 5) {
    e.type = "authentication_failure";
  } else if (t == kLldpRemTablesChange) {
    e.type = "lldp_remote_change";
    const char* names[] = {"inserts", "deletes", "drops", "ageouts"};
    for (const VarBind& vb : trap.varbinds) {
      if (vb.oid.size() != kLldpStatsRemTables.size() + 2 ||
          !oid_starts_with(vb.oid, kLldpStatsRemTables) || vb.oid.back() != 0)
        continue;
      uint32_t col = vb.oid[kLldpStatsRemTables.size()];
      auto v = mibs::as_unsigned(vb.value);
      if (col >= 2 && col <= 5 && v) d[names[col - 2]] = *v;
    }
  } else {
    e.type = "trap";
  }
  if (e.type == "trap" || e.type == "cold_start" || e.type == "warm_start" ||
      e.type == "authentication_failure") {
    json vbs = json::array();
    for (const VarBind& vb : trap.varbinds) {
      if (vb.oid == kSysUpTime || vb.oid == kSnmpTrapOid) continue;
      vbs.push_back({{"oid", format_oid(vb.oid)},
                     {"type", value_type_name(vb.value.type)},
                     {"value", value_json(vb.value)}});
    }
    d["varbinds"] = vbs;
  }
  return e;
}

}  // namespace cg::snmp

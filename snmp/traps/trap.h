// Notifications (SNMPv2c / v3 traps and informs) as events. trap_to_event is a pure function
// over the received varbinds (agent data: never trusted, fuzzed); TrapReceiver (receiver.h) is
// the net-snmp listener that feeds it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "snmp/session/status.h"
#include "snmp/session/types.h"
#include "snmp/topology/model.h"

namespace cg::snmp {

struct TrapMessage {
  std::string source;         // sender address (IP text), "" if unknown
  std::string version;        // "v2c" or "v3"
  std::string security_name;  // v3 user; empty for v2c (the community is a secret: not kept)
  bool inform = false;
  std::vector<VarBind> varbinds;  // as received: sysUpTime.0, snmpTrapOID.0, then the objects
};

// Event types: link_down / link_up (detected_by "trap", if_index, if_name / admin / oper status
// when present), cold_start, warm_start, authentication_failure, lldp_remote_change (inserts,
// deletes, drops, ageouts when present), else "trap" with the trap OID and the varbinds.
// Every event has source, version, user (v3), inform, trap_oid, uptime_ticks. Fails (kProtocol)
// when snmpTrapOID.0 is missing or not an OID (RFC 3416: it must be the second varbind; any
// position is accepted).
Result<TopologyEvent> trap_to_event(const TrapMessage& trap, int64_t now);

}  // namespace cg::snmp

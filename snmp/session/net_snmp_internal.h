// For snmp/ modules that drive net-snmp directly (the trap receiver): the library set-up and the
// process-wide lock that net_snmp_session.cc uses (see the session README for the locking
// rules), and the varbind conversion. Not for users of the SnmpSession seam.
#pragma once

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>

#include <shared_mutex>

#include "snmp/session/types.h"

namespace cg::snmp::detail {

void init_library_once();
std::shared_mutex& library_mutex();
Value convert_value(const netsnmp_variable_list* v);

}  // namespace cg::snmp::detail

# cgctl topology (cmd_topology.cc) links the SNMP discovery library.
list(APPEND CGCTL_DEPS cg_snmp_discovery)

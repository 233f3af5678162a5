# cgctl topology / compliance (cmd_topology.cc, cmd_compliance.cc) link the SNMP libraries.
list(APPEND CGCTL_DEPS cg_snmp_discovery cg_snmp_topology cg_snmp_poller cg_snmp_traps)

# Area: SNMP (snmp/*). cg::netsnmp (the client library) lives in cmake/CgDeps.cmake; this file
# adds net-snmp's agent library for the AgentX subagent cg-agentx (snmp/agentx).
if(NOT TARGET cg::netsnmpagent)
  pkg_check_modules(CG_NETSNMPAGENT REQUIRED IMPORTED_TARGET netsnmp-agent)
  add_library(cg::netsnmpagent ALIAS PkgConfig::CG_NETSNMPAGENT)
endif()

// Fuzzes the MIB row decoders and discovery's cross-table mapping with agent data it must not
// trust. The input is snmpsim .snmprec text (OID|TYPE|VALUE lines, 'x' types hex-encoded, so any
// byte string can be a value); it is served by FakeSession and the full discovery runs on it,
// then the JSON document is rendered (which throws on invalid UTF-8, so that is checked too).
// The result also goes through the topology model (devices, links, hosts) and its JSON form,
// which must read back to the same document.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "snmp/discovery/discovery.h"
#include "snmp/mibs/rows.h"
#include "snmp/session/fake_session.h"
#include "snmp/topology/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cg::snmp::FakeSession session(cg::snmp::parse_snmprec(text, nullptr));
  auto result = cg::snmp::discover_device(session);
  if (!result.ok()) return 0;
  try {
    std::string json = cg::snmp::to_json(*result).dump();
    std::string txt = cg::snmp::to_text(*result);
    (void)json;
    (void)txt;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "to_json threw: %s\n", e.what());
    std::abort();
  }
  // Decoder-level invariants.
  for (const auto& i : result->interfaces) {
    if (i.index == 0 || i.name.empty()) std::abort();
  }
  for (const auto& f : result->fdb) {
    if (f.mac.size() != 17) std::abort();
    if (f.vlan && (*f.vlan < 1 || *f.vlan > 4094)) std::abort();
  }
  // The same agent data as a one-device crawl (plus a second copy of it under another address,
  // so cross-device link matching runs on hostile names / chassis ids / ports).
  cg::snmp::CrawlResult crawl;
  crawl.devices.push_back({"192.0.2.1", "seed", *result, std::nullopt, std::nullopt});
  cg::snmp::DeviceDiscovery twin = *result;
  if (twin.system.name) *twin.system.name += "-twin";
  crawl.devices.push_back({"192.0.2.2", "seed", twin, std::nullopt, std::nullopt});
  cg::snmp::Topology t = cg::snmp::build_topology(crawl, 1);
  try {
    nlohmann::json j = cg::snmp::to_json(t);
    std::string dumped = j.dump();
    auto back = cg::snmp::topology_from_json(nlohmann::json::parse(dumped));
    if (!back.ok() || cg::snmp::to_json(*back) != j) {
      std::fprintf(stderr, "topology JSON does not round-trip\n");
      std::abort();
    }
    (void)cg::snmp::to_text(t);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "topology JSON threw: %s\n", e.what());
    std::abort();
  }
  for (const auto& h : t.hosts) {
    if (!t.device(h.device)) std::abort();
  }
  return 0;
}

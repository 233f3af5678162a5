// Fuzzes the trap -> event decoder with notification varbinds a sender must not be trusted with.
// Input: .snmprec text (OID|TYPE|VALUE lines, 'x' types hex-encoded), taken as the varbind list
// in OID order; the first byte of the input chooses v2c / v3 and trap / inform. The event must
// render to valid JSON (dump throws on invalid UTF-8).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "snmp/session/fake_session.h"
#include "snmp/traps/trap.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  cg::snmp::TrapMessage m;
  uint8_t mode = size ? data[0] : 0;
  m.version = (mode & 1) ? "v3" : "v2c";
  m.inform = (mode & 2) != 0;
  if (mode & 1) m.security_name = std::string(text.substr(0, std::min<size_t>(size, 8)));
  for (auto& [oid, value] : cg::snmp::parse_snmprec(text, nullptr))
    m.varbinds.push_back({oid, value});
  auto e = cg::snmp::trap_to_event(m, 1);
  if (!e.ok()) return 0;
  try {
    std::string json = e->to_json().dump();
    (void)json;
  } catch (const std::exception& ex) {
    std::fprintf(stderr, "event JSON threw: %s\n", ex.what());
    std::abort();
  }
  if (e->type.empty()) std::abort();
  return 0;
}

// Fuzzes cg-agentx's mappers of dataplane replies (stats, health, policy.status, qos) and of
// event stream lines, then builds the MIB view from whatever was mapped. Input: the first byte
// picks the mapper, the rest is the reply line. Nothing may throw or crash, and the view must be
// strictly ordered (GETNEXT depends on it).
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "snmp/agentx/mib_view.h"
#include "snmp/agentx/snapshot.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view line(reinterpret_cast<const char*>(data + 1), size - 1);
  cg::agentx::Snapshot s;
  s.status = cg::agentx::SourceStatus::kOk;
  std::string err;
  const uint8_t which = data[0] % 5;
  if (which == 4) {
    cg::agentx::count_event_line(line, &s.events);
  } else {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return 0;
    switch (which) {
      case 0:
        cg::agentx::map_stats(j, &s.dp, &err);
        break;
      case 1:
        cg::agentx::map_health(j, &s.dp, &err);
        break;
      case 2:
        cg::agentx::map_policy_status(j, &s.dp, &err);
        break;
      default:
        cg::agentx::map_qos(j, &s.dp, &err);
        break;
    }
  }
  auto view = cg::agentx::build_view(cg::agentx::mib_root(cg::agentx::kDefaultEnterprise), s);
  const auto& rows = view.rows();
  for (size_t i = 1; i < rows.size(); ++i)
    if (!(rows[i - 1].first < rows[i].first)) std::abort();
  return 0;
}

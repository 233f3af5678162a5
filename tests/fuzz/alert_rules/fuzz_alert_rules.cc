// Alert rule files are written by people (and uploaded through the REST API): the loader must
// report every malformed input as diagnostics, never crash or hang. Inputs that load are run
// through the engine with a few events so matchers, keys and templates see fuzzed values; any
// input that parses as JSON is also offered to the silence parser (REST body of a silence).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "controlplane/alerting/engine.h"
#include "controlplane/alerting/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cg::alerting;
  if (size > 64 * 1024) return 0;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadResult r = load_config(text, "fuzz.yaml");
  for (const auto& d : r.errors) (void)format_diagnostic(d);
  if (r.ok()) {
    Engine e(r.config, EngineLimits{64, 64});
    nlohmann::json ev = {{"event_type", "alert"},
                         {"src_ip", "10.1.2.3"},
                         {"dest_ip", "fd00::1"},
                         {"vlan", {120, 30}},
                         {"school_id", "s-1"},
                         {"src_port", 1234},
                         {"alert", {{"signature", "port-scan"}, {"severity", 2}}}};
    TimePoint t = from_ms(1'800'000'000'000);
    for (int i = 0; i < 4; ++i) {
      auto out = e.ingest(ev, t + Millis(i * 1000));
      for (const auto& a : out.raised) (void)alert_to_json(a);
    }
    (void)e.silences(t);
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_discarded()) {
    std::string err;
    if (auto s = silence_from_json(j, err)) (void)silence_to_json(*s);
  }
  return 0;
}

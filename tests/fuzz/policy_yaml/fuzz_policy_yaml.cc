// fuzz_policy_yaml: arbitrary bytes through the policy loader, semantic checks and compiler.
// Invariants checked (abort = finding): no crash/UB/leak; an image exists iff there is no error;
// every diagnostic formats; a compiled image's schedules evaluate at a few instants without
// touching out-of-range data.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "policies/compiler/policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;  // policies are small; keep iterations fast
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  cg::policy::CompileResult r = cg::policy::compile_policy(text, "fuzz.yaml");
  for (const auto& d : r.diagnostics) {
    if (cg::policy::format_diagnostic(d).empty()) std::abort();
    if (d.line < 0 || d.col < 0) std::abort();
  }
  if (r.ok() != static_cast<bool>(r.image)) std::abort();
  if (r.image) {
    const auto& im = *r.image;
    for (int64_t t : {int64_t{0}, int64_t{1798761600}, int64_t{4102444799}, int64_t{-86400}}) {
      (void)cg::api::active_schedule_mask(im, t);
      for (size_t i = 0; i < im.schedules.size(); ++i)
        (void)cg::api::schedule_active(im, static_cast<uint16_t>(i), t);
    }
    for (const auto& rule : im.rules) {
      if (rule.schedule != cg::api::kNoSchedule && rule.schedule >= im.schedules.size())
        std::abort();
      for (uint16_t z : rule.from_zones)
        if (z >= im.zones.size()) std::abort();
      for (uint16_t a : rule.apps)
        if (a >= im.apps.size()) std::abort();
    }
    (void)cg::policy::image_summary_json(im);
  }
  return 0;
}

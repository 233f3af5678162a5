// The real policy compiler as the PolicyLoader's injected compiler: what cg-dataplane's main
// passes (RunOptions::compile), and what the loader tests use. Header-only so the runtime
// itself does not depend on the YAML compiler.
#pragma once

#include <string>

#include "dataplane/runtime/policy_loader.h"
#include "policies/compiler/policy.h"

namespace cg::runtime {

inline CompiledPolicy compile_for_loader(const std::string& source, const std::string& origin) {
  auto r = policy::compile_policy(source, origin);
  CompiledPolicy out;
  for (const auto& d : r.diagnostics) out.diagnostics.push_back(policy::format_diagnostic(d));
  if (r.ok()) out.image = r.image;
  return out;
}

}  // namespace cg::runtime

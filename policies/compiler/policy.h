// Public API of the policy compiler: school policy YAML -> diagnostics + immutable PolicyImage.
//
// Used by cg-controld (policy apply), cgctl (policy validate / compile, offline) and the
// dataplane's --replay mode. Nothing here throws: yaml-cpp / filesystem exceptions are caught at
// this boundary and become diagnostics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/api/policy_image.h"

namespace cg::policy {

enum class DiagSeverity { kError, kWarning };

// One finding. `line`/`col` are 1-based (0 when the problem has no position, e.g. a missing
// file); `path` is the YAML path (`rules[2].app`, `zones.classrooms.vlans[0]`), "" for the root.
struct Diagnostic {
  DiagSeverity severity = DiagSeverity::kError;
  std::string file;
  int line = 0;
  int col = 0;
  std::string path;
  std::string message;
};

struct CompileOptions {
  uint64_t generation = 1;
  // Where TZif files live; empty = $TZDIR if set, else /usr/share/zoneinfo.
  std::string zoneinfo_dir;
  // UTC offsets are precomputed up to the start of this year (exclusive).
  int tz_last_year = 2100;
};

struct CompileResult {
  std::vector<Diagnostic> diagnostics;            // in source order, errors and warnings
  std::shared_ptr<const api::PolicyImage> image;  // set only when there is no error

  int error_count() const;
  int warning_count() const;
  bool ok() const { return error_count() == 0; }
};

// Validates and compiles one policy document. `file_name` is only used in diagnostics.
CompileResult compile_policy(std::string_view yaml_text, std::string_view file_name,
                             const CompileOptions& options = {});

// Same, reading the file first (an unreadable file is one error diagnostic).
CompileResult compile_policy_file(const std::string& path, const CompileOptions& options = {});

// `FILE:LINE:COL: error: PATH: message` (the `LINE:COL:` and `PATH: ` parts only when known).
std::string format_diagnostic(const Diagnostic& d);

// The JSON Schema (draft 2020-12) of the policy language, generated from the key declarations
// that also drive the loader. policies/schema/policy.schema.json is this text, checked in.
std::string policy_json_schema_text();

// JSON renderings for cgctl -o json.
std::string diagnostics_json(const std::vector<std::pair<std::string, CompileResult>>& files);
std::string image_summary_json(const api::PolicyImage& image);

// FNV-1a 64 of a text (PolicyImage::source_digest).
uint64_t fnv1a64(std::string_view text);

}  // namespace cg::policy

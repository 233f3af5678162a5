// The policy language's keys, declared once. Each declaration (type, range / enum / pattern,
// default, help) drives three things: the structural check of the YAML (spec.cc), the JSON Schema
// (policy_json_schema_text) and the reference docs' tables. Semantic checks (names, overlaps,
// shadowing, calendars) live in compiler.cc and read values through these declarations.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "policies/compiler/policy.h"

namespace cg::policy {

enum class SpecType {
  kString,    // any scalar that YAML would not read as a number, boolean or null
  kInteger,   // plain integer scalar within [min, max]
  kBoolean,   // true / false
  kObject,    // mapping with declared keys only
  kMap,       // mapping from user-chosen names (key_pattern) to `item`
  kList,      // sequence of `item`
  kOneOrList  // a single `item` or a sequence of them
};

struct Spec;

struct Field {
  std::string key;
  bool required = false;
  const Spec* spec = nullptr;
};

struct Spec {
  SpecType type = SpecType::kString;
  std::string help;
  std::vector<std::string> enum_values;  // kString: allowed values
  std::string pattern;                   // kString: ECMAScript regex, whole value
  std::string format_help;               // kString: what the pattern means, for messages
  int64_t min = INT64_MIN;               // kInteger
  int64_t max = INT64_MAX;
  std::optional<std::string> default_json;  // default as a JSON literal, for docs/schema
  std::vector<Field> fields;                // kObject
  std::string key_pattern;                  // kMap
  std::string key_help;
  const Spec* item = nullptr;       // kMap / kList / kOneOrList
  std::vector<const Spec*> any_of;  // scalar alternatives (e.g. integer or "lo-hi")
  size_t min_items = 0;             // kList / kOneOrList / kMap
};

// The root of the policy document.
const Spec& policy_spec();
// A field's declaration by dotted path below the root, e.g. "inspection.max-packets".
const Spec& spec_at(const std::string& dotted);

// Structural check of `node` against `spec`; appends errors (file set by the caller).
void check_structure(const YAML::Node& node, const Spec& spec, const std::string& path,
                     std::vector<Diagnostic>& out);

// Joins a YAML path: ("rules[2]", "app") -> "rules[2].app"; ("", "zones") -> "zones".
std::string path_join(const std::string& base, const std::string& key);
std::string path_index(const std::string& base, size_t i);

// YAML scalar classification shared with the compiler: a plain (unquoted) scalar that YAML 1.2's
// core schema reads as an integer, a float, a boolean or null. plain_non_string_text is the test
// on the text alone.
bool is_plain_non_string(const YAML::Node& scalar);
bool plain_non_string_text(std::string_view text);

// A diagnostic positioned at `node` (1-based line/col from yaml-cpp's 0-based Mark).
Diagnostic diag_at(const YAML::Node& node, const std::string& path, std::string message,
                   DiagSeverity severity = DiagSeverity::kError);

}  // namespace cg::policy

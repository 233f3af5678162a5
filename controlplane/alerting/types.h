// Shared vocabulary of the alerting library: severities, time points, durations, diagnostics
// and event-field access. The clock is controlplane/common's cp::Clock. Nothing here throws.
#pragma once

#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cg::alerting {

using TimePoint = std::chrono::system_clock::time_point;
using Millis = std::chrono::milliseconds;

int64_t to_ms(TimePoint t);
TimePoint from_ms(int64_t ms);
TimePoint from_us(int64_t us);
// RFC 3339 UTC with milliseconds: 2026-11-29T23:55:00.123Z
std::string format_rfc3339(TimePoint t);
// Accepts RFC 3339 with 'Z' or a numeric offset, fractional seconds optional.
std::optional<TimePoint> parse_rfc3339(std::string_view s);
// "30s", "5m", "2h", "7d", "250ms" or a bare integer (seconds). Rejects 0 and negatives.
std::optional<Millis> parse_duration(std::string_view s);

// Alert severities, ordered. Names are the config and wire spelling.
enum class Severity { kInfo = 0, kLow = 1, kMedium = 2, kHigh = 3, kCritical = 4 };
std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view s);
// Event `alert.severity` (dataplane/api/event.schema.json: 1 critical .. 5 info) to a severity.
Severity severity_from_eve(int64_t eve);

// A config or input problem. line/col are 1-based, 0 when unknown; path is the YAML path.
struct Diagnostic {
  std::string file;
  int line = 0;
  int col = 0;
  std::string path;
  std::string message;
};
// `FILE:LINE:COL: error: PATH: message`
std::string format_diagnostic(const Diagnostic& d);

// Event field by dotted path ("alert.signature"); a literal key containing dots wins if present.
const nlohmann::json* field_at(const nlohmann::json& event, std::string_view path);
// A field rendered for keys and messages: strings as-is, integers in decimal, booleans as
// true/false, other numbers as JSON, arrays of scalars (vlan: [120, 30]) joined with ',';
// nullopt for objects, null and missing fields.
std::optional<std::string> field_text(const nlohmann::json& event, std::string_view path);
// The scalar values of a field for matching: one for a scalar, each element for an array.
std::vector<std::string> field_values(const nlohmann::json& event, std::string_view path);

}  // namespace cg::alerting

// Helpers shared by the policy tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "policies/compiler/policy.h"
#include "policies/compiler/tzif.h"

namespace cg::policy::testing {

inline std::string source_dir() {
  const char* s = std::getenv("CG_SOURCE_DIR");
  return s ? s : ".";
}

// Errors of a result as "LINE:COL: PATH: message" lines (for readable failures).
inline std::string dump(const CompileResult& r) {
  std::string s;
  for (const auto& d : r.diagnostics) s += format_diagnostic(d) + "\n";
  return s;
}

inline bool has_diag(const CompileResult& r, int line, int col, const std::string& needle,
                     DiagSeverity sev = DiagSeverity::kError) {
  for (const auto& d : r.diagnostics)
    if (d.severity == sev && d.line == line && d.col == col &&
        (d.path + ": " + d.message).find(needle) != std::string::npos)
      return true;
  return false;
}

// 1-based line and character column of the first occurrence of `token` in `text`, computed
// from the text itself so tests do not depend on the implementation's position arithmetic.
struct Pos {
  int line = 0, col = 0;
};
inline Pos at(const std::string& text, const std::string& token) {
  const size_t off = text.find(token);
  EXPECT_NE(off, std::string::npos) << token;
  if (off == std::string::npos) return {};
  Pos p{1, 1};
  for (size_t i = 0; i < off; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.col = 1;
    } else if ((static_cast<unsigned char>(text[i]) & 0xc0) != 0x80) {
      ++p.col;
    }
  }
  return p;
}
// Position just after `prefix` (ASCII), e.g. the value of a key.
inline Pos at_after(const std::string& text, const std::string& prefix) {
  Pos p = at(text, prefix);
  p.col += static_cast<int>(prefix.size());
  return p;
}
inline bool has_diag(const CompileResult& r, Pos p, const std::string& needle,
                     DiagSeverity sev = DiagSeverity::kError) {
  return has_diag(r, p.line, p.col, needle, sev);
}
inline std::string line_no(const std::string& text, const std::string& token) {
  return std::to_string(at(text, token).line);
}

inline bool has_message(const CompileResult& r, const std::string& needle) {
  for (const auto& d : r.diagnostics)
    if (d.message.find(needle) != std::string::npos) return true;
  return false;
}

// Seconds since the epoch for a UTC civil time.
inline int64_t utc(int y, unsigned mo, unsigned d, int h, int mi, int s = 0) {
  return days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

// A minimal valid policy header; tests append zones/schedules/apps/rules.
inline std::string header(const std::string& tz = "Asia/Shanghai") {
  return "apiVersion: campusguard/v1\nschool: { id: t-1, name: Test School, timezone: " + tz +
         " }\n";
}

}  // namespace cg::policy::testing

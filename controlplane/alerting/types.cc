#include "controlplane/alerting/types.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <ctime>

namespace cg::alerting {

int64_t to_ms(TimePoint t) {
  return std::chrono::duration_cast<Millis>(t.time_since_epoch()).count();
}

TimePoint from_ms(int64_t ms) {
  return TimePoint(Millis(ms));
}

TimePoint from_us(int64_t us) {
  return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::microseconds(us)));
}

std::string format_rfc3339(TimePoint t) {
  int64_t ms = to_ms(t);
  time_t secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int frac = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
  return buf;
}

namespace {

bool read_int(std::string_view s, size_t& pos, size_t digits, int& out) {
  if (pos + digits > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < digits; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  pos += digits;
  out = v;
  return true;
}

bool expect(std::string_view s, size_t& pos, char c) {
  if (pos >= s.size() || (s[pos] != c && !(c == 'T' && (s[pos] == 't' || s[pos] == ' '))))
    return false;
  ++pos;
  return true;
}

}  // namespace

std::optional<TimePoint> parse_rfc3339(std::string_view s) {
  size_t p = 0;
  int y, mo, d, h, mi, se;
  if (!read_int(s, p, 4, y) || !expect(s, p, '-') || !read_int(s, p, 2, mo) || !expect(s, p, '-') ||
      !read_int(s, p, 2, d) || !expect(s, p, 'T') || !read_int(s, p, 2, h) || !expect(s, p, ':') ||
      !read_int(s, p, 2, mi) || !expect(s, p, ':') || !read_int(s, p, 2, se))
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
  int64_t ms = 0;
  if (p < s.size() && s[p] == '.') {
    ++p;
    int64_t scale = 100;
    size_t start = p;
    while (p < s.size() && std::isdigit(static_cast<unsigned char>(s[p]))) {
      ms += (s[p] - '0') * scale;
      scale /= 10;
      ++p;
    }
    if (p == start) return std::nullopt;
  }
  int64_t offset_min = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z')) {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '-' ? -1 : 1;
    ++p;
    int oh, om;
    if (!read_int(s, p, 2, oh) || !expect(s, p, ':') || !read_int(s, p, 2, om)) return std::nullopt;
    if (oh > 23 || om > 59) return std::nullopt;
    offset_min = sign * (oh * 60 + om);
  } else {
    return std::nullopt;
  }
  if (p != s.size()) return std::nullopt;
  struct tm tm {};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  time_t secs = timegm(&tm);
  return from_ms((static_cast<int64_t>(secs) - offset_min * 60) * 1000 + ms);
}

std::optional<Millis> parse_duration(std::string_view s) {
  if (s.empty() || s.size() > 24) return std::nullopt;
  size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
  if (n == 0 || n > 12) return std::nullopt;
  int64_t v = 0;
  std::from_chars(s.data(), s.data() + n, v);
  std::string_view unit = s.substr(n);
  int64_t mult;
  if (unit.empty() || unit == "s")
    mult = 1000;
  else if (unit == "ms")
    mult = 1;
  else if (unit == "m")
    mult = 60'000;
  else if (unit == "h")
    mult = 3'600'000;
  else if (unit == "d")
    mult = 86'400'000;
  else
    return std::nullopt;
  if (v <= 0) return std::nullopt;
  return Millis(v * mult);
}

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::kInfo:
      return "info";
    case Severity::kLow:
      return "low";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "info";
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (auto v :
       {Severity::kInfo, Severity::kLow, Severity::kMedium, Severity::kHigh, Severity::kCritical})
    if (severity_name(v) == s) return v;
  return std::nullopt;
}

Severity severity_from_eve(int64_t eve) {
  if (eve <= 1) return Severity::kCritical;
  if (eve == 2) return Severity::kHigh;
  if (eve == 3) return Severity::kMedium;
  if (eve == 4) return Severity::kLow;
  return Severity::kInfo;
}

std::string format_diagnostic(const Diagnostic& d) {
  std::string out = d.file.empty() ? std::string("<input>") : d.file;
  if (d.line > 0) out += ":" + std::to_string(d.line) + ":" + std::to_string(d.col);
  out += ": error: ";
  if (!d.path.empty()) out += d.path + ": ";
  out += d.message;
  return out;
}

const nlohmann::json* field_at(const nlohmann::json& event, std::string_view path) {
  if (!event.is_object()) return nullptr;
  auto lit = event.find(std::string(path));
  if (lit != event.end()) return &*lit;
  const nlohmann::json* cur = &event;
  size_t start = 0;
  while (start <= path.size()) {
    size_t dot = path.find('.', start);
    std::string key(path.substr(start, dot == std::string_view::npos ? path.npos : dot - start));
    if (!cur->is_object()) return nullptr;
    auto it = cur->find(key);
    if (it == cur->end()) return nullptr;
    cur = &*it;
    if (dot == std::string_view::npos) return cur;
    start = dot + 1;
  }
  return nullptr;
}

namespace {
std::optional<std::string> scalar_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_float()) return v.dump();
  return std::nullopt;
}
}  // namespace

std::optional<std::string> field_text(const nlohmann::json& event, std::string_view path) {
  const nlohmann::json* v = field_at(event, path);
  if (v == nullptr) return std::nullopt;
  if (!v->is_array()) return scalar_text(*v);
  std::string out;
  for (const auto& e : *v) {
    auto t = scalar_text(e);
    if (!t) return std::nullopt;
    out += (out.empty() ? "" : ",") + *t;
  }
  return v->empty() ? std::nullopt : std::optional<std::string>(out);
}

std::vector<std::string> field_values(const nlohmann::json& event, std::string_view path) {
  std::vector<std::string> out;
  const nlohmann::json* v = field_at(event, path);
  if (v == nullptr) return out;
  if (!v->is_array()) {
    if (auto t = scalar_text(*v)) out.push_back(*t);
    return out;
  }
  for (const auto& e : *v)
    if (auto t = scalar_text(e)) out.push_back(*t);
  return out;
}

}  // namespace cg::alerting

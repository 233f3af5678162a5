#include "policies/compiler/tzif.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace cg::policy {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

namespace {
bool is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}
unsigned days_in_month(int64_t y, unsigned m) {
  static const unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : k[m - 1];
}
}  // namespace

bool valid_civil_date(int64_t y, unsigned m, unsigned d) {
  return y >= 1970 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

namespace {

struct Reader {
  std::string_view b;
  size_t pos = 0;
  bool ok = true;
  bool need(size_t n) {
    if (pos + n > b.size()) ok = false;
    return ok;
  }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = v << 8 | static_cast<uint8_t>(b[pos++]);
    return v;
  }
  int64_t i64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<uint8_t>(b[pos++]);
    return static_cast<int64_t>(v);
  }
  uint8_t u8() {
    if (!need(1)) return 0;
    return static_cast<uint8_t>(b[pos++]);
  }
  void skip(size_t n) {
    if (need(n)) pos += n;
  }
};

struct Counts {
  uint32_t isut, isstd, leap, time, type, chr;
};

Counts read_header(Reader& r, char& version) {
  Counts c{};
  if (!r.need(20) || r.b.substr(r.pos, 4) != "TZif") {
    r.ok = false;
    return c;
  }
  version = r.b[r.pos + 4];
  r.pos += 20;
  c.isut = r.u32();
  c.isstd = r.u32();
  c.leap = r.u32();
  c.time = r.u32();
  c.type = r.u32();
  c.chr = r.u32();
  return c;
}

// ---- POSIX TZ string (the TZif footer), e.g. "CET-1CEST,M3.5.0,M10.5.0/3" ----

struct PosixRule {
  char kind = 0;  // 'J', 'N' (zero-based day), 'M'
  int a = 0, b = 0, c = 0;
  int32_t time = 7200;
};

struct PosixTz {
  int32_t std_off = 0;  // seconds east of UTC
  bool has_dst = false;
  int32_t dst_off = 0;
  PosixRule start, end;
};

struct TzParser {
  std::string_view s;
  size_t i = 0;
  bool ok = true;
  bool at_end() const { return i >= s.size(); }
  char peek() const { return at_end() ? '\0' : s[i]; }
  bool name() {
    if (peek() == '<') {
      size_t e = s.find('>', i);
      if (e == std::string_view::npos) return ok = false;
      i = e + 1;
      return true;
    }
    size_t st = i;
    while (!at_end() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
    return ok = i - st >= 3;
  }
  int num() {
    if (!std::isdigit(static_cast<unsigned char>(peek()))) {
      ok = false;
      return 0;
    }
    int v = 0;
    while (std::isdigit(static_cast<unsigned char>(peek()))) v = v * 10 + (s[i++] - '0');
    return v;
  }
  int32_t hms() {  // [+-]hh[:mm[:ss]]
    int sign = 1;
    if (peek() == '+' || peek() == '-') sign = s[i++] == '-' ? -1 : 1;
    int32_t v = num() * 3600;
    if (peek() == ':') {
      ++i;
      v += num() * 60;
      if (peek() == ':') {
        ++i;
        v += num();
      }
    }
    return sign * v;
  }
  PosixRule rule() {
    PosixRule r;
    if (peek() == 'M') {
      ++i;
      r.kind = 'M';
      r.a = num();
      if (peek() != '.') ok = false;
      ++i;
      r.b = num();
      if (peek() != '.') ok = false;
      ++i;
      r.c = num();
      if (r.a < 1 || r.a > 12 || r.b < 1 || r.b > 5 || r.c > 6) ok = false;
    } else if (peek() == 'J') {
      ++i;
      r.kind = 'J';
      r.a = num();
      if (r.a < 1 || r.a > 365) ok = false;
    } else {
      r.kind = 'N';
      r.a = num();
      if (r.a > 365) ok = false;
    }
    if (peek() == '/') {
      ++i;
      r.time = hms();
    }
    return r;
  }
};

bool parse_posix_tz(std::string_view s, PosixTz& tz) {
  TzParser p{s};
  if (!p.name()) return false;
  tz.std_off = -p.hms();
  if (!p.ok) return false;
  if (p.at_end()) return true;
  if (!p.name()) return false;
  tz.has_dst = true;
  tz.dst_off = tz.std_off + 3600;
  if (p.peek() != ',' && !p.at_end()) tz.dst_off = -p.hms();
  if (p.peek() != ',') return false;  // DST without rules: not produced by zic
  ++p.i;
  tz.start = p.rule();
  if (p.peek() != ',') return false;
  ++p.i;
  tz.end = p.rule();
  return p.ok && p.at_end();
}

int64_t rule_day(const PosixRule& r, int64_t year) {
  const int64_t jan1 = days_from_civil(year, 1, 1);
  switch (r.kind) {
    case 'J':
      return jan1 + r.a - 1 + (is_leap(year) && r.a >= 60 ? 1 : 0);
    case 'N':
      return jan1 + r.a;
    default: {
      const int64_t first = days_from_civil(year, static_cast<unsigned>(r.a), 1);
      const int wd_first = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 0 = Sunday
      int64_t day = first + (r.c - wd_first + 7) % 7 + (r.b - 1) * 7;
      const int64_t next_month = first + days_in_month(year, static_cast<unsigned>(r.a));
      while (day >= next_month) day -= 7;
      return day;
    }
  }
}

}  // namespace

bool parse_tzif(std::string_view bytes, const std::string& name, int last_year,
                api::TimezoneTable& out, std::string& error) {
  Reader r{bytes};
  char version = 0;
  Counts c = read_header(r, version);
  if (!r.ok) {
    error = "not a TZif file";
    return false;
  }
  if (version < '2') {
    error = "TZif version 1 files are not supported (tzdata ships version 2+)";
    return false;
  }
  // Skip the v1 (32-bit) block.
  r.skip(size_t{c.time} * 5 + size_t{c.type} * 6 + c.chr + size_t{c.leap} * 8 + c.isstd + c.isut);
  c = read_header(r, version);
  if (!r.ok || c.type == 0 || c.type > 256) {
    error = "corrupt TZif file";
    return false;
  }
  std::vector<int64_t> times(c.time);
  for (auto& t : times) t = r.i64();
  std::vector<uint32_t> idx(c.time);
  for (auto& x : idx) x = r.u8();
  std::vector<int32_t> utoff(c.type);
  for (auto& u : utoff) {
    u = static_cast<int32_t>(r.u32());
    r.skip(2);
  }
  r.skip(c.chr + size_t{c.leap} * 12 + c.isstd + c.isut);
  if (!r.ok) {
    error = "truncated TZif file";
    return false;
  }
  std::string_view footer;
  if (r.pos < bytes.size() && bytes[r.pos] == '\n') {
    size_t end = bytes.find('\n', r.pos + 1);
    if (end != std::string_view::npos) footer = bytes.substr(r.pos + 1, end - r.pos - 1);
  }
  out = api::TimezoneTable{};
  out.name = name;
  // Offset before the first transition: local time type 0 (RFC 8536 3.2).
  out.starts.push_back(INT64_MIN / 2);
  out.offsets.push_back(utoff[0]);
  for (size_t i = 0; i < times.size(); ++i) {
    if (idx[i] >= utoff.size()) {
      error = "corrupt TZif file (bad type index)";
      return false;
    }
    if (!out.starts.empty() && times[i] <= out.starts.back()) continue;
    out.starts.push_back(times[i]);
    out.offsets.push_back(utoff[idx[i]]);
  }
  const int64_t until = days_from_civil(last_year, 1, 1) * 86400;
  if (!footer.empty()) {
    PosixTz tz;
    if (!parse_posix_tz(footer, tz)) {
      error = "unsupported TZ rule '" + std::string(footer) + "'";
      return false;
    }
    const int64_t last = out.starts.back();
    if (!tz.has_dst) {
      if (out.offsets.back() != tz.std_off) {
        // Footer applies after the last transition; only differs in odd hand-made files.
        out.starts.push_back(last + 1);
        out.offsets.push_back(tz.std_off);
      }
    } else {
      int64_t y0 = 1970;
      if (last > 0) {
        int64_t y;
        unsigned m, d;
        civil_from_days(last / 86400, y, m, d);
        y0 = y;
      }
      std::vector<std::pair<int64_t, int32_t>> extra;
      for (int64_t y = y0; y < last_year; ++y) {
        extra.emplace_back(rule_day(tz.start, y) * 86400 + tz.start.time - tz.std_off, tz.dst_off);
        extra.emplace_back(rule_day(tz.end, y) * 86400 + tz.end.time - tz.dst_off, tz.std_off);
      }
      std::sort(extra.begin(), extra.end());
      for (const auto& [t, off] : extra) {
        if (t <= out.starts.back() || t >= until) continue;
        out.starts.push_back(t);
        out.offsets.push_back(off);
      }
    }
  }
  out.valid_from = out.starts.size() > 1 ? out.starts[1] : INT64_MIN / 2;
  out.valid_until = until;
  return true;
}

std::string zoneinfo_dir(const std::string& configured) {
  if (!configured.empty()) return configured;
  if (const char* env = std::getenv("TZDIR"); env != nullptr && *env != '\0') return env;
  return "/usr/share/zoneinfo";
}

bool load_timezone(const std::string& dir, const std::string& name, int last_year,
                   api::TimezoneTable& out, std::string& error) {
  if (name.empty() || name.find("..") != std::string::npos || name.front() == '/') {
    error = "bad timezone name";
    return false;
  }
  std::filesystem::path p = std::filesystem::path(zoneinfo_dir(dir)) / name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(p, ec)) {
    error = "no such timezone in " + zoneinfo_dir(dir);
    return false;
  }
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    error = "cannot read " + p.string();
    return false;
  }
  return parse_tzif(bytes, name, last_year, out, error);
}

std::vector<std::string> list_timezones(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  const std::filesystem::path root(zoneinfo_dir(dir));
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    const auto rel = it->path().lexically_relative(root).string();
    if (it->is_directory(ec)) {
      if (rel == "posix" || rel == "right") it.disable_recursion_pending();
      continue;
    }
    if (rel.find('.') != std::string::npos || rel.empty() ||
        !std::isupper(static_cast<unsigned char>(rel[0])))
      continue;
    names.push_back(rel);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace cg::policy

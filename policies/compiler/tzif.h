// Reads a TZif file (RFC 8536, versions 2+, as shipped by Debian's tzdata) and the POSIX TZ
// footer into an api::TimezoneTable of UTC-offset transitions, once, at compile time. Workers
// then need only a binary search: no setenv("TZ"), no localtime_r, no global state.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/api/policy_image.h"

namespace cg::policy {

// Civil date <-> days since 1970-01-01 (proleptic Gregorian).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d);
bool valid_civil_date(int64_t y, unsigned m, unsigned d);

// Parses TZif bytes. On failure returns false and sets `error`. Transitions from the file are
// kept; the footer's rule (if it has DST) is expanded for every year up to `last_year`.
bool parse_tzif(std::string_view bytes, const std::string& name, int last_year,
                api::TimezoneTable& out, std::string& error);

// Loads `<dir>/<name>` (dir empty: $TZDIR or /usr/share/zoneinfo). Rejects names with "..".
bool load_timezone(const std::string& dir, const std::string& name, int last_year,
                   api::TimezoneTable& out, std::string& error);

// Zone names under the zoneinfo dir (for "did you mean"); skips posix/ and right/.
std::vector<std::string> list_timezones(const std::string& dir);

std::string zoneinfo_dir(const std::string& configured);

}  // namespace cg::policy

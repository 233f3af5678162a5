// The TZif reader against glibc's own conversion of the same tzdata files.
#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>
#include <random>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

TEST(Tzif, CivilDays) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  int64_t y;
  unsigned m, d;
  civil_from_days(days_from_civil(2028, 2, 29), y, m, d);
  EXPECT_EQ(y, 2028);
  EXPECT_EQ(m, 2u);
  EXPECT_EQ(d, 29u);
  EXPECT_FALSE(valid_civil_date(2026, 2, 29));
  EXPECT_TRUE(valid_civil_date(2000, 2, 29));
  EXPECT_FALSE(valid_civil_date(2100, 2, 29));
  EXPECT_FALSE(valid_civil_date(2026, 4, 31));
  EXPECT_EQ(api::weekday_of_day(days_from_civil(2026, 11, 30)), 0);  // Monday
  EXPECT_EQ(api::weekday_of_day(days_from_civil(1969, 12, 28)), 6);  // Sunday, negative day
}

TEST(Tzif, RejectsGarbageAndPathTricks) {
  api::TimezoneTable t;
  std::string err;
  EXPECT_FALSE(parse_tzif("not a tz file", "x", 2100, t, err));
  EXPECT_FALSE(parse_tzif(std::string("TZif2") + std::string(40, '\0'), "x", 2100, t, err));
  EXPECT_FALSE(load_timezone("", "../etc/passwd", 2100, t, err));
  EXPECT_FALSE(load_timezone("", "Asia/Nowhere", 2100, t, err));
}

// Compares utc_offset_at with glibc's localtime_r for random instants 1990-2099. setenv("TZ")
// is fine here: this test is single-threaded; the compiler itself never touches TZ.
TEST(Tzif, AgreesWithGlibc) {
  const char* zones[] = {
      "Asia/Shanghai",    "Asia/Urumqi", "Asia/Kolkata",    "Europe/Berlin",     "America/New_York",
      "Australia/Sydney", "Asia/Tehran", "Pacific/Chatham", "America/Sao_Paulo", "UTC"};
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> when(utc(1990, 1, 1, 0, 0), utc(2099, 12, 31, 0, 0));
  const char* old_tz = std::getenv("TZ");
  for (const char* z : zones) {
    api::TimezoneTable t;
    std::string err;
    ASSERT_TRUE(load_timezone("", z, 2100, t, err)) << z << ": " << err;
    setenv("TZ", (std::string(":") + z).c_str(), 1);
    tzset();
    int mismatches = 0;
    for (int i = 0; i < 4000; ++i) {
      const time_t s = static_cast<time_t>(when(rng));
      std::tm tm{};
      localtime_r(&s, &tm);
      if (api::utc_offset_at(t, s) != tm.tm_gmtoff && ++mismatches < 5)
        ADD_FAILURE() << z << " at " << s << ": ours " << api::utc_offset_at(t, s) << " glibc "
                      << tm.tm_gmtoff;
    }
    EXPECT_EQ(mismatches, 0) << z;
  }
  if (old_tz)
    setenv("TZ", old_tz, 1);
  else
    unsetenv("TZ");
  tzset();
}

TEST(Tzif, ShanghaiHistoryAndPresent) {
  api::TimezoneTable t;
  std::string err;
  ASSERT_TRUE(load_timezone("", "Asia/Shanghai", 2100, t, err)) << err;
  EXPECT_EQ(api::utc_offset_at(t, utc(2026, 7, 1, 0, 0)), 8 * 3600);
  EXPECT_EQ(api::utc_offset_at(t, utc(1988, 7, 1, 0, 0)), 9 * 3600);  // China DST 1986-1991
  EXPECT_EQ(t.valid_until, utc(2100, 1, 1, 0, 0));
}

}  // namespace
}  // namespace cg::policy

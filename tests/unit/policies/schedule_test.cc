// Timetables compiled into the image, evaluated at fixed UTC instants (the injectable clock is
// just the `utc` argument: api::schedule_active(image, id, utc)).
#include <gtest/gtest.h>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

class ScheduleTest : public ::testing::Test {
 protected:
  std::shared_ptr<const api::PolicyImage> compile(const std::string& tz) {
    const std::string text =
        header(tz) +
        "schedules:\n"
        "  class-hours: { days: [weekdays], times: [\"08:00-11:50\", \"14:00-17:30\"],\n"
        "                 except-dates: [\"2026-10-01..2026-10-07\"] }\n"
        "  exams: { dates: [\"2026-12-20..2026-12-22\"], times: [\"08:30-11:30\"] }\n"
        "  lights-out: { days: [fri, sat], times: [\"22:30-06:30\"] }\n"
        "  weekend: { days: [weekend] }\n"
        "  evening: { times: [\"18:00-24:00\"] }\n"
        "rules:\n"
        "  - { name: r1, when: class-hours, action: deny }\n"
        "  - { name: r2, when: exams, action: deny }\n"
        "  - { name: r3, when: lights-out, action: deny }\n"
        "  - { name: r4, when: weekend, action: deny }\n"
        "  - { name: r5, when: evening, action: deny }\n";
    auto r = compile_policy(text, "sched.yaml");
    EXPECT_TRUE(r.ok()) << dump(r);
    return r.image;
  }
  static constexpr uint16_t kClass = 0, kExams = 1, kLightsOut = 2, kWeekend = 3, kEvening = 4;
};

// Asia/Shanghai is UTC+8 all year: local 09:00 = 01:00 UTC.
TEST_F(ScheduleTest, ClassHoursInsideAndOutside) {
  auto im = compile("Asia/Shanghai");
  ASSERT_TRUE(im);
  // Monday 2026-11-30.
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 1, 0)));     // 09:00
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 0, 0)));     // 08:00 start
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 11, 29, 23, 59)));  // 07:59
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 3, 50)));   // 11:50 end
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 3, 49)));    // 11:49
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 4, 30)));   // 12:30 lunch
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 6, 0)));     // 14:00
  // Saturday 2026-12-05 09:00: no class.
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 12, 5, 1, 0)));
  // National Day holiday (Thursday 2026-10-01) is an except-date.
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 10, 1, 1, 0)));
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 10, 8, 1, 0)));
  // The UTC date differs from the local date: Tuesday 00:30 UTC is Tuesday 08:30 local, while
  // Monday 23:00 UTC is Tuesday 07:00 local (not yet class).
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 12, 1, 0, 30)));
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 11, 30, 23, 0)));
}

TEST_F(ScheduleTest, ExamDates) {
  auto im = compile("Asia/Shanghai");
  ASSERT_TRUE(im);
  EXPECT_TRUE(api::schedule_active(*im, kExams, utc(2026, 12, 20, 1, 0)));    // Sun 09:00
  EXPECT_TRUE(api::schedule_active(*im, kExams, utc(2026, 12, 22, 3, 29)));   // last day 11:29
  EXPECT_FALSE(api::schedule_active(*im, kExams, utc(2026, 12, 22, 3, 30)));  // 11:30
  EXPECT_FALSE(api::schedule_active(*im, kExams, utc(2026, 12, 23, 1, 0)));   // after
  EXPECT_FALSE(api::schedule_active(*im, kExams, utc(2026, 12, 19, 1, 0)));   // before
  EXPECT_FALSE(api::schedule_active(*im, kExams, utc(2027, 12, 20, 1, 0)));   // next year
}

TEST_F(ScheduleTest, AcrossMidnightBelongsToStartDay) {
  auto im = compile("Asia/Shanghai");
  ASSERT_TRUE(im);
  // Friday 2026-12-04 23:00 local (15:00 UTC): on.
  EXPECT_TRUE(api::schedule_active(*im, kLightsOut, utc(2026, 12, 4, 15, 0)));
  // Saturday 03:00 local: the Friday window still runs.
  EXPECT_TRUE(api::schedule_active(*im, kLightsOut, utc(2026, 12, 4, 19, 0)));
  // Saturday 06:30 local: over.
  EXPECT_FALSE(api::schedule_active(*im, kLightsOut, utc(2026, 12, 4, 22, 30)));
  // Sunday 03:00 local: the Saturday window.
  EXPECT_TRUE(api::schedule_active(*im, kLightsOut, utc(2026, 12, 5, 19, 0)));
  // Monday 03:00 local: Sunday is not listed, so no window.
  EXPECT_FALSE(api::schedule_active(*im, kLightsOut, utc(2026, 12, 6, 19, 0)));
  // Friday 03:00 local: Thursday is not listed.
  EXPECT_FALSE(api::schedule_active(*im, kLightsOut, utc(2026, 12, 3, 19, 0)));
}

TEST_F(ScheduleTest, AllDayAndUntilMidnight) {
  auto im = compile("Asia/Shanghai");
  ASSERT_TRUE(im);
  EXPECT_TRUE(api::schedule_active(*im, kWeekend, utc(2026, 12, 5, 16, 0)));   // Sun 00:00
  EXPECT_FALSE(api::schedule_active(*im, kWeekend, utc(2026, 12, 6, 16, 0)));  // Mon 00:00
  EXPECT_TRUE(api::schedule_active(*im, kEvening, utc(2026, 12, 6, 15, 59)));  // 23:59
  EXPECT_FALSE(api::schedule_active(*im, kEvening, utc(2026, 12, 6, 16, 0)));  // 00:00
  uint64_t mask = api::active_schedule_mask(*im, utc(2026, 12, 5, 15, 0));     // Sat 23:00
  EXPECT_EQ(mask, (1u << kLightsOut) | (1u << kWeekend) | (1u << kEvening));
  EXPECT_FALSE(api::schedule_active(*im, 99, utc(2026, 12, 5, 15, 0)));
}

// The same timetable in a DST zone: 09:00 local is 14:00 UTC in winter, 13:00 UTC in summer.
TEST_F(ScheduleTest, TimezoneWithDaylightSaving) {
  auto im = compile("America/New_York");
  ASSERT_TRUE(im);
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 12, 7, 14, 0)));    // Mon 09:00 EST
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 12, 7, 12, 30)));  // 07:30 EST
  EXPECT_TRUE(api::schedule_active(*im, kClass, utc(2026, 6, 8, 12, 30)));    // 08:30 EDT
  EXPECT_FALSE(api::schedule_active(*im, kClass, utc(2026, 6, 8, 11, 30)));   // 07:30 EDT
  // DST starts 2026-03-08 07:00 UTC (02:00 EST -> 03:00 EDT).
  EXPECT_EQ(api::utc_offset_at(im->timezone, utc(2026, 3, 8, 6, 59)), -5 * 3600);
  EXPECT_EQ(api::utc_offset_at(im->timezone, utc(2026, 3, 8, 7, 0)), -4 * 3600);
  // Far beyond the file's explicit transitions (footer rule expanded by the compiler).
  EXPECT_EQ(api::utc_offset_at(im->timezone, utc(2090, 7, 1, 0, 0)), -4 * 3600);
  EXPECT_EQ(api::utc_offset_at(im->timezone, utc(2090, 1, 1, 0, 0)), -5 * 3600);
}

}  // namespace
}  // namespace cg::policy

// Semantics: nDPI names with suggestions, references, overlaps, shadowed rules, calendars.
#include <gtest/gtest.h>

#include "tests/unit/policies/test_util.h"

namespace cg::policy {
namespace {
using namespace cg::policy::testing;

TEST(PolicySemantics, NdpiNamesComeFromLibndpiWithSuggestions) {
  const std::string text = header() +
                           "apps:\n"                                                          // 3
                           "  v: { protocols: [Youtube, WeChat, Bittorent, NoSuchThing] }\n"  // 4
                           "  c: { categories: [Game, Vidoe, YouTube] }\n"                    // 5
                           "rules:\n"
                           "  - { name: r1, app: [v, c], action: deny }\n";
  auto r = compile_policy(text, "n.yaml");
  EXPECT_TRUE(
      has_diag(r, at(text, "Youtube"), "unknown protocol 'Youtube' (did you mean 'YouTube'?)"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "Bittorent"),
                       "unknown protocol 'Bittorent' (did you mean 'BitTorrent'?)"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "NoSuchThing"), "unknown protocol 'NoSuchThing'")) << dump(r);
  EXPECT_FALSE(has_message(r, "'NoSuchThing' (did you mean")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "Vidoe"), "unknown category 'Vidoe' (did you mean 'Video'?)"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "YouTube]"), "is an nDPI protocol: list it under protocols"))
      << dump(r);
  EXPECT_EQ(r.error_count(), 5) << dump(r);
}

TEST(PolicySemantics, UndefinedReferencesSuggestDefinedNames) {
  const std::string text = header() +
                           "zones: { classrooms: { vlans: [100] } }\n"      // 3
                           "schedules: { class-hours: { days: [mon] } }\n"  // 4
                           "apps: { games: { categories: [Game] } }\n"      // 5
                           "rules:\n"                                       // 6
                           "  - { name: r1, from: classroom, app: game, when: classhours, "
                           "action: deny }\n";  // 7
  auto r = compile_policy(text, "u.yaml");
  EXPECT_TRUE(has_diag(r, 7, 23, "undefined zone 'classroom' (did you mean 'classrooms'?)"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, 7, 39, "undefined app group 'game' (did you mean 'games'?)")) << dump(r);
  EXPECT_TRUE(has_diag(r, 7, 51, "undefined schedule 'classhours' (did you mean 'class-hours'?)"))
      << dump(r);
}

TEST(PolicySemantics, OverlappingVlansAndSubnets) {
  const std::string text = header() +
                           "zones:\n"                                                  // 3
                           "  a: { vlans: [100-160] }\n"                               // 4
                           "  b: { vlans: [20, 150-170], subnets: [10.1.0.0/16] }\n"   // 5
                           "  c: { vlans: [161-170], subnets: [\"10.1.0.0/16\"] }\n";  // 6
  auto r = compile_policy(text, "o.yaml");
  EXPECT_TRUE(has_diag(
      r, at(text, "150-170"),
      "VLANs 150-170 overlap VLANs 100-160 of zone 'a' (line " + line_no(text, "100-160") + ")"))
      << dump(r);
  EXPECT_TRUE(has_diag(
      r, at(text, "161-170"),
      "VLANs 161-170 overlap VLANs 150-170 of zone 'b' (line " + line_no(text, "150-170") + ")"))
      << dump(r);
  EXPECT_TRUE(
      has_diag(r, at(text, "\"10.1.0.0/16\""),
               "subnet 10.1.0.0/16 is already in zone 'b' (line " + line_no(text, "150-170") + ")"))
      << dump(r);
  EXPECT_EQ(r.error_count(), 3) << dump(r);
}

TEST(PolicySemantics, NestedSubnetsAndAdjacentVlansAreFine) {
  const std::string text = header() +
                           "zones:\n"
                           "  a: { vlans: [100-149], subnets: [10.0.0.0/8] }\n"
                           "  b: { vlans: [150-160], subnets: [10.1.0.0/16, \"2001:db8::/32\"] }\n"
                           "rules:\n"
                           "  - { name: r, from: [a, b], action: deny }\n";
  auto r = compile_policy(text, "n.yaml");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(PolicySemantics, ImpossibleSchedules) {
  const std::string
      text = header() +
             "schedules:\n"  // 3
             "  s1: { times: [\"25:00-26:00\", \"08:60-09:00\", \"10:00-10:00\", \"00:00-24:00\"] "
             "}\n"                                                                              // 4
             "  s2: { dates: [\"2026-02-30\", \"2026-12-22..2026-12-20\", \"2028-02-29\"] }\n"  // 5
             "  s3: { days: [sat, sun], dates: [\"2026-12-21..2026-12-25\"] }\n"                // 6
             "  s4: { dates: [\"2026-12-21\"], except-dates: [\"2026-12-01..2026-12-31\"] }\n"  // 7
             "  s5: { times: [\"24:00-08:00\"] }\n"                                             // 8
             "rules:\n"
             "  - { name: r1, when: s1, action: deny }\n"
             "  - { name: r2, when: s2, action: deny }\n"
             "  - { name: r3, when: s3, action: deny }\n"
             "  - { name: r4, when: s4, action: deny }\n"
             "  - { name: r5, when: s5, action: deny }\n";
  auto r = compile_policy(text, "s.yaml");
  EXPECT_TRUE(has_diag(r, at(text, "\"25:00"), "'25:00' is not a time of day")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "\"08:60"), "'08:60' is not a time of day")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "\"10:00-10:00"), "time window '10:00-10:00' is empty"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "\"2026-02-30"), "'2026-02-30' is not a calendar date"))
      << dump(r);
  EXPECT_TRUE(
      has_diag(r, at(text, "\"2026-12-22.."), "'2026-12-22..2026-12-20' ends before it starts"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "[\"2026-12-21..2026-12-25"), "schedule 's3' is never active"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "[\"2026-12-21\"]"), "schedule 's4' is never active"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "\"24:00-08:00"), "'24:00' is not a time of day")) << dump(r);
  EXPECT_EQ(r.error_count(), 8) << dump(r);  // 00:00-24:00 and 2028-02-29 are fine
}

TEST(PolicySemantics, ShadowedRulesAreErrors) {
  const std::string text =
      header() +
      "zones:\n"
      "  a: { vlans: [100-110] }\n"
      "  b: { subnets: [10.5.0.0/16] }\n"
      "schedules: { s: { days: [mon] } }\n"
      "apps:\n"
      "  video: { protocols: [YouTube, TikTok], categories: [Video] }\n"
      "  yt: { protocols: [YouTube] }\n"
      "  edu: { hosts: [\"*.smartedu.cn\"] }\n"
      "  edu-www: { hosts: [www.smartedu.cn, \"*.x.smartedu.cn\"] }\n"
      "rules:\n"                                                            // 11
      "  - { name: video, from: [a, b], app: video, action: deny }\n"       // 12
      "  - { name: yt-a, from: a, app: yt, when: s, action: allow }\n"      // 13
      "  - { name: edu, to-app: edu, action: allow }\n"                     // 14
      "  - { name: edu-www, to-app: edu-www, action: deny }\n"              // 15
      "  - { name: web, dst-ports: [80, 443], action: log }\n"              // 16
      "  - { name: https, protocol: tcp, dst-ports: 443, action: deny }\n"  // 17
      "  - { name: all-a, from: a, action: deny }\n"                        // 18
      "  - { name: a-in-s, from: a, when: s, action: allow }\n";            // 19
  auto r = compile_policy(text, "sh.yaml");
  EXPECT_TRUE(has_diag(
      r, at(text, "{ name: yt-a"),
      "rule 'yt-a' can never match: rule 'video' (line " + line_no(text, "{ name: video") + ")"))
      << dump(r);
  EXPECT_TRUE(has_diag(
      r, at(text, "{ name: edu-www"),
      "rule 'edu-www' can never match: rule 'edu' (line " + line_no(text, "{ name: edu,") + ")"))
      << dump(r);
  EXPECT_TRUE(has_diag(
      r, at(text, "{ name: https"),
      "rule 'https' can never match: rule 'web' (line " + line_no(text, "{ name: web") + ")"))
      << dump(r);
  EXPECT_TRUE(has_diag(
      r, at(text, "{ name: a-in-s"),
      "rule 'a-in-s' can never match: rule 'all-a' (line " + line_no(text, "{ name: all-a") + ")"))
      << dump(r);
  EXPECT_EQ(r.error_count(), 4) << dump(r);
  EXPECT_FALSE(r.image);
}

// Address conditions: the shadow check finds coverers through an index of IPv4 prefixes per
// side (rules without a condition on the side, or whose prefix holds the later rule's), falling
// back to every earlier rule for IPv6-only and address-free rules.
TEST(PolicySemantics, ShadowingByAddresses) {
  const std::string text =
      header() +
      "rules:\n"
      "  - { name: net10, dst: 10.0.0.0/8, action: deny }\n"
      "  - { name: web5, dst: 10.5.0.0/16, protocol: tcp, dst-ports: 80, action: allow }\n"
      "  - { name: lan, src: [192.168.0.0/16, 172.16.0.0/12], action: log }\n"
      "  - { name: lan7, src: 192.168.7.0/24, dst: 100.64.1.0/24, action: deny }\n"
      "  - { name: ssh, protocol: tcp, dst-ports: 22, action: deny }\n"
      "  - { name: ssh-host, dst: 198.51.100.7, protocol: tcp, dst-ports: 22, action: allow }\n"
      "  - { name: v6, dst: \"2001:db8::/32\", action: deny }\n"
      "  - { name: v6-narrow, dst: \"2001:db8:1::/48\", action: allow }\n"
      "  - { name: narrow, dst: 203.0.113.0/25, action: allow }\n"
      "  - { name: broad, dst: [203.0.113.0/24, \"2001:db9::/32\"], action: deny }\n"
      "  - { name: broad-v4, dst: 203.0.113.128/25, action: log }\n";
  auto r = compile_policy(text, "addr.yaml");
  auto shadowed = [&](const std::string& rule, const std::string& by) {
    return has_diag(r, at(text, "{ name: " + rule + ","),
                    "rule '" + rule + "' can never match: rule '" + by + "' (line " +
                        line_no(text, "{ name: " + by + ",") + ")");
  };
  EXPECT_TRUE(shadowed("web5", "net10")) << dump(r);
  EXPECT_TRUE(shadowed("lan7", "lan")) << dump(r);
  EXPECT_TRUE(shadowed("ssh-host", "ssh")) << dump(r);
  EXPECT_TRUE(shadowed("v6-narrow", "v6")) << dump(r);
  EXPECT_TRUE(shadowed("broad-v4", "broad")) << dump(r);
  // narrow before broad is fine; broad's IPv6 half is not covered by anything before it
  EXPECT_EQ(r.error_count(), 5) << dump(r);
}

TEST(PolicySemantics, NarrowBeforeBroadIsNotShadowing) {
  const std::string text = header() +
                           "zones: { a: { vlans: [100] }, b: { vlans: [200] } }\n"
                           "schedules: { s: { days: [mon] }, t: { days: [tue] } }\n"
                           "apps:\n"
                           "  yt: { protocols: [YouTube] }\n"
                           "  video: { protocols: [YouTube, TikTok] }\n"
                           "  edu: { hosts: [\"*.smartedu.cn\"] }\n"
                           "rules:\n"
                           "  - { name: yt-a, from: a, app: yt, action: allow }\n"
                           "  - { name: video, from: [a, b], app: video, action: deny }\n"
                           "  - { name: https, protocol: tcp, dst-ports: 443, action: deny }\n"
                           "  - { name: web, dst-ports: [80, 443], action: log }\n"
                           "  - { name: a-in-s, from: a, when: s, action: allow }\n"
                           "  - { name: a-in-t, from: a, when: t, action: deny }\n"
                           "  - { name: to-edu, from: a, to-app: edu, action: allow }\n"
                           "  - { name: a-but-edu, from: a, except-app: edu, action: deny }\n"
                           "  - { name: all-a, from: a, action: deny }\n"
                           "  - { name: all-b, from: b, action: deny }\n"
                           // reachable: flows opened towards b are not matched by all-b
                           "  - { name: edu-b-either-way, from: b, app: edu, action: log }\n";
  auto r = compile_policy(text, "ok.yaml");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(PolicySemantics, RuleLevelConflicts) {
  const std::string text = header() +
                           "zones: { vl: { vlans: [5] }, net: { subnets: [10.0.0.0/8] } }\n"
                           "apps: { a: { categories: [Game] }, b: { categories: [Video] } }\n"
                           "rules:\n"                                                         // 5
                           "  - { name: r1, action: allow, reset: true }\n"                   // 6
                           "  - { name: r2, app: a, to-app: b, action: deny }\n"              // 7
                           "  - { name: r3, protocol: icmp, dst-ports: 80, action: deny }\n"  // 8
                           "  - { name: r4, from: net, dst-ports: \"9-1\", action: deny }\n"  // 9
                           "  - { name: r5, app: a, except-app: a, action: deny }\n"          // 10
                           "  - { name: r1, protocol: udp, action: deny, reset: true }\n";    // 11
  auto r = compile_policy(text, "c.yaml");
  EXPECT_TRUE(
      has_diag(r, at_after(text, "allow, reset: "), "reset is only valid with action: deny"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at_after(text, "to-app: "), "use either app or to-app")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "icmp,"), "ports need protocol tcp or udp")) << dump(r);
  EXPECT_TRUE(has_diag(r, at(text, "\"9-1\""), "port range '9-1' ends before it starts"))
      << dump(r);
  EXPECT_TRUE(has_diag(r, at_after(text, "except-app: "), "both matched and excepted")) << dump(r);
  EXPECT_TRUE(has_diag(r, 11, 13, "duplicate rule name 'r1'")) << dump(r);
  EXPECT_TRUE(has_diag(r, at_after(text, "deny, reset: "), "reset needs TCP")) << dump(r);
}

TEST(PolicySemantics, BadTimezoneSuggestsRealOne) {
  const std::string text = header("Asia/Shangai") + "rules: []\n";
  auto r = compile_policy(text, "tz.yaml");
  EXPECT_TRUE(has_diag(r, at(text, "Asia/Shangai"), "unknown timezone 'Asia/Shangai'")) << dump(r);
  EXPECT_TRUE(has_message(r, "did you mean 'Asia/Shanghai'?")) << dump(r);
  r = compile_policy(header("../../etc/passwd") + "rules: []\n", "tz.yaml");
  EXPECT_FALSE(r.ok());
}

TEST(PolicySemantics, ManyErrorsInOneRun) {
  const std::string text = header() +
                           "zones: { a: { vlans: [1-10] }, b: { vlans: [5] } }\n"
                           "apps: { x: { protocols: [Youtube] } }\n"
                           "rules:\n"
                           "  - { name: r, from: c, app: x, action: deny }\n";
  auto r = compile_policy(text, "m.yaml");
  EXPECT_GE(r.error_count(), 3) << dump(r);
  for (const auto& d : r.diagnostics) {
    EXPECT_EQ(d.file, "m.yaml");
    EXPECT_GT(d.line, 0) << d.message;
    EXPECT_FALSE(d.path.empty()) << d.message;
  }
  // Sorted by position.
  for (size_t i = 1; i < r.diagnostics.size(); ++i)
    EXPECT_LE(r.diagnostics[i - 1].line, r.diagnostics[i].line);
}

TEST(PolicySemantics, UnusedDefinitionsAreWarningsOnly) {
  const std::string text = header() +
                           "zones: { lab: { vlans: [5] } }\n"
                           "schedules: { s: { days: [mon] } }\n"
                           "apps: { g: { categories: [Game] } }\n";
  auto r = compile_policy(text, "w.yaml");
  EXPECT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.warning_count(), 3) << dump(r);
  EXPECT_TRUE(has_diag(r, 3, 10, "zone 'lab' is not used", DiagSeverity::kWarning)) << dump(r);
}

}  // namespace
}  // namespace cg::policy

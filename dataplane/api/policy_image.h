// PolicyImage: the compiled, immutable school policy — the contract between the policy compiler
// (policies/compiler, control plane) and the fast path (dataplane/enforce).
//
// Plain data only: no YAML, no JSON, no exceptions, no virtual functions. The compiler builds one
// image per accepted policy and hands it over as `std::shared_ptr<const PolicyImage>`; nothing
// edits an image after that. The dataplane's prepare phase turns `rules` into rte_acl contexts
// (one field per range/prefix below) and keeps the app/schedule conditions for the second stage;
// apply is an RCU pointer swap. Every image carries the generation it was compiled for.
//
// Evaluation order for one flow (first match wins, `default_action` if nothing matches):
//   1. L3/L4/zone stage (rte_acl): from/to zone ids, src/dst prefixes, src/dst ports, protocol.
//   2. schedule stage: the rule's schedule (if any) must be active (schedule_active below; the
//      control thread can publish `active_schedule_mask` once per second for the workers).
//   3. app stage: the rule's AppMatch (if any) must match the flow's nDPI master/app protocol,
//      category or hostname; `except` must not. Until the app is known, a rule that needs it is
//      undecided and `inspection.while_inspecting` applies to the flow's packets.
// `evaluate()` at the end of this file is the reference implementation of exactly this; the
// rte_acl path must give the same answers (rule index, action) for the same FlowFacts.
// Note for the rte_acl build: a rule whose schedule is off or whose app does not match passes
// the decision to the next rule, so the L3/L4 stage must yield every candidate in order (or the
// rules must be split, e.g. L3/L4-only rules in one context and app/schedule rules in others),
// not just the first L3/L4 match. An `app` rule (AppDirection::kAnyDirection) also matches with
// client and server swapped (a second lookup with the swapped key).
//
// All functions here are noexcept, allocation-free and safe to call from any thread on an image
// that is no longer being built.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/api/qos_image.h"

namespace cg::api {

inline constexpr uint32_t kPolicyImageFormat = 1;  // bump on any layout/semantic change
inline constexpr uint16_t kNoZone = 0xffff;        // endpoint in no declared zone
inline constexpr uint16_t kNoSchedule = 0xffff;    // rule without `when`

enum class Action : uint8_t { kAllow = 0, kDeny = 1, kLog = 2 };  // kLog = allow + hit record
enum class Severity : uint8_t { kNone = 0, kInfo, kLow, kMedium, kHigh, kCritical };
enum class WhileInspecting : uint8_t { kPass = 0, kDrop = 1 };
// kAnyDirection: the flow is the app, whoever opened it. kToApp: the flow was opened by the
// rule's `from` side towards the app (the app is the responder).
enum class AppDirection : uint8_t { kAnyDirection = 0, kToApp = 1 };

struct U16Range {  // inclusive
  uint16_t lo = 0;
  uint16_t hi = 0;
};

struct Ipv4Prefix {
  uint32_t addr = 0;  // host byte order, host bits zero
  uint8_t len = 0;
};

struct Ipv6Prefix {
  std::array<uint8_t, 16> addr{};  // network byte order, host bits zero
  uint8_t len = 0;
};

// A zone is a set of endpoints: those on the inside (school side) of the appliance whose
// packets carry one of `vlans`, and any endpoint whose address is in one of the prefixes.
// Zone of an endpoint (dataplane, once per flow, for the client and for the server):
//   inside endpoint:  the zone listing the packet's VLAN id if any, else longest-prefix match
//   outside endpoint: longest-prefix match of its address
//   no match: kNoZone.
// VLAN ranges never overlap between zones and no prefix is in two zones (the validator rejects
// both); nested prefixes resolve by longest prefix.
struct Zone {
  std::string name;
  std::vector<U16Range> vlans;
  std::vector<Ipv4Prefix> v4;
  std::vector<Ipv6Prefix> v6;
};

// `*.example.cn` (wildcard) matches any name ending in ".example.cn" but not "example.cn";
// a plain pattern matches the whole name. Patterns are lower case; compare lower-cased names.
struct HostPattern {
  std::string name;  // without the "*." prefix
  bool wildcard = false;
};

// One app group (policy `apps:` entry): a flow matches if its nDPI master or app protocol id is
// in `protocols`, or its category id is in `categories`, or its hostname (SNI / HTTP Host / DNS
// query) matches a pattern. Vectors are sorted and unique.
struct AppMatch {
  std::string name;
  std::vector<uint16_t> protocols;   // nDPI 4.2 protocol ids
  std::vector<uint16_t> categories;  // nDPI 4.2 ndpi_protocol_category_t values
  std::vector<HostPattern> hosts;
};

// A timetable. Active at a local time (school timezone) when
//   (days_mask has the local weekday, or the window started yesterday and runs past midnight)
//   and (dates empty, or the window's start day is inside one of `dates`)
//   and the window's start day is not inside `except_dates`
//   and the local minute of day is inside one of `windows`.
// A window with end <= start runs past midnight and belongs to the day it starts on.
struct TimeWindow {
  uint16_t start_min = 0;  // minute of day, 0..1439
  uint16_t end_min = 0;    // 1..1440; end <= start means "until end_min the next day"
};

struct DayRange {  // inclusive, local civil days since 1970-01-01
  int32_t first = 0;
  int32_t last = 0;
};

struct Schedule {
  std::string name;
  uint8_t days_mask = 0x7f;         // bit 0 = Monday ... bit 6 = Sunday
  std::vector<TimeWindow> windows;  // empty = the whole day
  std::vector<DayRange> dates;      // empty = every day
  std::vector<DayRange> except_dates;
};

// UTC offset table for the school's timezone, precomputed from the TZif file by the compiler.
// `offsets[i]` applies from `starts[i]` (UTC seconds) until the next start; before starts[0]
// offsets[0] applies. Covers at least [valid_from, valid_until); outside, the nearest entry.
struct TimezoneTable {
  std::string name;  // e.g. "Asia/Shanghai"
  std::vector<int64_t> starts;
  std::vector<int32_t> offsets;  // seconds east of UTC
  int64_t valid_from = 0;
  int64_t valid_until = 0;
};

struct Rule {
  std::string name;
  uint32_t line = 0;  // source line, for hit reports
  // L3/L4/zone stage: every non-empty list must match (one element of it); empty = any.
  std::vector<uint16_t> from_zones;  // zone ids of the client side
  std::vector<uint16_t> to_zones;    // zone ids of the server side
  std::vector<Ipv4Prefix> src_v4, dst_v4;
  std::vector<Ipv6Prefix> src_v6, dst_v6;
  bool src_any_family = true;  // false: src given with only one family; the other never matches
  bool dst_any_family = true;
  std::vector<U16Range> src_ports, dst_ports;
  std::vector<uint8_t> l4_protocols;  // IP protocol numbers (6 tcp, 17 udp, 1 icmp, 58 icmpv6)
  // schedule stage
  uint16_t schedule = kNoSchedule;
  // app stage (indexes into PolicyImage::apps); `app` groups are OR-ed, `except` groups too.
  std::vector<uint16_t> apps;
  std::vector<uint16_t> except_apps;
  AppDirection app_direction = AppDirection::kAnyDirection;
  // verdict
  Action action = Action::kAllow;
  bool tcp_reset = false;  // deny only: send RST both ways for TCP
  Severity alert = Severity::kNone;

  bool needs_app() const noexcept { return !apps.empty() || !except_apps.empty(); }
};

struct InspectionSettings {
  uint16_t max_packets = 10;  // nDPI budget per flow before ndpi_detection_giveup
  WhileInspecting while_inspecting = WhileInspecting::kPass;
};

struct PolicyImage {
  uint32_t format = kPolicyImageFormat;
  uint64_t generation = 0;     // assigned by whoever commits (controld), monotonic
  uint64_t source_digest = 0;  // FNV-1a 64 of the policy source text
  std::string source_name;     // file name the policy came from
  std::string school_id, school_name, school_district;
  TimezoneTable timezone;
  std::vector<Zone> zones;
  std::vector<Schedule> schedules;
  std::vector<AppMatch> apps;
  std::vector<Rule> rules;  // first match wins
  Action default_action = Action::kAllow;
  InspectionSettings inspection;
  QosImage bandwidth;  // the `bandwidth` section (qos_image.h); !enabled = no shaping
};

// ---- evaluation helpers (cheap, allocation-free) -------------------------------------------

// Seconds east of UTC in the image's timezone at UTC time `utc`.
inline int32_t utc_offset_at(const TimezoneTable& tz, int64_t utc) noexcept {
  if (tz.starts.empty()) return 0;
  auto it = std::upper_bound(tz.starts.begin(), tz.starts.end(), utc);
  if (it == tz.starts.begin()) return tz.offsets.front();
  return tz.offsets[static_cast<size_t>(it - tz.starts.begin()) - 1];
}

inline int64_t floor_div(int64_t a, int64_t b) noexcept {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// 0 = Monday ... 6 = Sunday for a civil day number (1970-01-01 was a Thursday).
inline int weekday_of_day(int64_t day) noexcept {
  return static_cast<int>(((day + 3) % 7 + 7) % 7);
}

inline bool day_in_ranges(const std::vector<DayRange>& ranges, int64_t day) noexcept {
  for (const auto& r : ranges)
    if (day >= r.first && day <= r.last) return true;
  return false;
}

// Is the window-start day `day` one the schedule runs on?
inline bool schedule_day_ok(const Schedule& s, int64_t day) noexcept {
  if (!(s.days_mask & (1u << weekday_of_day(day)))) return false;
  if (!s.dates.empty() && !day_in_ranges(s.dates, day)) return false;
  if (day_in_ranges(s.except_dates, day)) return false;
  return true;
}

// Is schedule `s` active at local wall-clock seconds `local` (seconds since 1970-01-01 local)?
inline bool schedule_active_local(const Schedule& s, int64_t local) noexcept {
  const int64_t day = floor_div(local, 86400);
  const int minute = static_cast<int>((local - day * 86400) / 60);
  if (s.windows.empty()) return schedule_day_ok(s, day);
  for (const auto& w : s.windows) {
    if (w.end_min > w.start_min) {
      if (minute >= w.start_min && minute < w.end_min && schedule_day_ok(s, day)) return true;
    } else {  // runs past midnight
      if (minute >= w.start_min && schedule_day_ok(s, day)) return true;
      if (minute < w.end_min && schedule_day_ok(s, day - 1)) return true;
    }
  }
  return false;
}

// Is schedule `id` of `image` active at UTC time `utc` (seconds since the epoch)?
// Out-of-range ids are never active.
inline bool schedule_active(const PolicyImage& image, uint16_t id, int64_t utc) noexcept {
  if (id >= image.schedules.size()) return false;
  const int64_t local = utc + utc_offset_at(image.timezone, utc);
  return schedule_active_local(image.schedules[id], local);
}

// Bit i set = schedule i active at `utc` (first 64 schedules; the compiler rejects more).
inline uint64_t active_schedule_mask(const PolicyImage& image, int64_t utc) noexcept {
  uint64_t mask = 0;
  const int64_t local = utc + utc_offset_at(image.timezone, utc);
  for (size_t i = 0; i < image.schedules.size() && i < 64; ++i)
    if (schedule_active_local(image.schedules[i], local)) mask |= uint64_t{1} << i;
  return mask;
}

// Does `host` (lower case, no trailing dot) match `p`?
inline bool host_matches(const HostPattern& p, std::string_view host) noexcept {
  if (!p.wildcard) return host == p.name;
  if (host.size() <= p.name.size() + 1) return false;
  return host.substr(host.size() - p.name.size()) == p.name &&
         host[host.size() - p.name.size() - 1] == '.';
}

// Does a classified flow match the app group? `master` and `app` are nDPI protocol ids (e.g.
// QUIC.YouTube -> master QUIC, app YouTube), `category` the nDPI category, `host` lower case.
inline bool app_matches(const AppMatch& a, uint16_t master, uint16_t app, uint16_t category,
                        std::string_view host) noexcept {
  if (std::binary_search(a.protocols.begin(), a.protocols.end(), app) ||
      std::binary_search(a.protocols.begin(), a.protocols.end(), master))
    return true;
  if (std::binary_search(a.categories.begin(), a.categories.end(), category)) return true;
  if (!host.empty())
    for (const auto& p : a.hosts)
      if (host_matches(p, host)) return true;
  return false;
}

// ---- reference evaluation -----------------------------------------------------------------
// The exact meaning of `rules`, written plainly. The dataplane's rte_acl path must agree with
// this function (its tests compare the two); --replay and tests may call it directly.
// A rule is matched on the flow as opened (client -> server): from/src/src-ports are the
// client's, to/dst/dst-ports the server's. A rule with `app` (kAnyDirection) also matches with
// the roles swapped, so `from: dorms, app: p2p` covers P2P connections opened towards the dorms;
// `to-app` and rules without apps match only as opened.

struct FlowFacts {
  uint16_t client_zone = kNoZone;
  uint16_t server_zone = kNoZone;
  bool ipv6 = false;
  uint32_t client_v4 = 0, server_v4 = 0;  // host byte order
  std::array<uint8_t, 16> client_v6{}, server_v6{};
  uint16_t client_port = 0, server_port = 0;  // 0 for protocols without ports
  uint8_t l4_protocol = 0;
  bool app_known = false;  // nDPI detected or gave up
  uint16_t master_protocol = 0, app_protocol = 0, category = 0;
  std::string_view host;  // lower case, may be empty
};

inline constexpr int32_t kDefaultRule = -1;

struct Verdict {
  bool pending = false;         // a rule that needs the app could match: wait for nDPI
  int32_t rule = kDefaultRule;  // index into rules, or kDefaultRule
  Action action = Action::kAllow;
  bool tcp_reset = false;
  Severity alert = Severity::kNone;
};

inline bool v4_in(const std::vector<Ipv4Prefix>& ps, uint32_t a) noexcept {
  for (const auto& p : ps) {
    const uint32_t mask = p.len == 0 ? 0 : ~uint32_t{0} << (32 - p.len);
    if ((a & mask) == p.addr) return true;
  }
  return false;
}

inline bool v6_in(const std::vector<Ipv6Prefix>& ps, const std::array<uint8_t, 16>& a) noexcept {
  for (const auto& p : ps) {
    unsigned bit = 0;
    for (; bit < p.len; ++bit) {
      const uint8_t m = static_cast<uint8_t>(0x80u >> (bit % 8));
      if ((a[bit / 8] & m) != (p.addr[bit / 8] & m)) break;
    }
    if (bit == p.len) return true;
  }
  return false;
}

inline bool in_ranges(const std::vector<U16Range>& rs, uint16_t v) noexcept {
  for (const auto& r : rs)
    if (v >= r.lo && v <= r.hi) return true;
  return false;
}

// L3/L4/zone conditions with `a` as the rule's from/src side and `b` as its to/dst side.
inline bool rule_l34_matches(const Rule& r, const FlowFacts& f, bool swapped) noexcept {
  const uint16_t za = swapped ? f.server_zone : f.client_zone;
  const uint16_t zb = swapped ? f.client_zone : f.server_zone;
  if (!r.from_zones.empty() && !std::binary_search(r.from_zones.begin(), r.from_zones.end(), za))
    return false;
  if (!r.to_zones.empty() && !std::binary_search(r.to_zones.begin(), r.to_zones.end(), zb))
    return false;
  if (!r.l4_protocols.empty() && std::find(r.l4_protocols.begin(), r.l4_protocols.end(),
                                           f.l4_protocol) == r.l4_protocols.end())
    return false;
  const uint16_t pa = swapped ? f.server_port : f.client_port;
  const uint16_t pb = swapped ? f.client_port : f.server_port;
  if (!r.src_ports.empty() && !in_ranges(r.src_ports, pa)) return false;
  if (!r.dst_ports.empty() && !in_ranges(r.dst_ports, pb)) return false;
  const bool src_any = r.src_any_family && r.src_v4.empty() && r.src_v6.empty();
  const bool dst_any = r.dst_any_family && r.dst_v4.empty() && r.dst_v6.empty();
  if (f.ipv6) {
    if (!src_any && !v6_in(r.src_v6, swapped ? f.server_v6 : f.client_v6)) return false;
    if (!dst_any && !v6_in(r.dst_v6, swapped ? f.client_v6 : f.server_v6)) return false;
  } else {
    if (!src_any && !v4_in(r.src_v4, swapped ? f.server_v4 : f.client_v4)) return false;
    if (!dst_any && !v4_in(r.dst_v4, swapped ? f.client_v4 : f.server_v4)) return false;
  }
  return true;
}

// One step of the first-match loop: does rule `i` decide the flow? (Sets `out` when it does;
// a pending decision — the rule needs the app and the app is not known yet — also decides.)
inline bool rule_decides(const PolicyImage& im, size_t i, const FlowFacts& f,
                         uint64_t active_schedules, Verdict* out) noexcept {
  const Rule& r = im.rules[i];
  if (r.schedule != kNoSchedule &&
      (r.schedule >= 64 || !(active_schedules & (uint64_t{1} << r.schedule))))
    return false;
  const bool both_ways = !r.apps.empty() && r.app_direction == AppDirection::kAnyDirection;
  if (!rule_l34_matches(r, f, false) && !(both_ways && rule_l34_matches(r, f, true)))
    return false;
  if (r.needs_app()) {
    if (!f.app_known) {
      Verdict v;
      v.pending = true;
      v.rule = static_cast<int32_t>(i);
      v.action = im.inspection.while_inspecting == WhileInspecting::kDrop ? Action::kDeny
                                                                          : Action::kAllow;
      *out = v;
      return true;
    }
    auto in_groups = [&](const std::vector<uint16_t>& ids) {
      for (uint16_t id : ids)
        if (id < im.apps.size() &&
            app_matches(im.apps[id], f.master_protocol, f.app_protocol, f.category, f.host))
          return true;
      return false;
    };
    if (!r.apps.empty() && !in_groups(r.apps)) return false;
    if (in_groups(r.except_apps)) return false;
  }
  Verdict v;
  v.rule = static_cast<int32_t>(i);
  v.action = r.action;
  v.tcp_reset = r.tcp_reset;
  v.alert = r.alert;
  *out = v;
  return true;
}

inline Verdict default_verdict(const PolicyImage& im) noexcept {
  Verdict v;
  v.action = im.default_action;
  return v;
}

// First-match evaluation. `active_schedules` is active_schedule_mask(image, now).
inline Verdict evaluate(const PolicyImage& im, const FlowFacts& f,
                        uint64_t active_schedules) noexcept {
  Verdict v;
  for (size_t i = 0; i < im.rules.size(); ++i)
    if (rule_decides(im, i, f, active_schedules, &v)) return v;
  return default_verdict(im);
}

}  // namespace cg::api

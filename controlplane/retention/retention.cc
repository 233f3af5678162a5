#include "controlplane/retention/retention.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

namespace cg::retention {
namespace {

constexpr int64_t kDayUs = 86400LL * 1000000;
constexpr int64_t kHourUs = 3600LL * 1000000;
constexpr double kCapShare = 0.9;     // the cap leaves 10% of the budget as headroom
constexpr int kMaxAuditPrunes = 100;  // prune transactions per pass

std::string utc_day(int64_t us) { return cp::format_rfc3339(us).substr(0, 10); }

}  // namespace

Status Retention::run_once() {
  std::lock_guard run(run_mu_);
  const int64_t now = clock_.now_us();
  const int64_t horizon = now - static_cast<int64_t>(cfg_.days) * kDayUs;
  const RetentionCounters before = counters();
  Status s = delete_by_age(horizon);
  // A broken audit chain stops audit pruning (the evidence stays), not event retention. Audit
  // records go by whole UTC days (a prune verifies the chain first: once a day, not per pass).
  Status audit_status;
  const int64_t audit_horizon = horizon / kDayUs * kDayUs;
  for (int i = 0; audit_status && i < kMaxAuditPrunes; ++i) {
    int64_t pruned = 0;
    audit_status = audit_.prune_before(audit_horizon, cfg_.audit_batch, &pruned);
    if (pruned == 0) break;
    std::lock_guard lock(mu_);
    c_.audit_pruned += static_cast<uint64_t>(pruned);
  }
  int64_t bytes = 0, events = 0;
  if (s) s = store_.store_bytes(&bytes);
  if (s) s = store_.total_events(&events);
  if (s && cfg_.disk_budget_bytes > 0) {
    int64_t deleted = 0;
    s = enforce_budget(bytes, events, &deleted);
    events -= deleted;  // (COUNT(*) is a scan: once per pass)
  }
  // Freed pages go back once per pass, not per batch (SQLite: incremental_vacuum + a WAL
  // checkpoint, the costly part of a batch on a big store).
  const RetentionCounters after = counters();
  if (s && after.deleted_age + after.deleted_budget > before.deleted_age + before.deleted_budget) {
    s = store_.reclaim_space();
    if (s) s = store_.store_bytes(&bytes);
  }
  if (s) s = project_and_warn(now, bytes, events);
  if (housekeeping_) housekeeping_();
  if (s && !audit_status) s = audit_status;
  std::lock_guard lock(mu_);
  ++c_.passes;
  if (!s) ++c_.errors;
  if (s) c_.store_bytes = bytes;
  return s;
}

Status Retention::delete_by_age(int64_t horizon_us) {
  for (;;) {
    int64_t n = 0;
    if (auto s = store_.delete_events_before(horizon_us, cfg_.batch, &n); !s) return s;
    {
      std::lock_guard lock(mu_);
      c_.deleted_age += static_cast<uint64_t>(n);
    }
    if (n < cfg_.batch) return {};
  }
}

Status Retention::enforce_budget(int64_t bytes, int64_t events, int64_t* deleted) {
  *deleted = 0;
  const double budget = static_cast<double>(cfg_.disk_budget_bytes);
  if (events > 0 && static_cast<double>(bytes) > budget &&
      (bytes_per_event_ == 0 || bytes > bytes_at_estimate_)) {
    bytes_per_event_ = static_cast<double>(bytes) / static_cast<double>(events);
    bytes_at_estimate_ = bytes;
    std::lock_guard lock(mu_);
    c_.event_cap = static_cast<int64_t>(budget * kCapShare / bytes_per_event_);
  }
  int64_t cap = counters().event_cap;
  for (int64_t excess = cap >= 0 ? events - cap : 0; excess > 0;) {
    int64_t n = 0, newest = 0;
    int limit = static_cast<int>(std::min<int64_t>(excess, cfg_.batch));
    if (auto s = store_.delete_oldest_events(limit, &n, &newest); !s) return s;
    {
      std::lock_guard lock(mu_);
      c_.deleted_budget += static_cast<uint64_t>(n);
    }
    if (n == 0) break;
    excess -= n;
    *deleted += n;
  }
  return {};
}

Status Retention::project_and_warn(int64_t now, int64_t bytes, int64_t events) {
  int64_t oldest = 0;
  bool any = false;
  if (auto s = store_.oldest_event(&oldest, &any); !s) return s;
  const int64_t window = any ? std::min(kDayUs, now - oldest) : 0;
  int64_t per_day = -1, held_days = -1, deletes_from = 0;
  const int64_t cap_now = counters().event_cap;
  // An hour of events at least; less only when the budget already cut the store shorter.
  if (window >= kHourUs || (cap_now >= 0 && window > 0)) {
    int64_t recent = 0;
    if (auto s = store_.count_events_since(now - window, &recent); !s) return s;
    per_day = static_cast<int64_t>(std::llround(static_cast<double>(recent) *
                                                static_cast<double>(kDayUs) /
                                                static_cast<double>(window)));
  }
  if (cfg_.disk_budget_bytes > 0 && per_day > 0 && events > 0) {
    double per_event = bytes_per_event_ > 0 ? bytes_per_event_
                                             : static_cast<double>(bytes) /
                                                   static_cast<double>(events);
    int64_t capacity =
        cap_now >= 0 ? cap_now
                     : static_cast<int64_t>(static_cast<double>(cfg_.disk_budget_bytes) *
                                            kCapShare / per_event);
    held_days = capacity / per_day;
    double fill_days = static_cast<double>(std::max<int64_t>(capacity - events, 0)) /
                       static_cast<double>(per_day);
    deletes_from = now + static_cast<int64_t>(fill_days * static_cast<double>(kDayUs));
  }
  {
    std::lock_guard lock(mu_);
    c_.events_per_day = per_day;
    c_.projected_days = held_days;
    c_.budget_deletes_from_us = held_days >= 0 && held_days < cfg_.days ? deletes_from : 0;
  }
  if (held_days < 0 || held_days >= static_cast<int64_t>(cfg_.days)) return {};
  const std::string day = utc_day(now);
  if (day == warned_day_) return {};

  const std::string from = utc_day(deletes_from);
  const uint64_t budget_mb = cfg_.disk_budget_bytes / (1024 * 1024);
  std::ostringstream msg;
  msg << "event store budget " << budget_mb << " MB holds about " << held_days
      << " days of events at " << per_day << " events/day, less than retention.days ("
      << cfg_.days << "): events younger than " << cfg_.days << " days are deleted from "
      << from;
  store::Event e;
  e.event_id = "retention-budget-" + day;
  e.ts_us = now;
  e.event_type = "system";
  e.severity = 2;
  e.rule = "retention";
  e.signature = msg.str();
  e.school_id = cfg_.school_id;
  nlohmann::json body = {{"timestamp", cp::format_rfc3339(now)},
                         {"event_type", "system"},
                         {"event_id", e.event_id},
                         {"schema_version", 1},
                         {"system",
                          {{"component", "retention"},
                           {"kind", "disk_budget"},
                           {"message", e.signature},
                           {"retention_days", cfg_.days},
                           {"disk_budget_mb", budget_mb},
                           {"store_bytes", bytes},
                           {"events", events},
                           {"events_per_day", per_day},
                           {"days_held", held_days},
                           {"deletes_young_events_from", from}}},
                         {"alert",
                          {{"severity", e.severity},
                           {"signature", e.signature},
                           {"category", "retention"}}}};
  if (!cfg_.school_id.empty()) body["school_id"] = cfg_.school_id;
  e.body = body.dump();
  size_t inserted = 0;
  std::vector<std::string> fresh;
  if (auto s = store_.insert_events({e}, &inserted, &fresh); !s) return s;
  warned_day_ = day;
  if (fresh.empty()) return {};  // already warned today (before a restart)
  {
    std::lock_guard lock(mu_);
    ++c_.warnings;
  }
  if (sink_) sink_({e});
  return {};
}

void Retention::start(double interval_s) {
  thread_ = std::thread([this, interval_s] {
    const auto every = std::chrono::microseconds(static_cast<int64_t>(interval_s * 1e6));
    std::unique_lock lock(stop_mu_);
    while (!stop_) {
      lock.unlock();
      run_once();
      lock.lock();
      stop_cv_.wait_for(lock, every, [this] { return stop_; });
    }
  });
}

void Retention::stop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

RetentionCounters Retention::counters() {
  std::lock_guard lock(mu_);
  return c_;
}

std::string Retention::metrics_text() {
  RetentionCounters c = counters();
  std::ostringstream o;
  auto metric = [&o](const char* name, const char* type, const char* help,
                     const std::vector<std::pair<std::string, int64_t>>& samples) {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
    for (const auto& [labels, v] : samples) o << name << labels << " " << v << "\n";
  };
  auto i = [](uint64_t v) { return static_cast<int64_t>(v); };
  metric("cg_controld_retention_deleted_total", "counter", "events deleted by retention",
         {{"{reason=\"age\"}", i(c.deleted_age)}, {"{reason=\"budget\"}", i(c.deleted_budget)}});
  metric("cg_controld_retention_audit_pruned_total", "counter",
         "audit records pruned behind an anchor (older than retention.days)",
         {{"", i(c.audit_pruned)}});
  metric("cg_controld_retention_passes_total", "counter", "retention passes", {{"", i(c.passes)}});
  metric("cg_controld_retention_errors_total", "counter", "retention passes that failed",
         {{"", i(c.errors)}});
  metric("cg_controld_retention_warnings_total", "counter",
         "budget warning events stored (the budget holds fewer than retention.days)",
         {{"", i(c.warnings)}});
  metric("cg_controld_store_bytes", "gauge", "bytes the store occupies (last retention pass)",
         {{"", c.store_bytes}});
  metric("cg_controld_retention_event_cap", "gauge",
         "events the disk budget holds (-1: budget not reached yet)", {{"", c.event_cap}});
  metric("cg_controld_retention_events_per_day", "gauge",
         "observed event rate (-1: less than an hour of events)", {{"", c.events_per_day}});
  metric("cg_controld_retention_projected_days", "gauge",
         "days of events the disk budget holds at that rate (-1: unknown or no budget)",
         {{"", c.projected_days}});
  metric("cg_controld_retention_young_deletes_from_seconds", "gauge",
         "Unix time from which events younger than retention.days are deleted (0: never)",
         {{"", c.budget_deletes_from_us / 1000000}});
  return o.str();
}

}  // namespace cg::retention

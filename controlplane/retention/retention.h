// Retention of what controld stores: events and audit records are kept `days` (default 180) and
// the events are bounded by a disk budget. One pass (run_once, every `interval` on its own
// thread):
//   1. events older than the horizon are deleted, oldest first, `batch` rows per transaction
//      (ingest waits for at most one batch); audit records older than the horizon are pruned
//      behind an anchor (audit::AuditLog::prune_before); expired sessions are deleted.
//   2. budget: when the store's bytes pass the budget, the bytes per event are estimated and a
//      cap on the number of events (90% of the budget) is set; events beyond the cap are deleted
//      oldest first. The cap is re-estimated only when the store grew past the budget again
//      (PostgreSQL's files keep their high-water size; freed rows are reused, not returned).
//   3. projection: from the events of the last day (or of the time the store covers, if
//      shorter: at least an hour, unless the budget already cut it shorter) the days the budget
//      holds; when that is less than `days`, a
//      warning event (event_type "system") says so and from which date events younger than
//      `days` are deleted. It is stored like any event (event_id "retention-budget-<UTC date>",
//      so at most one per day, also across restarts) and handed to `sink` (the alert engine).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "controlplane/audit/audit_log.h"
#include "controlplane/common/util.h"
#include "controlplane/store/store.h"

namespace cg::retention {

using cp::Status;

struct RetentionConfig {
  uint32_t days = 180;
  uint64_t disk_budget_bytes = 0;  // 0 = no budget
  int batch = 2000;                // events per delete transaction
  int64_t audit_batch = 10000;     // audit records per prune transaction
  std::string school_id;           // stamped on the warning event
};

struct RetentionCounters {
  uint64_t passes = 0, deleted_age = 0, deleted_budget = 0, audit_pruned = 0, warnings = 0,
           errors = 0;
  int64_t store_bytes = 0;       // at the end of the last pass
  int64_t event_cap = -1;        // events the budget holds (-1: budget not reached yet)
  int64_t events_per_day = -1;   // observed (-1: less than an hour of events)
  int64_t projected_days = -1;   // days of events the budget holds (-1: unknown / no budget)
  int64_t budget_deletes_from_us = 0;  // when deleting events younger than `days` starts (0: no)
};

// The warning event after it was newly stored (same signature as events::StoredSink).
using EventSink = std::function<void(const std::vector<store::Event>&)>;

class Retention {
 public:
  Retention(store::Store& store, audit::AuditLog& audit, const cp::Clock& clock,
            RetentionConfig cfg, EventSink sink = {})
      : store_(store), audit_(audit), clock_(clock), cfg_(std::move(cfg)), sink_(std::move(sink)) {}
  ~Retention() { stop(); }
  // Called at the end of every pass (controld: Auth::expire_sessions).
  void set_housekeeping(std::function<void()> f) { housekeeping_ = std::move(f); }

  Status run_once();
  void start(double interval_s);  // a pass at once, then every interval_s
  void stop();
  RetentionCounters counters();
  std::string metrics_text();  // Prometheus lines

 private:
  Status delete_by_age(int64_t horizon_us);
  Status enforce_budget(int64_t bytes, int64_t events, int64_t* deleted);
  Status project_and_warn(int64_t now_us, int64_t bytes, int64_t events);

  store::Store& store_;
  audit::AuditLog& audit_;
  const cp::Clock& clock_;
  RetentionConfig cfg_;
  EventSink sink_;
  std::function<void()> housekeeping_;
  std::mutex run_mu_;  // one pass at a time
  double bytes_per_event_ = 0;  // estimated when the budget was passed
  int64_t bytes_at_estimate_ = 0;
  std::string warned_day_;
  std::mutex mu_;  // counters_
  RetentionCounters c_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cg::retention

// The alert engine's feed: every stored event exactly once, in store row-id order, also across
// a kill -9 of cg-controld. The engine persists, atomically with the alerts an evaluation
// raised, the row id it has evaluated through; AlertFeed reads the events after that id from
// the store (Store::list_events_after) after every committed ingest batch and once at start,
// so an event committed but not yet evaluated when controld died is evaluated after the restart.
// advance() runs on the ingest thread (EventIngest's commit hook) and on whichever thread stored
// an event of its own (retention's warning); one at a time (mutex). Counters: any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "controlplane/store/store.h"

namespace cg::events {

class AlertFeed {
 public:
  // Evaluates `events` (ids ascending) and records that everything through `through` (>= the
  // last id) has been evaluated, in the same transaction as the results (alerting::Service::
  // ingest_stored).
  using Evaluate = std::function<void(const std::vector<store::Event>& events, int64_t through)>;

  AlertFeed(store::Store& store, Evaluate evaluate, int batch = 512)
      : store_(store), evaluate_(std::move(evaluate)), batch_(batch) {}

  // `evaluated`: the engine's persisted progress; -1 when it has none (a new alerting queue):
  // then it starts at the newest stored event — history is not alerted on again.
  cp::Status start(int64_t evaluated);
  // Evaluates every stored event after the cursor; returns how many. The first call after
  // start() is the catch-up (cg-controld: before the ingest starts; counted in caught_up()).
  size_t advance();

  int64_t cursor() const { return cursor_.load(); }
  uint64_t evaluated() const { return evaluated_.load(); }
  uint64_t caught_up() const { return caught_up_.load(); }
  uint64_t store_errors() const { return store_errors_.load(); }
  std::string metrics_text() const;  // Prometheus lines

 private:
  store::Store& store_;
  Evaluate evaluate_;
  int batch_;
  std::mutex mu_;  // one advance() at a time
  bool first_ = true;
  std::atomic<int64_t> cursor_{0};
  std::atomic<uint64_t> evaluated_{0}, caught_up_{0}, store_errors_{0};
};

}  // namespace cg::events

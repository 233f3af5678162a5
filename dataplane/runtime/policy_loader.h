// Live policy load, two-phase, on the control thread (ARCHITECTURE.md "A policy change").
//
//   prepare(source)  compile (through the injected compiler) and build everything the workers
//                    will need — per worker a PolicyBinding (image, rule counters, the
//                    shared rte_acl index) and a QoS plan. May fail; nothing changes.
//   apply(gen)       publish each worker's binding in its slot, then wait until every worker
//                    has passed a quiescent state (rte_rcu_qsbr) — from then on no packet is
//                    judged by the old image — and free the old generation. Cannot fail once
//                    prepared (a worker that never reports within the timeout is an error and
//                    the old generation is kept alive, never freed under a reader).
//
// Workers only do, at a burst boundary: `b = slot.load(acquire); if (b != mine) install(b)`,
// and `rte_rcu_qsbr_quiescent()` once per loop. No lock, no allocation on a worker.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/detect/blocklist.h"
#include "dataplane/enforce/enforcer.h"
#include "dataplane/qos/shaper.h"

struct rte_rcu_qsbr;

namespace cg::runtime {

// Microseconds since t0: the prepare / apply timings that socket answers carry.
inline int64_t micros_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

struct CompiledPolicy {
  std::shared_ptr<const api::PolicyImage> image;  // null when the source has errors
  std::vector<std::string> diagnostics;          // "file:line:col: error: ..." lines
};
// Validates and compiles policy source text; `origin` names it in diagnostics. Injected so the
// runtime does not depend on the YAML compiler (cg-dataplane's main passes the real one).
using PolicyCompiler =
    std::function<CompiledPolicy(const std::string& source, const std::string& origin)>;

// What one worker installs for one generation: the enforcer's binding, the QoS plan (the
// plan holds that worker's token buckets, so each worker has its own) and the blocklist read
// from detect.blocklist.files at prepare (shared by all workers; null = no files).
struct WorkerPolicy {
  std::unique_ptr<enforce::PolicyBinding> binding;
  std::unique_ptr<qos::Plan> qos;
  std::shared_ptr<const detect::Blocklist> blocklist;
};

// Reads the blocklist feeds (detect.blocklist.files) into one frozen list. Strict: a file that
// cannot be read, or any line that is none of the accepted formats, is an error naming
// `FILE:LINE: problem` (the first few); `*out` is null when `files` is empty.
bool load_blocklists(const std::vector<std::string>& files,
                     std::shared_ptr<const detect::Blocklist>* out, std::string* error);

// Waits until every registered reader of `qs` has passed a quiescent state after this call
// (true), or the timeout (false). Null `qs`: no readers, true at once.
bool wait_quiescent(rte_rcu_qsbr* qs, std::chrono::milliseconds timeout);

class PolicyLoader {
 public:
  // `slots[i]` is worker i's binding slot; `qs` has one registered thread per worker (ids
  // 0..n-1), or is null when there are no workers (tests of prepare only).
  // `use_acl`: build the rte_acl index at prepare (needs the EAL; the live dataplane always
  // does, tests without EAL pass false and workers fall back to api::evaluate()).
  PolicyLoader(PolicyCompiler compile, std::vector<std::atomic<WorkerPolicy*>*> slots,
               rte_rcu_qsbr* qs, std::chrono::milliseconds quiescent_timeout,
               bool use_acl = false);
  ~PolicyLoader();

  // Blocklist hot reload: every prepare re-reads these files (load_blocklists) and the list is
  // swapped with the generation at apply; a broken file fails the prepare. `initial` is the
  // list the workers got at start (kept as the active one until the first apply).
  void set_blocklist_files(std::vector<std::string> files,
                           std::shared_ptr<const detect::Blocklist> initial);

  // Control-protocol handlers: {"cmd":"policy.prepare","source":...,"origin":...,
  // "revision":R}, {"cmd":"policy.apply","generation":N}, {"cmd":"policy.status"}.
  // `revision` is cg-controld's commit revision number of this source (0 = not committed
  // through controld, e.g. --policy); it is only reported back (policy.status, stats).
  nlohmann::json prepare(const std::string& source, const std::string& origin,
                         uint64_t revision = 0);
  nlohmann::json apply(uint64_t generation);
  nlohmann::json status() const;
  // Per-rule counters summed over workers (for "stats"): the active generation's plus what the
  // same rule name counted in earlier generations (a flow judged again after a reload counts
  // again in `flows`).
  nlohmann::json rule_counters() const;

  uint64_t generation_of_active() const;
  uint64_t revision_of_active() const;

 private:
  struct Generation {
    uint64_t generation = 0;
    uint64_t revision = 0;  // controld's commit revision (0 = none)
    std::string sha256, origin, loaded_at;
    std::shared_ptr<const api::PolicyImage> image;
    std::unique_ptr<enforce::AclIndex> acl;  // shared by the bindings
    std::shared_ptr<const detect::Blocklist> blocklist;
    std::vector<std::unique_ptr<WorkerPolicy>> workers;  // one per worker
  };
  PolicyCompiler compile_;
  std::vector<std::atomic<WorkerPolicy*>*> slots_;
  rte_rcu_qsbr* qs_;
  std::chrono::milliseconds timeout_;
  bool use_acl_;
  std::unique_ptr<Generation> prepared_, active_;
  // Not freed while workers run: a worker did not report after they were replaced.
  std::vector<std::unique_ptr<Generation>> stuck_;
  std::vector<std::string> blocklist_files_;
  // The blocklist a worker may still hold until its next burst boundary: a worker drops its
  // reference when it installs the next generation, which is after the grace period that freed
  // the generation owning it. Kept one more apply so the last reference is never a worker's.
  std::shared_ptr<const detect::Blocklist> blocklist_lingering_;
  // Per-rule counters of earlier generations by rule name ("default" too), so a rule's counters
  // continue across reloads while the rule keeps its name (control thread only).
  std::map<std::string, enforce::RuleCounters> retired_;
  void retire_counters(const Generation& old);
  uint64_t last_generation_ = 0;
  uint64_t prepares_ok_ = 0, prepares_failed_ = 0, applies_ = 0;
};

}  // namespace cg::runtime

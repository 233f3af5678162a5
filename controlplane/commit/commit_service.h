// Safe policy commits: validate + compile (policies/compiler) → dataplane prepare → apply →
// revision in the store → audit record. `confirm_s` > 0 arms a revert: unless confirm() comes
// before the deadline, tick() pushes the previous revision back (in place, two-phase again).
// The pending state is written to the store BEFORE the dataplane changes, so a controld that
// is killed in the window reverts on its first tick after restart. tick() also re-pushes the
// current revision when the dataplane reports generation 0, another source digest or another
// commit revision (it was restarted, or started with a different --policy). Every push tags the
// prepare with the revision number it is recorded as, so policy.status (and CAMPUSGUARD-MIB's
// cgPolicyRevision) names the commit in force.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controlplane/audit/audit_log.h"
#include "controlplane/common/util.h"
#include "controlplane/dpclient/dataplane_client.h"
#include "controlplane/store/store.h"
#include "dataplane/api/policy_image.h"

namespace cg::commit {

using cp::Status;

struct CommitConfig {
  uint32_t keep_revisions = 1000;
  uint32_t max_confirm_s = 3600;
  std::string zoneinfo;
};

struct ApplyRequest {
  std::string source;
  std::string origin = "policy.yaml";
  std::string comment;
  std::string user;
  uint32_t confirm_s = 0;
};

struct ApplyResult {
  int64_t revision = 0;
  uint64_t generation = 0;
  uint64_t rules = 0;
  int64_t confirm_deadline_us = 0;             // 0 = no confirm pending
  std::vector<std::string> diagnostics;        // compiler / dataplane findings
  int warnings = 0;
};

struct Pending {
  int64_t revision = 0;    // the unconfirmed revision (0 until recorded)
  int64_t revert_to = 0;   // revision pushed back at the deadline
  int64_t deadline_us = 0;
  std::string user;
};

class CommitService {
 public:
  CommitService(store::Store& store, audit::AuditLog& audit, dpclient::DataplaneClient& dp,
                const cp::Clock& clock, CommitConfig cfg)
      : store_(store), audit_(audit), dp_(dp), clock_(clock), cfg_(std::move(cfg)) {}

  // kInvalid (with diagnostics) for a policy with errors; kConflict while a confirm is pending;
  // kUnavailable when the dataplane cannot be reached (nothing changed then).
  Status apply(const ApplyRequest& req, ApplyResult* out);
  Status rollback(int64_t revision, const std::string& user, const std::string& comment,
                  uint32_t confirm_s, ApplyResult* out);
  Status confirm(const std::string& user, int64_t* revision);
  // Reverts an expired pending commit; re-pushes the current revision to a dataplane that lost
  // it. Called every dataplane.reconcile_interval by controld's reconcile thread.
  void tick();
  // Current revision, pending confirm and the dataplane's view, for GET /policy.
  nlohmann::json status_json();
  // The compiled image of the current revision (compiled once per revision; null if none).
  std::shared_ptr<const api::PolicyImage> current_image();

  struct Counters {
    uint64_t applies = 0, apply_failures = 0, invalid = 0, confirms = 0, reverts = 0,
             repushes = 0, dataplane_unreachable = 0;
  };
  Counters counters();

 private:
  // prepare (tagged with commit revision `revision`) + apply in the dataplane.
  Status push(const std::string& source, const std::string& origin, int64_t revision,
              ApplyResult* out);
  Status next_revision(int64_t* number);
  Status commit_locked(const ApplyRequest& req, const std::string& action, ApplyResult* out);
  Status load_pending(Pending* p, bool* found);
  Status save_pending(const Pending& p);
  int64_t current_revision();

  store::Store& store_;
  audit::AuditLog& audit_;
  dpclient::DataplaneClient& dp_;
  const cp::Clock& clock_;
  CommitConfig cfg_;
  std::mutex mu_;
  Counters counters_;
  int64_t image_revision_ = 0;
  std::shared_ptr<const api::PolicyImage> image_;
};

// Unified diff of two texts (line based, LCS); "" when equal.
std::string unified_diff(const std::string& a, const std::string& b, const std::string& name_a,
                         const std::string& name_b);

}  // namespace cg::commit

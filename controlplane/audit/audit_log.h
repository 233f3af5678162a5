// The append-only, hash-chained audit log: every change, login and personal-data query.
// hash(n) = SHA-256 over prev_hash and the record's fields (length-prefixed, so no two records
// serialise alike); record 1 chains from 64 zeros. The newest (seq, hash) is also kept in the
// store's state table as the chain head, so deleting the last records is detected too.
// Retention prunes the oldest records behind an anchor (seq and hash of the last pruned record)
// that an audit.prune record inside the chain confirms; verify starts at the newest anchor.
#pragma once

#include <mutex>
#include <nlohmann/json.hpp>
#include <string>

#include "controlplane/common/util.h"
#include "controlplane/store/store.h"

namespace cg::audit {

using cp::Status;

struct VerifyResult {
  bool ok = true;
  int64_t records = 0;
  int64_t anchor_seq = 0;  // records up to this seq were pruned (0 = none)
  int64_t bad_seq = 0;  // first record that fails (0 = none / the head)
  std::string problem;  // human-readable reason when !ok
};

class AuditLog {
 public:
  AuditLog(store::Store& store, const cp::Clock& clock) : store_(store), clock_(clock) {}

  Status append(const std::string& user, const std::string& action, const std::string& object,
                const nlohmann::json& detail);
  Status verify(VerifyResult* out);
  // Retention: prunes records older than `before_us` (at most `max_records` per call) after
  // verifying the chain; refuses (kInternal) when the chain is broken, so pruning never erases
  // the evidence of tampering. One transaction: anchor, delete, audit.prune record, head.
  Status prune_before(int64_t before_us, int64_t max_records, int64_t* pruned);
  uint64_t appended() const { return appended_; }
  uint64_t failures() const { return failures_; }

  static std::string record_hash(const store::AuditRecord& r);
  static constexpr const char* kGenesis =
      "0000000000000000000000000000000000000000000000000000000000000000";

 private:
  store::Store& store_;
  const cp::Clock& clock_;
  std::mutex mu_;
  uint64_t appended_ = 0;
  uint64_t failures_ = 0;
};

}  // namespace cg::audit

// Quarantine of hosts: `cgctl quarantine add ADDRESS --for 2h --reason TEXT` isolates a host at
// once — in the dataplane (quarantine.set: dropped both ways, whatever the policy says) and on
// the appliance itself (the nftables quarantine sets, controlplane/nft) — lists it with owner,
// reason and expiry, lifts it by itself at expiry, and audits every action (add, remove,
// expire) in the hash-chained audit log.
//
// State: the store's `quarantine` table (SQLite / PostgreSQL) is the truth; the dataplane and
// nftables get the full list on every change, at expiry, at start, and whenever the dataplane's
// quarantine.status disagrees (it restarted). Called by the REST handlers (add / remove / list)
// and controld's reconcile thread (tick). Thread-safe: one mutex around everything.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controlplane/audit/audit_log.h"
#include "controlplane/common/util.h"
#include "controlplane/dpclient/dataplane_client.h"
#include "controlplane/nft/nft.h"
#include "controlplane/store/store.h"

namespace cg::quarantine {

using cp::Status;

// The appliance's own firewall, as the service sees it (RealNft below; a recorder in tests).
class NftSink {
 public:
  virtual ~NftSink() = default;
  virtual Status apply(const std::vector<nft::QuarantineElement>& elements) = 0;
};

// Management-plane protection + quarantine sets through libnftables (one transaction each).
class RealNft final : public NftSink {
 public:
  explicit RealNft(nft::ManagementConfig cfg) : cfg_(std::move(cfg)) {}
  Status apply(const std::vector<nft::QuarantineElement>& elements) override {
    return nft_.apply(cfg_, elements);
  }

 private:
  nft::ManagementConfig cfg_;
  nft::Nftables nft_;
};

struct Limits {
  int64_t min_seconds = 1;
  int64_t max_seconds = 366 * 86400;
  size_t max_entries = 65536;  // the dataplane's limit (dataplane/runtime/quarantine.h)
  size_t max_reason = 512;
};

struct Counters {
  uint64_t added = 0, removed = 0, expired = 0;
  uint64_t dataplane_pushes = 0, dataplane_push_failures = 0;
  uint64_t nft_applies = 0, nft_failures = 0;
  uint64_t active = 0;
};

class Service {
 public:
  // `nft` may be null (management.nftables: false).
  Service(store::Store& store, audit::AuditLog& audit, dpclient::DataplaneClient& dp,
          const cp::Clock& clock, NftSink* nft, Limits limits = {});

  // Loads the table, expires what ran out while controld was away, pushes to both sides.
  Status start();
  // Adds or renews (an existing entry gets the new owner, reason and expiry). kInvalid for a
  // bad address / duration / reason. The entry is stored and audited even when the dataplane
  // cannot be reached (`pushed` says so; the reconcile tick retries).
  Status add(const std::string& address, int64_t seconds, const std::string& reason,
             const std::string& user, store::QuarantineEntry* out, nlohmann::json* pushed);
  Status remove(const std::string& address, const std::string& user, nlohmann::json* pushed);
  std::vector<store::QuarantineEntry> list();
  // Expiry (audited as user `controld`) and reconcile with the dataplane. Returns the number
  // of entries that expired.
  size_t tick();
  Counters counters();

  static nlohmann::json to_json(const store::QuarantineEntry& e, int64_t now_us);

 private:
  nlohmann::json push_locked();  // {"dataplane": ok/err, "nft": ok/err/"off"}
  size_t expire_locked(int64_t now);

  store::Store& store_;
  audit::AuditLog& audit_;
  dpclient::DataplaneClient& dp_;
  const cp::Clock& clock_;
  NftSink* nft_;
  Limits limits_;
  std::mutex mu_;
  std::map<std::string, store::QuarantineEntry> entries_;  // by canonical address
  bool dataplane_in_sync_ = false;
  Counters c_;
};

// "90s", "15m", "2h", "7d", "1h30m" -> seconds; false for anything else.
bool parse_duration(const std::string& text, int64_t* seconds);

}  // namespace cg::quarantine

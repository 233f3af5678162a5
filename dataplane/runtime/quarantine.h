// Quarantine: the set of addresses / prefixes the dataplane isolates completely, whatever the
// policy or detect.blocklist.action say. Owned by controld (cgctl quarantine ...), which pushes
// the whole current list with `quarantine.set` on every change, on expiry and after it notices
// a dataplane restart (protocol: /work/notes/protocol.md, dataplane/main/README.md).
//
// Control thread: set() parses the list strictly (any bad element -> error, nothing changes),
// builds one frozen detect::Blocklist (its address matcher: sorted, merged 128-bit ranges),
// publishes it in every worker's slot and waits with rte_rcu_qsbr until every worker has
// passed a quiescent state; then the previous set is freed. An empty list publishes null (no
// per-packet cost). Workers: `q = slot.load(acquire)` at a burst boundary and
// Pipeline::install_quarantine(q); the pipeline drops packets from or to a member before the
// flow table (drop_quarantine) and raises a rate-limited `quarantine` event.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "dataplane/detect/blocklist.h"

struct rte_rcu_qsbr;

namespace cg::runtime {

// Parsed quarantine list: canonical texts ("10.1.2.3", "10.9.0.0/24", "2001:db8::7"; host bits
// cleared, duplicates removed, sorted) and the frozen matcher (null when the list is empty).
struct QuarantineList {
  std::vector<std::string> addresses;
  std::unique_ptr<detect::Blocklist> matcher;
};

inline constexpr size_t kMaxQuarantineEntries = 65536;

// Parses a JSON array of address / CIDR strings. False with `error` ("bad address 'x'", "not
// an array", "more than 65536 entries") on the first bad element.
bool parse_quarantine(const nlohmann::json& addresses, QuarantineList* out, std::string* error);

class QuarantineLoader {
 public:
  // `slots[i]` is worker i's quarantine slot; `qs` as for PolicyLoader (null: no workers).
  QuarantineLoader(std::vector<std::atomic<const detect::Blocklist*>*> slots, rte_rcu_qsbr* qs,
                   std::chrono::milliseconds quiescent_timeout);
  ~QuarantineLoader();

  // {"cmd":"quarantine.set","addresses":[...]} -> {"ok":true,"entries":N,"apply_us":T}
  nlohmann::json set(const nlohmann::json& req);
  // {"cmd":"quarantine.status"} -> {"ok":true,"entries":N,"addresses":[...], counters}
  nlohmann::json status() const;
  size_t entries() const { return active_ ? active_->addresses.size() : 0; }

 private:
  std::vector<std::atomic<const detect::Blocklist*>*> slots_;
  rte_rcu_qsbr* qs_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<QuarantineList> active_;
  std::vector<std::unique_ptr<QuarantineList>> stuck_;  // a worker did not report: never freed
  uint64_t sets_ok_ = 0, sets_failed_ = 0;
};

}  // namespace cg::runtime

// In-memory dataplane for unit tests: keeps generation / sha256 / the prepared slot like the
// real control thread does, can be "restarted" (back to generation 0), made unreachable, or made
// to reject the next prepare.
#pragma once

#include <mutex>

#include "controlplane/common/util.h"
#include "controlplane/dpclient/dataplane_client.h"

namespace cg::dpclient {

class FakeDataplane final : public DataplaneClient {
 public:
  Status policy_status(PolicyStatus* out) override {
    std::lock_guard lock(mu_);
    if (down_) return cp::unavailable("fake dataplane down");
    *out = {generation_, sha_, origin_, 1, revision_};
    return {};
  }
  Status policy_prepare(const std::string& source, const std::string& origin, uint64_t revision,
                        Prepared* out) override {
    std::lock_guard lock(mu_);
    if (down_) return cp::unavailable("fake dataplane down");
    if (reject_next_) {
      reject_next_ = false;
      out->diagnostics = {origin + ":1:1: error: rejected by the fake"};
      return cp::invalid("dataplane rejected the policy");
    }
    prepared_gen_ = generation_ + 1;
    prepared_src_ = source;
    prepared_origin_ = origin;
    prepared_revision_ = revision;
    out->generation = prepared_gen_;
    out->rules = 1;
    return {};
  }
  Status policy_apply(uint64_t generation, uint64_t* previous) override {
    std::lock_guard lock(mu_);
    if (down_) return cp::unavailable("fake dataplane down");
    if (generation != prepared_gen_ || prepared_gen_ == 0)
      return cp::conflict("no such prepared generation");
    if (previous) *previous = generation_;
    generation_ = prepared_gen_;
    sha_ = cp::sha256_hex(prepared_src_);
    source_ = prepared_src_;
    origin_ = prepared_origin_;
    revision_ = prepared_revision_;
    prepared_gen_ = 0;
    ++applies_;
    return {};
  }
  Status request(const nlohmann::json& req, nlohmann::json* resp) override {
    std::lock_guard lock(mu_);
    if (down_) return cp::unavailable("fake dataplane down");
    *resp = {{"v", 1}, {"ok", true}, {"cmd", req.value("cmd", "")}};
    // quarantine.set / quarantine.status as the real one (no address check: the callers'
    // parsing is tested against the real dataplane).
    if (req.value("cmd", "") == "quarantine.set") {
      quarantine_ = req.value("addresses", nlohmann::json::array());
      ++quarantine_sets_;
      (*resp)["entries"] = quarantine_.size();
    } else if (req.value("cmd", "") == "quarantine.status") {
      (*resp)["entries"] = quarantine_.size();
      (*resp)["addresses"] = quarantine_;
    }
    return {};
  }
  nlohmann::json quarantine() {
    std::lock_guard lock(mu_);
    return quarantine_;
  }
  int quarantine_sets() {
    std::lock_guard lock(mu_);
    return quarantine_sets_;
  }

  void restart() {
    std::lock_guard lock(mu_);
    generation_ = 0;
    revision_ = 0;
    sha_.clear();
    source_.clear();
    prepared_gen_ = 0;
    quarantine_ = nlohmann::json::array();
  }
  void set_down(bool d) {
    std::lock_guard lock(mu_);
    down_ = d;
  }
  void reject_next_prepare() {
    std::lock_guard lock(mu_);
    reject_next_ = true;
  }
  std::string source() {
    std::lock_guard lock(mu_);
    return source_;
  }
  uint64_t generation() {
    std::lock_guard lock(mu_);
    return generation_;
  }
  uint64_t revision() {
    std::lock_guard lock(mu_);
    return revision_;
  }
  int applies() {
    std::lock_guard lock(mu_);
    return applies_;
  }

 private:
  std::mutex mu_;
  bool down_ = false, reject_next_ = false;
  uint64_t generation_ = 0, prepared_gen_ = 0, revision_ = 0, prepared_revision_ = 0;
  std::string sha_, source_, origin_, prepared_src_, prepared_origin_;
  int applies_ = 0;
  nlohmann::json quarantine_ = nlohmann::json::array();
  int quarantine_sets_ = 0;
};

}  // namespace cg::dpclient

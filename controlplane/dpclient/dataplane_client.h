// The seam between controld and cg-dataplane's control socket (protocol v1, newline-delimited
// JSON; see dataplane/runtime/control_server.h). SocketDataplaneClient opens one connection per
// request; FakeDataplane (fake_dataplane.h) is the in-memory stand-in for unit tests.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "controlplane/common/status.h"

namespace cg::dpclient {

using cp::Status;

struct PolicyStatus {
  uint64_t generation = 0;  // 0 = no policy loaded (everything passes)
  std::string sha256;       // of the source text the dataplane compiled
  std::string origin;
  uint64_t rules = 0;
  uint64_t revision = 0;  // controld's commit revision the active policy was pushed as (0 = none)
};

struct Prepared {
  uint64_t generation = 0;
  uint64_t rules = 0;
  std::vector<std::string> diagnostics;  // on failure: file:line:col: ... lines
};

class DataplaneClient {
 public:
  virtual ~DataplaneClient() = default;
  virtual Status policy_status(PolicyStatus* out) = 0;
  // Phase 1: compile + prepare in the dataplane; nothing changes for traffic. kInvalid with
  // diagnostics when the dataplane rejects the text, kUnavailable when it cannot be reached.
  // `revision` is the commit revision number this source will be recorded as; the dataplane
  // reports it back in policy.status (and cg-agentx in CAMPUSGUARD-MIB).
  virtual Status policy_prepare(const std::string& source, const std::string& origin,
                                uint64_t revision, Prepared* out) = 0;
  // Phase 2: swap to the prepared generation (returns once no worker uses the old image).
  virtual Status policy_apply(uint64_t generation, uint64_t* previous) = 0;
  // Any other request (stats, health) as raw JSON.
  virtual Status request(const nlohmann::json& req, nlohmann::json* resp) = 0;
};

class SocketDataplaneClient final : public DataplaneClient {
 public:
  SocketDataplaneClient(std::string socket_path, int timeout_ms)
      : path_(std::move(socket_path)), timeout_ms_(timeout_ms) {}
  Status policy_status(PolicyStatus* out) override;
  Status policy_prepare(const std::string& source, const std::string& origin, uint64_t revision,
                        Prepared* out) override;
  Status policy_apply(uint64_t generation, uint64_t* previous) override;
  Status request(const nlohmann::json& req, nlohmann::json* resp) override;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int timeout_ms_;
};

}  // namespace cg::dpclient

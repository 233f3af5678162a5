// FakeSession: an in-memory agent for unit tests and the fuzz target. It serves a sorted OID
// tree with real GET / walk semantics and can inject failures. It is a test double, never used
// by cgctl or controld against a device.
#pragma once

#include <map>
#include <set>
#include <string_view>

#include "snmp/session/session.h"

namespace cg::snmp {

// snmpsim's .snmprec text: "OID|TYPE|VALUE" per line; TYPE is the BER tag number (2, 4, 5, 6,
// 64, 65, 66, 67, 68, 70) optionally followed by 'x' for a hex-encoded value. Lines that do not
// parse are counted in *bad_lines and skipped.
std::map<Oid, Value> parse_snmprec(std::string_view text, size_t* bad_lines);

class FakeSession final : public SnmpSession {
 public:
  explicit FakeSession(std::map<Oid, Value> tree) : tree_(std::move(tree)) {}
  FakeSession() = default;

  void set(const Oid& oid, Value v) { tree_[oid] = std::move(v); }
  // Every request whose walk root / GET OID starts with `prefix` fails with `status`.
  void fail_under(const Oid& prefix, Status status) { failures_[prefix] = std::move(status); }
  void fail_everything(Status status) { fail_all_ = std::move(status); }

  Result<std::vector<VarBind>> get(const std::vector<Oid>& oids) override;
  Result<std::vector<VarBind>> walk(const Oid& root) override;
  const SessionCounters& counters() const override { return counters_; }
  std::string peer() const override { return "fake:161"; }
  // Walk roots requested so far (to assert what discovery asked for).
  const std::vector<Oid>& walked() const { return walked_; }

 private:
  const Status* failure_for(const Oid& oid) const;

  std::map<Oid, Value> tree_;
  std::map<Oid, Status> failures_;
  Status fail_all_;
  std::vector<Oid> walked_;
  SessionCounters counters_;
};

}  // namespace cg::snmp

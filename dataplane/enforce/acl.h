// The rte_acl stage of policy evaluation: built once per image at prepare time (control
// thread), read by every worker (rte_acl_classify is read-only on a built context).
//
// Rules split in two:
//   unconditional: no schedule, no app, no except-app — decided by L3/L4/zone fields alone.
//     They go into rte_acl contexts (IPv4 and IPv6), priority by rule order, so one lookup
//     gives the first unconditional rule that matches the flow as opened.
//   conditional: everything else (usually a handful). Checked in order, as api::evaluate does,
//     but only those placed before that first unconditional match.
// The answer equals api::evaluate() for every flow (tests compare the two); the cost per
// decision is one ACL lookup plus the conditional rules in front of the match.
//
// A rule with lists (zones, prefixes, ports, protocols) becomes the cartesian product of ACL
// rules; more than kMaxAclRules in one image is refused at prepare time.
// Needs the DPDK EAL (rte_acl allocates with rte_malloc): `build` fails without it, and callers
// that run without EAL (--replay, unit tests of other modules) use api::evaluate().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/api/policy_image.h"

struct rte_acl_ctx;

namespace cg::enforce {

class AclIndex {
 public:
  static constexpr size_t kMaxAclRules = 1'000'000;

  // Builds the contexts for `image` (which must outlive the index). Null with `error` set when
  // the EAL is not initialised, memory is short or the expansion exceeds kMaxAclRules.
  static std::unique_ptr<AclIndex> build(const api::PolicyImage& image, std::string* error);
  ~AclIndex();
  AclIndex(const AclIndex&) = delete;
  AclIndex& operator=(const AclIndex&) = delete;

  // First unconditional rule whose L3/L4/zone conditions match the flow as opened, or
  // rules.size() when none does.
  uint32_t first_unconditional(const api::FlowFacts& f) const noexcept;
  // api::evaluate() with the ACL doing the unconditional rules.
  api::Verdict evaluate(const api::FlowFacts& f, uint64_t active_schedules) const noexcept;

  size_t acl_rules() const { return acl_rules_; }
  size_t conditional_rules() const { return conditional_.size(); }

 private:
  explicit AclIndex(const api::PolicyImage& image) : image_(image) {}

  const api::PolicyImage& image_;
  rte_acl_ctx* v4_ = nullptr;
  rte_acl_ctx* v6_ = nullptr;
  std::vector<uint32_t> conditional_;  // rule indexes, ascending
  size_t acl_rules_ = 0;
};

}  // namespace cg::enforce

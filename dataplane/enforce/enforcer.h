// Policy enforcement on the fast path: judges each flow against the active PolicyImage and
// caches the verdict in the flow (a 4-byte extension slot). A flow is (re)judged when it is
// new, when its application becomes known (or the policy's inspection budget runs out), when
// the image changes and when the set of active schedules changes — never per packet otherwise.
//
// This first version evaluates rules with api::evaluate() (the image's reference semantics)
// once per flow decision; the rte_acl prepare/lookup stage that makes 10,000-rule policies
// cheap is the next step and must give the same answers.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/api/policy_image.h"
#include "dataplane/enforce/acl.h"
#include "dataplane/classify/classifier.h"
#include "dataplane/flow/flow_table.h"

namespace cg::enforce {

struct FlowVerdict {
  uint16_t rule;  // rule index + 1; 0 = the default action
  uint8_t flags;
  uint8_t epoch;  // low byte of the enforcer's epoch when judged
  static constexpr uint8_t kJudged = 0x01;
  static constexpr uint8_t kDeny = 0x02;
  static constexpr uint8_t kPending = 0x04;  // an app rule could match: waiting for nDPI
  static constexpr uint8_t kReset = 0x08;
};

enum class Counter : uint8_t {
  kFlowsJudged,
  kFlowsDenied,
  kPacketsDenied,
  kPacketsPendingDropped,
  kCount
};
inline constexpr size_t kCounterCount = static_cast<size_t>(Counter::kCount);
std::string_view counter_name(Counter c);

struct RuleCounters {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t flows = 0;
};

// One image as one worker's enforcer uses it: the image plus that worker's per-rule counters.
// Built (allocated) by whoever prepares the image — the control thread, or set_image() at init —
// so installing it on a worker is a pointer swap. Counters restart with every binding.
struct PolicyBinding {
  explicit PolicyBinding(std::shared_ptr<const api::PolicyImage> im)
      : image(std::move(im)), rules(image ? image->rules.size() : 0) {}
  std::shared_ptr<const api::PolicyImage> image;
  std::vector<RuleCounters> rules;
  RuleCounters default_rule;
  const AclIndex* acl = nullptr;  // shared by the workers' bindings; null = api::evaluate()
};

class Enforcer {
 public:
  // Registers the verdict slot; call before the flow table is built.
  bool attach(flow::ExtRegistry& registry);
  // Installs an image (allocates its binding: init time, replay and tests only).
  void set_image(std::shared_ptr<const api::PolicyImage> image);
  // Installs a binding prepared elsewhere (null = no policy). No allocation: a worker calls it
  // at a burst boundary; the caller keeps `b` alive until the worker is quiescent after the
  // next install (RCU).
  void install(PolicyBinding* b) noexcept;
  const api::PolicyImage* image() const { return image_; }
  const PolicyBinding* binding() const { return binding_; }
  // Schedules are evaluated at packet time + offset (tests of timetables on live traffic).
  void set_clock_offset_ns(int64_t off) noexcept {
    if (off != clock_offset_ns_) {
      clock_offset_ns_ = off;
      schedule_minute_ = -1;
    }
  }

  // Judges one packet of `e` (arrived at `now_ns`, `bytes` long). `classifier` may be null.
  // Returns true when the packet may pass.
  bool judge(flow::FlowEntry& e, const classify::Classifier* classifier, uint32_t bytes,
             uint64_t now_ns);

  // At flow end (classification finalised): decide flows still waiting for their app.
  void settle(flow::FlowEntry& e, const classify::Classifier* classifier, uint64_t now_ns);

  const FlowVerdict& slot(const flow::FlowEntry& e) const {
    return *flow::ExtRegistry::get<FlowVerdict>(const_cast<flow::FlowEntry&>(e), offset_);
  }
  // "allow" / "deny" and the rule name ("default" when no rule matched).
  std::string verdict_name(const FlowVerdict& v) const;
  std::string rule_name(const FlowVerdict& v) const;
  // Per-rule counters of the installed binding (empty without a policy).
  const std::vector<RuleCounters>& rule_counters() const {
    return binding_ ? binding_->rules : kNoRules;
  }
  const RuleCounters& default_counters() const {
    return binding_ ? binding_->default_rule : kNoDefault;
  }
  uint64_t counter(Counter c) const { return counters_[static_cast<size_t>(c)]; }
  const std::array<uint64_t, kCounterCount>& counters() const { return counters_; }

 private:
  api::FlowFacts facts(const flow::FlowEntry& e, const classify::Classifier* c,
                       char* host_buf) const;
  uint16_t zone_of(const std::array<uint8_t, 16>& addr, uint16_t vlan, bool inside) const;
  void refresh_schedules(uint64_t now_ns);
  // Evaluates the flow when its cached verdict is stale; returns the slot.
  FlowVerdict& decide(flow::FlowEntry& e, const classify::Classifier* c, uint64_t now_ns);
  void inc(Counter c, uint64_t by = 1) { counters_[static_cast<size_t>(c)] += by; }

  RuleCounters& counters_of(uint16_t rule) {
    return rule ? binding_->rules[rule - 1] : binding_->default_rule;
  }

  static inline const std::vector<RuleCounters> kNoRules{};
  static inline const RuleCounters kNoDefault{};
  std::unique_ptr<PolicyBinding> owned_;  // set_image() only
  PolicyBinding* binding_ = nullptr;
  const api::PolicyImage* image_ = nullptr;
  int offset_ = -1;
  uint32_t epoch_ = 1;
  uint64_t schedule_mask_ = 0;
  int64_t schedule_minute_ = -1;
  int64_t clock_offset_ns_ = 0;
  std::array<uint64_t, kCounterCount> counters_{};
};

}  // namespace cg::enforce

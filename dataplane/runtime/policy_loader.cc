#include "dataplane/runtime/policy_loader.h"

#include <openssl/evp.h>
#include <rte_rcu_qsbr.h>

#include <ctime>
#include <thread>

namespace cg::runtime {
namespace {

std::string sha256_hex(const std::string& text) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), md, &n, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string now_rfc3339() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::json fail(const std::string& error) { return {{"ok", false}, {"error", error}}; }

}  // namespace

bool load_blocklists(const std::vector<std::string>& files,
                     std::shared_ptr<const detect::Blocklist>* out, std::string* error) {
  out->reset();
  if (files.empty()) return true;
  auto list = std::make_shared<detect::Blocklist>();
  detect::BlocklistStats st;
  for (const auto& f : files)
    if (!list->add_file(f, &st, error)) return false;
  if (st.rejected) {
    *error = std::to_string(st.rejected) + " bad line(s): ";
    for (size_t i = 0; i < st.diagnostics.size() && i < 5; ++i)
      *error += (i ? "; " : "") + st.diagnostics[i];
    return false;
  }
  list->finalize();
  *out = std::move(list);
  return true;
}

bool wait_quiescent(rte_rcu_qsbr* qs, std::chrono::milliseconds timeout) {
  if (!qs) return true;
  uint64_t token = rte_rcu_qsbr_start(qs);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (rte_rcu_qsbr_check(qs, token, false) == 0) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

PolicyLoader::PolicyLoader(PolicyCompiler compile,
                           std::vector<std::atomic<WorkerPolicy*>*> slots,
                           rte_rcu_qsbr* qs, std::chrono::milliseconds quiescent_timeout,
                           bool use_acl)
    : compile_(std::move(compile)), slots_(std::move(slots)), qs_(qs),
      timeout_(quiescent_timeout), use_acl_(use_acl) {}

// Workers have stopped by now (the runtime joins them first): nothing reads any binding, the
// stuck generations included.
PolicyLoader::~PolicyLoader() = default;

nlohmann::json PolicyLoader::prepare(const std::string& source, const std::string& origin,
                                     uint64_t revision) {
  auto t0 = std::chrono::steady_clock::now();
  if (!compile_) return fail("this dataplane has no policy compiler");
  CompiledPolicy c = compile_(source, origin);
  if (!c.image) {
    ++prepares_failed_;
    nlohmann::json r = fail(origin + ": policy has errors; nothing changed");
    r["diagnostics"] = c.diagnostics;
    return r;
  }
  auto g = std::make_unique<Generation>();
  g->generation = last_generation_ + 1;
  g->sha256 = sha256_hex(source);
  g->origin = origin;
  g->revision = revision;
  g->image = c.image;
  auto t_acl = std::chrono::steady_clock::now();
  if (use_acl_) {
    std::string err;
    g->acl = enforce::AclIndex::build(*g->image, &err);
    if (!g->acl) {
      ++prepares_failed_;
      return fail(origin + ": cannot build the rule index: " + err + "; nothing changed");
    }
  }
  int64_t acl_us = micros_since(t_acl);
  auto t_bl = std::chrono::steady_clock::now();
  {
    std::string err;
    if (!load_blocklists(blocklist_files_, &g->blocklist, &err)) {
      ++prepares_failed_;
      return fail("detect.blocklist.files: " + err + "; nothing changed");
    }
  }
  int64_t blocklist_us = micros_since(t_bl);
  g->workers.reserve(slots_.size());
  for (size_t i = 0; i < slots_.size(); ++i) {
    auto w = std::make_unique<WorkerPolicy>();
    w->binding = std::make_unique<enforce::PolicyBinding>(c.image);
    w->binding->acl = g->acl.get();
    w->qos = qos::prepare(c.image);
    w->blocklist = g->blocklist;
    g->workers.push_back(std::move(w));
  }
  ++last_generation_;
  ++prepares_ok_;
  prepared_ = std::move(g);  // replaces an unapplied one
  return {{"ok", true},
          {"generation", prepared_->generation},
          {"revision", prepared_->revision},
          {"rules", prepared_->image->rules.size()},
          {"warnings", c.diagnostics},
          {"acl_rules", prepared_->acl ? prepared_->acl->acl_rules() : 0},
          {"acl_build_us", acl_us},
          {"blocklist_entries", prepared_->blocklist ? prepared_->blocklist->address_ranges() +
                                                           prepared_->blocklist->domain_count()
                                                     : 0},
          {"blocklist_us", blocklist_us},
          {"prepare_us", micros_since(t0)}};
}

void PolicyLoader::set_blocklist_files(std::vector<std::string> files,
                                       std::shared_ptr<const detect::Blocklist> initial) {
  blocklist_files_ = std::move(files);
  blocklist_lingering_ = std::move(initial);
}

nlohmann::json PolicyLoader::apply(uint64_t generation) {
  auto t0 = std::chrono::steady_clock::now();
  if (!prepared_)
    return fail("policy.apply: nothing prepared (send policy.prepare first)");
  if (prepared_->generation != generation)
    return fail("policy.apply: generation " + std::to_string(generation) +
                " is not the prepared one (" + std::to_string(prepared_->generation) + ")");
  for (size_t i = 0; i < slots_.size(); ++i)
    slots_[i]->store(prepared_->workers[i].get(), std::memory_order_release);
  uint64_t previous = generation_of_active();
  std::unique_ptr<Generation> old = std::move(active_);
  active_ = std::move(prepared_);
  active_->loaded_at = now_rfc3339();
  ++applies_;
  if (!wait_quiescent(qs_, timeout_)) {
    // The new image is published; a worker has not confirmed it let go of the old one. Keep
    // the old generation alive forever rather than free it under a reader.
    if (old) stuck_.push_back(std::move(old));
    return {{"ok", false},
            {"generation", active_->generation},
            {"error", "policy.apply: published, but a worker did not pass a quiescent state "
                      "within " + std::to_string(timeout_.count()) + " ms"}};
  }
  // A worker may still hold the old generation's blocklist until its next burst boundary; keep
  // it until the next apply (whose grace period comes after that boundary), so a worker never
  // drops the last reference. The one kept before is held by nobody now.
  nlohmann::json answer = {{"ok", true},
                           {"generation", active_->generation},
                           {"previous", previous},
                           {"apply_us", micros_since(t0)}};
  if (old) {
    blocklist_lingering_ = old->blocklist;
    retire_counters(*old);  // no worker writes the old bindings' counters any more
  }
  return answer;
}

uint64_t PolicyLoader::generation_of_active() const { return active_ ? active_->generation : 0; }
uint64_t PolicyLoader::revision_of_active() const { return active_ ? active_->revision : 0; }

nlohmann::json PolicyLoader::status() const {
  nlohmann::json r = {{"ok", true},
                      {"generation", generation_of_active()},
                      {"revision", revision_of_active()},
                      {"prepared", prepared_ ? prepared_->generation : 0},
                      {"prepares_ok", prepares_ok_},
                      {"prepares_failed", prepares_failed_},
                      {"applies", applies_}};
  if (active_) {
    r["sha256"] = active_->sha256;
    r["origin"] = active_->origin;
    r["loaded_at"] = active_->loaded_at;
    r["rules"] = active_->image->rules.size();
    r["school"] = active_->image->school_id;
  }
  return r;
}

void PolicyLoader::retire_counters(const Generation& old) {
  std::map<std::string, enforce::RuleCounters> next;
  auto carry = [&](const std::string& name, auto get) {
    enforce::RuleCounters sum;
    if (auto it = retired_.find(name); it != retired_.end()) sum = it->second;
    for (const auto& w : old.workers) {
      const enforce::RuleCounters& c = get(*w->binding);
      sum.packets += c.packets;
      sum.bytes += c.bytes;
      sum.flows += c.flows;
    }
    next[name] = sum;
  };
  if (old.image)
    for (size_t i = 0; i < old.image->rules.size(); ++i)
      carry(old.image->rules[i].name,
            [i](const enforce::PolicyBinding& bd) -> const enforce::RuleCounters& {
              return bd.rules[i];
            });
  carry("default", [](const enforce::PolicyBinding& bd) -> const enforce::RuleCounters& {
    return bd.default_rule;
  });
  // Only names the new generation still has: the map stays as small as the policy.
  retired_.clear();
  retired_["default"] = next["default"];
  if (active_ && active_->image)
    for (const auto& r : active_->image->rules)
      if (auto it = next.find(r.name); it != next.end()) retired_.insert(*it);
}

nlohmann::json PolicyLoader::rule_counters() const {
  nlohmann::json rules = nlohmann::json::array();
  if (!active_) return rules;
  auto row = [&](const std::string& name, auto get) {
    uint64_t p = 0, b = 0, f = 0;
    if (auto it = retired_.find(name); it != retired_.end()) {
      p = it->second.packets;
      b = it->second.bytes;
      f = it->second.flows;
    }
    for (const auto& w : active_->workers) {
      const enforce::RuleCounters& c = get(*w->binding);
      p += __atomic_load_n(&c.packets, __ATOMIC_RELAXED);
      b += __atomic_load_n(&c.bytes, __ATOMIC_RELAXED);
      f += __atomic_load_n(&c.flows, __ATOMIC_RELAXED);
    }
    rules.push_back({{"rule", name}, {"packets", p}, {"bytes", b}, {"flows", f}});
  };
  const auto& im = *active_->image;
  for (size_t i = 0; i < im.rules.size(); ++i)
    row(im.rules[i].name, [i](const enforce::PolicyBinding& bd) -> const enforce::RuleCounters& {
      return bd.rules[i];
    });
  row("default", [](const enforce::PolicyBinding& bd) -> const enforce::RuleCounters& {
    return bd.default_rule;
  });
  return rules;
}

}  // namespace cg::runtime

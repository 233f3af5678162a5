#include "controlplane/commit/commit_service.h"

#include "policies/compiler/policy.h"

namespace cg::commit {
namespace {
constexpr const char* kCurrentKey = "policy.current";
constexpr const char* kPendingKey = "policy.pending";
constexpr int64_t kUs = 1000000;
}  // namespace

int64_t CommitService::current_revision() {
  std::string v;
  bool found = false;
  if (!store_.get_state(kCurrentKey, &v, &found) || !found) return 0;
  return std::strtoll(v.c_str(), nullptr, 10);
}

Status CommitService::load_pending(Pending* p, bool* found) {
  std::string v;
  if (auto s = store_.get_state(kPendingKey, &v, found); !s || !*found) return s;
  auto j = nlohmann::json::parse(v, nullptr, false);
  if (!j.is_object()) return cp::internal("corrupt pending-confirm state");
  p->revision = j.value("revision", int64_t{0});
  p->revert_to = j.value("revert_to", int64_t{0});
  p->deadline_us = j.value("deadline_us", int64_t{0});
  p->user = j.value("user", "");
  return {};
}

Status CommitService::save_pending(const Pending& p) {
  nlohmann::json j = {{"revision", p.revision},
                      {"revert_to", p.revert_to},
                      {"deadline_us", p.deadline_us},
                      {"user", p.user}};
  return store_.put_state(kPendingKey, j.dump());
}

Status CommitService::next_revision(int64_t* number) {
  std::vector<store::Revision> newest;
  if (auto s = store_.list_revisions(1, &newest); !s) return s;
  *number = newest.empty() ? 1 : newest[0].number + 1;
  return {};
}

Status CommitService::push(const std::string& source, const std::string& origin,
                           int64_t revision, ApplyResult* out) {
  dpclient::Prepared prep;
  if (auto s = dp_.policy_prepare(source, origin, static_cast<uint64_t>(revision), &prep); !s) {
    if (s.code() == cp::Code::kUnavailable) ++counters_.dataplane_unreachable;
    if (out) out->diagnostics.insert(out->diagnostics.end(), prep.diagnostics.begin(),
                                     prep.diagnostics.end());
    return s;
  }
  uint64_t previous = 0;
  if (auto s = dp_.policy_apply(prep.generation, &previous); !s) return s;
  if (out) {
    out->generation = prep.generation;
    out->rules = prep.rules;
  }
  return {};
}

Status CommitService::commit_locked(const ApplyRequest& req, const std::string& action,
                                    ApplyResult* out) {
  policy::CompileOptions opt;
  opt.zoneinfo_dir = cfg_.zoneinfo;
  auto compiled = policy::compile_policy(req.source, req.origin, opt);
  for (const auto& d : compiled.diagnostics) out->diagnostics.push_back(policy::format_diagnostic(d));
  out->warnings = compiled.warning_count();
  if (!compiled.ok()) {
    ++counters_.invalid;
    return cp::invalid(req.origin + ": " + std::to_string(compiled.error_count()) +
                       " error(s), nothing applied");
  }
  bool pending_found = false;
  Pending pending;
  if (auto s = load_pending(&pending, &pending_found); !s) return s;
  if (pending_found)
    return cp::conflict("revision " + std::to_string(pending.revision) +
                        " awaits confirmation; confirm it or let it revert first");
  const int64_t previous = current_revision();
  if (req.confirm_s > 0) {
    if (req.confirm_s > cfg_.max_confirm_s)
      return cp::invalid("confirm window longer than policy.max_confirm (" +
                         std::to_string(cfg_.max_confirm_s) + " s)");
    if (previous == 0) return cp::invalid("--confirm needs a previous revision to revert to");
    pending = {0, previous, clock_.now_us() + static_cast<int64_t>(req.confirm_s) * kUs,
               req.user};
    if (auto s = save_pending(pending); !s) return s;  // before the dataplane changes
  }
  // The number add_revision will give (the store's highest + 1; only this service adds
  // revisions, under mu_), so the dataplane can report which commit it enforces.
  int64_t number = 0;
  if (auto s = next_revision(&number); !s) {
    if (req.confirm_s > 0) store_.delete_state(kPendingKey);
    return s;
  }
  if (auto s = push(req.source, req.origin, number, out); !s) {
    ++counters_.apply_failures;
    if (req.confirm_s > 0) store_.delete_state(kPendingKey);
    return s;
  }
  store::Revision rev;
  rev.created_us = clock_.now_us();
  rev.user = req.user;
  rev.comment = req.comment;
  rev.action = action;
  rev.origin = req.origin;
  rev.sha256 = cp::sha256_hex(req.source);
  rev.generation = out->generation;
  rev.source = req.source;
  if (auto s = store_.add_revision(&rev); !s) return s;
  store_.prune_revisions(static_cast<int>(cfg_.keep_revisions));
  if (auto s = store_.put_state(kCurrentKey, std::to_string(rev.number)); !s) return s;
  out->revision = rev.number;
  if (req.confirm_s > 0) {
    pending.revision = rev.number;
    if (auto s = save_pending(pending); !s) return s;
    out->confirm_deadline_us = pending.deadline_us;
  }
  ++counters_.applies;
  audit_.append(req.user, "policy." + action, "revision " + std::to_string(rev.number),
                {{"revision", rev.number},
                 {"previous", previous},
                 {"generation", out->generation},
                 {"sha256", rev.sha256},
                 {"origin", req.origin},
                 {"comment", req.comment},
                 {"confirm_seconds", req.confirm_s}});
  return {};
}

Status CommitService::apply(const ApplyRequest& req, ApplyResult* out) {
  std::lock_guard lock(mu_);
  return commit_locked(req, "apply", out);
}

Status CommitService::rollback(int64_t revision, const std::string& user,
                               const std::string& comment, uint32_t confirm_s,
                               ApplyResult* out) {
  std::lock_guard lock(mu_);
  store::Revision r;
  if (auto s = store_.get_revision(revision, &r); !s) return s;
  ApplyRequest req{r.source, r.origin,
                   comment.empty() ? "rollback to revision " + std::to_string(revision) : comment,
                   user, confirm_s};
  return commit_locked(req, "rollback", out);
}

Status CommitService::confirm(const std::string& user, int64_t* revision) {
  std::lock_guard lock(mu_);
  Pending p;
  bool found = false;
  if (auto s = load_pending(&p, &found); !s) return s;
  if (!found) return cp::not_found("no commit awaits confirmation");
  if (auto s = store_.delete_state(kPendingKey); !s) return s;
  ++counters_.confirms;
  *revision = p.revision;
  audit_.append(user, "policy.confirm", "revision " + std::to_string(p.revision),
                {{"revision", p.revision}, {"deadline_us", p.deadline_us}});
  return {};
}

void CommitService::tick() {
  std::lock_guard lock(mu_);
  Pending p;
  bool found = false;
  if (load_pending(&p, &found) && found && clock_.now_us() >= p.deadline_us) {
    store::Revision back;
    int64_t number = 0;
    if (store_.get_revision(p.revert_to, &back) && next_revision(&number)) {
      ApplyResult r;
      if (push(back.source, back.origin, number, &r)) {
        store::Revision rev = back;
        rev.created_us = clock_.now_us();
        rev.user = "controld";
        rev.comment = "automatic revert: revision " + std::to_string(p.revision) +
                      " was not confirmed by its deadline";
        rev.action = "revert";
        rev.generation = r.generation;
        if (store_.add_revision(&rev)) {
          store_.put_state(kCurrentKey, std::to_string(rev.number));
          store_.delete_state(kPendingKey);
          ++counters_.reverts;
          audit_.append("controld", "policy.revert", "revision " + std::to_string(rev.number),
                        {{"unconfirmed", p.revision},
                         {"restored", p.revert_to},
                         {"revision", rev.number},
                         {"generation", r.generation},
                         {"committed_by", p.user}});
        }
      }
    }
    return;  // re-check the dataplane on the next tick
  }
  const int64_t cur = current_revision();
  if (cur == 0) return;
  dpclient::PolicyStatus st;
  if (!dp_.policy_status(&st)) {
    ++counters_.dataplane_unreachable;
    return;
  }
  store::Revision rev;
  if (!store_.get_revision(cur, &rev)) return;
  if (st.generation != 0 && st.sha256 == rev.sha256 && st.revision == static_cast<uint64_t>(cur))
    return;
  ApplyResult r;
  if (push(rev.source, rev.origin, cur, &r)) {
    ++counters_.repushes;
    audit_.append("controld", "policy.repush", "revision " + std::to_string(cur),
                  {{"revision", cur},
                   {"dataplane_generation", st.generation},
                   {"dataplane_sha256", st.sha256},
                   {"dataplane_revision", st.revision},
                   {"generation", r.generation}});
  }
}

nlohmann::json CommitService::status_json() {
  std::lock_guard lock(mu_);
  nlohmann::json j = {{"revision", nullptr}, {"pending", nullptr}, {"dataplane", nullptr}};
  const int64_t cur = current_revision();
  store::Revision rev;
  if (cur && store_.get_revision(cur, &rev))
    j["revision"] = {{"number", rev.number},   {"created", cp::format_rfc3339(rev.created_us)},
                     {"user", rev.user},       {"comment", rev.comment},
                     {"action", rev.action},   {"origin", rev.origin},
                     {"sha256", rev.sha256},   {"generation", rev.generation}};
  Pending p;
  bool found = false;
  if (load_pending(&p, &found) && found)
    j["pending"] = {{"revision", p.revision},
                    {"revert_to", p.revert_to},
                    {"deadline", cp::format_rfc3339(p.deadline_us)},
                    {"user", p.user}};
  dpclient::PolicyStatus st;
  if (auto s = dp_.policy_status(&st); s)
    j["dataplane"] = {{"reachable", true},       {"generation", st.generation},
                      {"sha256", st.sha256},     {"origin", st.origin},
                      {"rules", st.rules},       {"revision", st.revision},
                      {"in_sync", cur != 0 && st.generation != 0 && st.sha256 == rev.sha256 &&
                                      st.revision == static_cast<uint64_t>(cur)}};
  else
    j["dataplane"] = {{"reachable", false}, {"error", s.message()}};
  return j;
}

std::shared_ptr<const api::PolicyImage> CommitService::current_image() {
  std::lock_guard lock(mu_);
  const int64_t cur = current_revision();
  if (cur == image_revision_) return image_;
  store::Revision rev;
  if (cur == 0 || !store_.get_revision(cur, &rev)) return nullptr;
  policy::CompileOptions opt;
  opt.zoneinfo_dir = cfg_.zoneinfo;
  auto r = policy::compile_policy(rev.source, rev.origin, opt);
  image_revision_ = cur;
  image_ = r.image;
  return image_;
}

CommitService::Counters CommitService::counters() {
  std::lock_guard lock(mu_);
  return counters_;
}

std::string unified_diff(const std::string& a, const std::string& b, const std::string& name_a,
                         const std::string& name_b) {
  auto lines = [](const std::string& t) {
    std::vector<std::string> v;
    size_t s = 0;
    while (s < t.size()) {
      size_t e = t.find('\n', s);
      if (e == std::string::npos) e = t.size();
      v.push_back(t.substr(s, e - s));
      s = e + 1;
    }
    return v;
  };
  const auto x = lines(a), y = lines(b);
  if (x == y) return "";
  const size_t n = x.size(), m = y.size();
  // LCS table (policy files are small; both sides are bounded by the API's body limit).
  std::vector<std::vector<uint32_t>> L(n + 1, std::vector<uint32_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;)
    for (size_t j = m; j-- > 0;)
      L[i][j] = x[i] == y[j] ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
  struct Op {
    char kind;
    size_t i, j;
  };
  std::vector<Op> ops;
  size_t i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] == y[j]) {
      ops.push_back({' ', i++, j++});
    } else if (i < n && (j == m || L[i + 1][j] >= L[i][j + 1])) {
      ops.push_back({'-', i++, j});
    } else {
      ops.push_back({'+', i, j++});
    }
  }
  constexpr size_t kContext = 3;
  std::string out = "--- " + name_a + "\n+++ " + name_b + "\n";
  size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == ' ') ++k;
    if (k == ops.size()) break;
    size_t start = k >= kContext ? k - kContext : 0;
    size_t end = k;
    for (;;) {  // extend while changes are within 2*context of each other
      while (end < ops.size() && ops[end].kind != ' ') ++end;
      size_t next = end;
      while (next < ops.size() && ops[next].kind == ' ' && next - end < 2 * kContext) ++next;
      if (next < ops.size() && ops[next].kind != ' ') {
        end = next;
        continue;
      }
      end = std::min(ops.size(), end + kContext);
      break;
    }
    size_t a0 = ops[start].i, b0 = ops[start].j, ac = 0, bc = 0;
    std::string body;
    for (size_t t = start; t < end; ++t) {
      const Op& o = ops[t];
      if (o.kind != '+') ++ac;
      if (o.kind != '-') ++bc;
      body += o.kind;
      body += o.kind == '+' ? y[o.j] : x[o.i];
      body += '\n';
    }
    out += "@@ -" + std::to_string(ac ? a0 + 1 : a0) + "," + std::to_string(ac) + " +" +
           std::to_string(bc ? b0 + 1 : b0) + "," + std::to_string(bc) + " @@\n" + body;
    k = end;
  }
  return out;
}

}  // namespace cg::commit

#include "controlplane/audit/audit_log.h"

#include <algorithm>

namespace cg::audit {
namespace {
constexpr const char* kHeadKey = "audit.head";
constexpr const char* kPruneAction = "audit.prune";

void field(std::string* out, const std::string& v) {
  *out += std::to_string(v.size());
  *out += ':';
  *out += v;
  *out += ';';
}
}  // namespace

std::string AuditLog::record_hash(const store::AuditRecord& r) {
  std::string s;
  field(&s, r.prev_hash);
  field(&s, std::to_string(r.seq));
  field(&s, std::to_string(r.ts_us));
  field(&s, r.user);
  field(&s, r.action);
  field(&s, r.object);
  field(&s, r.detail);
  return cp::sha256_hex(s);
}

Status AuditLog::append(const std::string& user, const std::string& action,
                        const std::string& object, const nlohmann::json& detail) {
  std::lock_guard lock(mu_);
  store::AuditRecord last;
  bool found = false;
  Status s = store_.last_audit(&last, &found);
  if (s) {
    store::AuditRecord r;
    r.seq = found ? last.seq + 1 : 1;
    r.ts_us = clock_.now_us();
    r.user = user;
    r.action = action;
    r.object = object;
    r.detail = detail.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    r.prev_hash = found ? last.hash : kGenesis;
    r.hash = record_hash(r);
    s = store_.insert_audit(r);
    if (s) s = store_.put_state(kHeadKey, std::to_string(r.seq) + " " + r.hash);
  }
  if (s)
    ++appended_;
  else
    ++failures_;
  return s;
}

Status AuditLog::prune_before(int64_t before_us, int64_t max_records, int64_t* pruned) {
  *pruned = 0;
  store::AuditAnchor current;
  bool anchored = false;
  int64_t up_to = 0;
  if (auto s = store_.last_audit_anchor(&current, &anchored); !s) return s;
  if (auto s = store_.last_audit_before(before_us, &up_to); !s) return s;
  if (up_to <= (anchored ? current.seq : 0)) return {};  // nothing to prune: no verify needed
  VerifyResult v;
  if (auto s = verify(&v); !s) return s;
  if (!v.ok) return cp::internal("audit chain broken, not pruning: " + v.problem);
  std::lock_guard lock(mu_);
  up_to = std::min(up_to, v.anchor_seq + std::max<int64_t>(max_records, 1));
  if (up_to <= v.anchor_seq) return {};
  std::vector<store::AuditRecord> at;
  if (auto s = store_.list_audit(up_to - 1, 1, &at); !s) return s;
  store::AuditRecord last;
  bool found = false;
  if (auto s = store_.last_audit(&last, &found); !s) return s;
  if (at.empty() || at[0].seq != up_to || !found)
    return cp::internal("audit record " + std::to_string(up_to) + " vanished while pruning");
  store::AuditAnchor anchor{up_to, at[0].hash, clock_.now_us()};
  store::AuditRecord r;
  r.seq = last.seq + 1;
  r.ts_us = anchor.pruned_us;
  r.user = "controld";
  r.action = kPruneAction;
  r.object = "audit";
  r.detail = nlohmann::json{{"up_to_seq", up_to},
                            {"anchor_hash", anchor.hash},
                            {"records", up_to - v.anchor_seq},
                            {"before", cp::format_rfc3339(before_us)}}
                 .dump();
  r.prev_hash = last.hash;
  r.hash = record_hash(r);
  Status s = store_.prune_audit(anchor, r, kHeadKey, std::to_string(r.seq) + " " + r.hash);
  if (s) {
    ++appended_;
    *pruned = up_to - v.anchor_seq;
  } else {
    ++failures_;
  }
  return s;
}

Status AuditLog::verify(VerifyResult* out) {
  *out = {};
  store::AuditAnchor anchor;
  bool anchored = false;
  if (auto s = store_.last_audit_anchor(&anchor, &anchored); !s) return s;
  std::string prev = anchored ? anchor.hash : kGenesis;
  int64_t expect = anchored ? anchor.seq + 1 : 1;
  out->anchor_seq = anchored ? anchor.seq : 0;
  bool confirmed = !anchored;
  for (;;) {
    std::vector<store::AuditRecord> page;
    if (auto s = store_.list_audit(expect - 1, 1000, &page); !s) return s;
    // list_audit returns seq > after; a gap shows as a first seq that is not `expect`.
    if (page.empty()) break;
    for (const auto& r : page) {
      if (r.seq != expect) {
        *out = {false, out->records, out->anchor_seq, expect,
                "record " + std::to_string(expect) + " is missing (next is " +
                    std::to_string(r.seq) + ")"};
        return {};
      }
      if (r.prev_hash != prev) {
        *out = {false, out->records, out->anchor_seq, r.seq,
                "record " + std::to_string(r.seq) + " does not chain to its predecessor"};
        return {};
      }
      if (record_hash(r) != r.hash) {
        *out = {false, out->records, out->anchor_seq, r.seq,
                "record " + std::to_string(r.seq) + " was modified (hash mismatch)"};
        return {};
      }
      // The anchor is only trusted when a record of the (intact) chain vouches for it.
      if (!confirmed && r.action == kPruneAction) {
        auto d = nlohmann::json::parse(r.detail, nullptr, false);
        confirmed = d.is_object() && d.value("up_to_seq", int64_t{-1}) == anchor.seq &&
                    d.value("anchor_hash", std::string()) == anchor.hash;
      }
      prev = r.hash;
      ++expect;
      ++out->records;
    }
  }
  std::string head;
  bool found = false;
  if (auto s = store_.get_state(kHeadKey, &head, &found); !s) return s;
  std::string have = out->records ? std::to_string(expect - 1) + " " + prev : "";
  if (found && head != have) {
    *out = {false, out->records, out->anchor_seq, expect,
            "the log ends at record " + std::to_string(expect - 1) +
                " but the chain head says " + head.substr(0, head.find(' ')) +
                " (records deleted at the end)"};
  } else if (!found && out->records > 0) {
    *out = {false, out->records, out->anchor_seq, 0, "the chain head is missing"};
  } else if (!confirmed) {
    *out = {false, out->records, out->anchor_seq, anchor.seq,
            "the prune anchor at record " + std::to_string(anchor.seq) +
                " is not confirmed by an audit.prune record (records deleted behind a forged "
                "anchor)"};
  }
  return {};
}

}  // namespace cg::audit

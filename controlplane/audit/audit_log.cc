#include "controlplane/audit/audit_log.h"

namespace cg::audit {
namespace {
constexpr const char* kHeadKey = "audit.head";

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

Status AuditLog::verify(VerifyResult* out) {
  *out = {};
  std::string prev = kGenesis;
  int64_t expect = 1;
  for (;;) {
    std::vector<store::AuditRecord> page;
    if (auto s = store_.list_audit(expect - 1, 1000, &page); !s) return s;
    // list_audit returns seq > after; a gap shows as a first seq that is not `expect`.
    if (page.empty()) break;
    for (const auto& r : page) {
      if (r.seq != expect) {
        *out = {false, out->records, expect,
                "record " + std::to_string(expect) + " is missing (next is " +
                    std::to_string(r.seq) + ")"};
        return {};
      }
      if (r.prev_hash != prev) {
        *out = {false, out->records, r.seq,
                "record " + std::to_string(r.seq) + " does not chain to its predecessor"};
        return {};
      }
      if (record_hash(r) != r.hash) {
        *out = {false, out->records, r.seq,
                "record " + std::to_string(r.seq) + " was modified (hash mismatch)"};
        return {};
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
    *out = {false, out->records, expect,
            "the log ends at record " + std::to_string(expect - 1) +
                " but the chain head says " + head.substr(0, head.find(' ')) +
                " (records deleted at the end)"};
  } else if (!found && out->records > 0) {
    *out = {false, out->records, 0, "the chain head is missing"};
  }
  return {};
}

}  // namespace cg::audit

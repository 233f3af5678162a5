#include "controlplane/quarantine/quarantine.h"

#include <algorithm>

namespace cg::quarantine {

using nlohmann::json;

namespace {
constexpr int64_t kUs = 1000000;
}

bool parse_duration(const std::string& text, int64_t* seconds) {
  if (text.empty() || text.size() > 32) return false;
  int64_t total = 0, n = 0;
  bool digits = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      n = n * 10 + (c - '0');
      if (n > 100000000) return false;
      digits = true;
      continue;
    }
    int64_t unit = c == 's' ? 1 : c == 'm' ? 60 : c == 'h' ? 3600 : c == 'd' ? 86400 : 0;
    if (!unit || !digits) return false;
    total += n * unit;
    n = 0;
    digits = false;
  }
  if (digits) total += n;  // plain seconds
  if (total <= 0) return false;
  *seconds = total;
  return true;
}

Service::Service(store::Store& store, audit::AuditLog& audit, dpclient::DataplaneClient& dp,
                 const cp::Clock& clock, NftSink* nft, Limits limits)
    : store_(store), audit_(audit), dp_(dp), clock_(clock), nft_(nft), limits_(limits) {}

json Service::to_json(const store::QuarantineEntry& e, int64_t now_us) {
  return {{"address", e.address},
          {"owner", e.owner},
          {"reason", e.reason},
          {"since", cp::format_rfc3339(e.since_us)},
          {"expires", cp::format_rfc3339(e.expires_us)},
          {"remaining_seconds", std::max<int64_t>(0, (e.expires_us - now_us + kUs - 1) / kUs)}};
}

json Service::push_locked() {
  json r = json::object();
  json addrs = json::array();
  for (const auto& [a, e] : entries_) addrs.push_back(a);
  json resp;
  Status s = dp_.request({{"v", 1}, {"cmd", "quarantine.set"}, {"addresses", addrs}}, &resp);
  if (s && resp.value("ok", false)) {
    ++c_.dataplane_pushes;
    dataplane_in_sync_ = true;
    r["dataplane"] = "ok";
  } else {
    ++c_.dataplane_push_failures;
    dataplane_in_sync_ = false;
    r["dataplane"] = s ? resp.value("error", std::string("refused")) : s.message();
  }
  if (!nft_) {
    r["nftables"] = "off";
  } else {
    std::vector<nft::QuarantineElement> els;
    const int64_t now = clock_.now_us();
    for (const auto& [a, e] : entries_)
      els.push_back({a, std::max<int64_t>(1, (e.expires_us - now + kUs - 1) / kUs)});
    Status n = nft_->apply(els);
    ++(n ? c_.nft_applies : c_.nft_failures);
    r["nftables"] = n ? "ok" : n.message();
  }
  c_.active = entries_.size();
  return r;
}

size_t Service::expire_locked(int64_t now) {
  size_t n = 0;
  for (auto it = entries_.begin(); it != entries_.end();) {
    if (it->second.expires_us > now) {
      ++it;
      continue;
    }
    if (Status s = store_.delete_quarantine(it->first); !s && s.code() != cp::Code::kNotFound) {
      ++it;  // keep it (and the block) until the store agrees; retried next tick
      continue;
    }
    audit_.append("controld", "quarantine.expire", it->first,
                  {{"owner", it->second.owner},
                   {"reason", it->second.reason},
                   {"since", cp::format_rfc3339(it->second.since_us)},
                   {"expires", cp::format_rfc3339(it->second.expires_us)}});
    ++c_.expired;
    ++n;
    it = entries_.erase(it);
  }
  return n;
}

Status Service::start() {
  std::lock_guard lock(mu_);
  std::vector<store::QuarantineEntry> rows;
  if (Status s = store_.list_quarantine(&rows); !s) return s;
  entries_.clear();
  for (auto& e : rows) entries_[e.address] = e;
  expire_locked(clock_.now_us());
  json r = push_locked();
  if (nft_ && r["nftables"] != "ok")
    return cp::internal("nftables: " + r["nftables"].get<std::string>());
  return {};
}

Status Service::add(const std::string& address, int64_t seconds, const std::string& reason,
                    const std::string& user, store::QuarantineEntry* out, json* pushed) {
  std::string canonical;
  bool v6 = false;
  if (!nft::parse_prefix(address, &canonical, &v6))
    return cp::invalid("'" + address + "' is not an IPv4 / IPv6 address or CIDR prefix");
  if (seconds < limits_.min_seconds || seconds > limits_.max_seconds)
    return cp::invalid("duration must be " + std::to_string(limits_.min_seconds) + " s .. " +
                       std::to_string(limits_.max_seconds / 86400) + " days");
  if (reason.empty() || reason.size() > limits_.max_reason)
    return cp::invalid("a reason (1.." + std::to_string(limits_.max_reason) +
                       " bytes) is required");
  std::lock_guard lock(mu_);
  const bool renew = entries_.count(canonical) > 0;
  if (!renew && entries_.size() >= limits_.max_entries)
    return cp::conflict("quarantine is full (" + std::to_string(limits_.max_entries) +
                        " entries)");
  const int64_t now = clock_.now_us();
  store::QuarantineEntry e{canonical, user, reason, now, now + seconds * kUs};
  if (Status s = store_.put_quarantine(e); !s) return s;
  entries_[canonical] = e;
  ++c_.added;
  json r = push_locked();
  audit_.append(user, "quarantine.add", canonical,
                {{"reason", reason},
                 {"seconds", seconds},
                 {"expires", cp::format_rfc3339(e.expires_us)},
                 {"renewed", renew},
                 {"pushed", r}});
  if (out) *out = e;
  if (pushed) *pushed = std::move(r);
  return {};
}

Status Service::remove(const std::string& address, const std::string& user, json* pushed) {
  std::string canonical;
  bool v6 = false;
  if (!nft::parse_prefix(address, &canonical, &v6))
    return cp::invalid("'" + address + "' is not an IPv4 / IPv6 address or CIDR prefix");
  std::lock_guard lock(mu_);
  auto it = entries_.find(canonical);
  if (it == entries_.end()) return cp::not_found(canonical + " is not quarantined");
  if (Status s = store_.delete_quarantine(canonical); !s && s.code() != cp::Code::kNotFound)
    return s;
  store::QuarantineEntry old = it->second;
  entries_.erase(it);
  ++c_.removed;
  json r = push_locked();
  audit_.append(user, "quarantine.remove", canonical,
                {{"owner", old.owner}, {"reason", old.reason}, {"pushed", r}});
  if (pushed) *pushed = std::move(r);
  return {};
}

std::vector<store::QuarantineEntry> Service::list() {
  std::lock_guard lock(mu_);
  std::vector<store::QuarantineEntry> v;
  for (const auto& [a, e] : entries_) v.push_back(e);
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.expires_us != b.expires_us ? a.expires_us < b.expires_us : a.address < b.address;
  });
  return v;
}

size_t Service::tick() {
  std::lock_guard lock(mu_);
  const size_t n = expire_locked(clock_.now_us());
  bool push = n > 0 || !dataplane_in_sync_;
  if (!push) {
    // A restarted dataplane comes back with an empty set: compare and push the full list.
    json resp;
    if (dp_.request({{"v", 1}, {"cmd", "quarantine.status"}}, &resp) && resp.value("ok", false)) {
      std::vector<std::string> theirs;
      for (const auto& a : resp.value("addresses", json::array()))
        if (a.is_string()) theirs.push_back(a.get<std::string>());
      std::sort(theirs.begin(), theirs.end());
      std::vector<std::string> ours;
      for (const auto& [a, e] : entries_) ours.push_back(a);
      push = theirs != ours;
    } else {
      push = true;
    }
  }
  if (push) push_locked();
  return n;
}

Counters Service::counters() {
  std::lock_guard lock(mu_);
  c_.active = entries_.size();
  return c_;
}

}  // namespace cg::quarantine

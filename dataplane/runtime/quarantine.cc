#include "dataplane/runtime/quarantine.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "dataplane/runtime/policy_loader.h"

namespace cg::runtime {
namespace {

// "a.b.c.d", "a.b.c.d/n", "v6", "v6/n" -> canonical text with the host bits cleared. IPv4-mapped
// IPv6 (::ffff:a.b.c.d[/96+n]) is written as IPv4. False when it is none of these.
bool canonical(const std::string& in, std::string* out) {
  if (in.empty() || in.size() > 64) return false;
  const size_t slash = in.find('/');
  const std::string addr = in.substr(0, slash);
  int len = -1;
  if (slash != std::string::npos) {
    const std::string n = in.substr(slash + 1);
    if (n.empty() || n.size() > 3 || !std::all_of(n.begin(), n.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) return false;
    len = std::stoi(n);
  }
  uint8_t a[16] = {};
  bool v4;
  if (in_addr v; inet_pton(AF_INET, addr.c_str(), &v) == 1) {
    v4 = true;
    if (len > 32) return false;
    if (len < 0) len = 32;
    std::memcpy(a, &v, 4);
  } else if (in6_addr v6; inet_pton(AF_INET6, addr.c_str(), &v6) == 1) {
    if (len > 128) return false;
    if (len < 0) len = 128;
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    v4 = len >= 96 && std::memcmp(v6.s6_addr, kMapped, 12) == 0;
    if (v4) {
      std::memcpy(a, v6.s6_addr + 12, 4);
      len -= 96;
    } else {
      std::memcpy(a, v6.s6_addr, 16);
    }
  } else {
    return false;
  }
  const int bits = v4 ? 32 : 128;
  for (int b = len; b < bits; ++b) a[b / 8] &= static_cast<uint8_t>(~(0x80u >> (b % 8)));
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(v4 ? AF_INET : AF_INET6, a, buf, sizeof buf);
  *out = buf;
  if (len != bits) *out += "/" + std::to_string(len);
  return true;
}

}  // namespace

bool parse_quarantine(const nlohmann::json& addresses, QuarantineList* out, std::string* error) {
  if (!addresses.is_array()) {
    *error = "'addresses' must be an array of address / CIDR strings";
    return false;
  }
  if (addresses.size() > kMaxQuarantineEntries) {
    *error = "more than " + std::to_string(kMaxQuarantineEntries) + " entries";
    return false;
  }
  std::vector<std::string> list;
  list.reserve(addresses.size());
  for (const auto& a : addresses) {
    std::string c;
    if (!a.is_string() || !canonical(a.get<std::string>(), &c)) {
      *error = "bad address '" + (a.is_string() ? a.get<std::string>() : a.dump()) + "'";
      return false;
    }
    list.push_back(std::move(c));
  }
  std::sort(list.begin(), list.end());
  list.erase(std::unique(list.begin(), list.end()), list.end());
  out->matcher.reset();
  if (!list.empty()) {
    std::string text;
    for (const auto& s : list) text += s + "\n";
    auto m = std::make_unique<detect::Blocklist>(kMaxQuarantineEntries);
    detect::BlocklistStats st;
    m->add_text(text, "quarantine", &st);
    if (st.rejected || st.addresses != list.size()) {  // canonical() and the matcher disagree
      *error = st.diagnostics.empty() ? "internal: matcher rejected an entry" : st.diagnostics[0];
      return false;
    }
    m->finalize();
    out->matcher = std::move(m);
  }
  out->addresses = std::move(list);
  return true;
}

QuarantineLoader::QuarantineLoader(std::vector<std::atomic<const detect::Blocklist*>*> slots,
                                   rte_rcu_qsbr* qs, std::chrono::milliseconds quiescent_timeout)
    : slots_(std::move(slots)), qs_(qs), timeout_(quiescent_timeout) {}

// Workers have stopped by now (the runtime joins them first).
QuarantineLoader::~QuarantineLoader() = default;

nlohmann::json QuarantineLoader::set(const nlohmann::json& req) {
  auto t0 = std::chrono::steady_clock::now();
  auto next = std::make_unique<QuarantineList>();
  std::string err;
  if (!req.contains("addresses") || !parse_quarantine(req["addresses"], next.get(), &err)) {
    ++sets_failed_;
    if (err.empty()) err = "'addresses' (array of address / CIDR strings) missing";
    return {{"ok", false}, {"error", "quarantine.set: " + err + "; nothing changed"}};
  }
  const detect::Blocklist* m = next->matcher.get();
  for (auto* s : slots_) s->store(m, std::memory_order_release);
  std::unique_ptr<QuarantineList> old = std::move(active_);
  active_ = std::move(next);
  ++sets_ok_;
  if (!wait_quiescent(qs_, timeout_)) {
    if (old) stuck_.push_back(std::move(old));
    return {{"ok", false},
            {"entries", active_->addresses.size()},
            {"error", "quarantine.set: published, but a worker did not pass a quiescent state "
                      "within " + std::to_string(timeout_.count()) + " ms"}};
  }
  return {{"ok", true}, {"entries", active_->addresses.size()}, {"apply_us", micros_since(t0)}};
}

nlohmann::json QuarantineLoader::status() const {
  return {{"ok", true},
          {"entries", entries()},
          {"addresses", active_ ? active_->addresses : std::vector<std::string>{}},
          {"sets_ok", sets_ok_},
          {"sets_failed", sets_failed_}};
}

}  // namespace cg::runtime

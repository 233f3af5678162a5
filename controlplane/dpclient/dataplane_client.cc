#include "controlplane/dpclient/dataplane_client.h"

#include "dataplane/runtime/control_server.h"

namespace cg::dpclient {

Status SocketDataplaneClient::request(const nlohmann::json& req, nlohmann::json* resp) {
  std::string err;
  nlohmann::json q = req;
  q["v"] = runtime::kControlProtocolVersion;
  if (!runtime::control_request(path_, q, resp, &err, timeout_ms_))
    return cp::unavailable("dataplane " + path_ + ": " + err);
  if (!resp->is_object()) return cp::unavailable("dataplane: malformed response");
  return {};
}

Status SocketDataplaneClient::policy_status(PolicyStatus* out) {
  nlohmann::json r;
  if (auto s = request({{"cmd", "policy.status"}}, &r); !s) return s;
  if (!r.value("ok", false)) return cp::unavailable("policy.status: " + r.value("error", "?"));
  out->generation = r.value("generation", uint64_t{0});
  out->sha256 = r.value("sha256", "");
  out->origin = r.value("origin", "");
  out->rules = r.value("rules", uint64_t{0});
  out->revision = r.value("revision", uint64_t{0});
  return {};
}

Status SocketDataplaneClient::policy_prepare(const std::string& source, const std::string& origin,
                                             uint64_t revision, Prepared* out) {
  nlohmann::json r;
  if (auto s = request({{"cmd", "policy.prepare"},
                        {"source", source},
                        {"origin", origin},
                        {"revision", revision}},
                       &r);
      !s)
    return s;
  out->diagnostics.clear();
  if (!r.value("ok", false)) {
    if (r.contains("diagnostics") && r["diagnostics"].is_array())
      for (const auto& d : r["diagnostics"])
        if (d.is_string()) out->diagnostics.push_back(d.get<std::string>());
    return cp::invalid("dataplane rejected the policy: " + r.value("error", "?"));
  }
  out->generation = r.value("generation", uint64_t{0});
  out->rules = r.value("rules", uint64_t{0});
  return {};
}

Status SocketDataplaneClient::policy_apply(uint64_t generation, uint64_t* previous) {
  nlohmann::json r;
  if (auto s = request({{"cmd", "policy.apply"}, {"generation", generation}}, &r); !s) return s;
  if (!r.value("ok", false)) return cp::conflict("policy.apply: " + r.value("error", "?"));
  if (previous) *previous = r.value("previous", uint64_t{0});
  return {};
}

}  // namespace cg::dpclient

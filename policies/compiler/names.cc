#include "policies/compiler/names.h"

#include <ndpi/ndpi_api.h>

#include <algorithm>
#include <cctype>
#include <cstdint>

#include "dataplane/api/edit_distance.h"

namespace cg::policy {

NdpiCatalog::NdpiCatalog() {
  ndpi_detection_module_struct* m = ndpi_init_detection_module(ndpi_no_prefs);
  if (m == nullptr) return;  // out of memory: every name will be reported unknown
  const unsigned n = ndpi_get_num_supported_protocols(m);
  for (unsigned i = 1; i < n && i <= 0xffff; ++i) {
    const char* name = ndpi_get_proto_name(m, static_cast<uint16_t>(i));
    if (name == nullptr || *name == '\0') continue;
    std::string s(name);
    if (s == "Unknown" || s.rfind("FREE", 0) == 0) continue;
    protocols_.push_back({s, static_cast<uint16_t>(i)});
  }
  for (int c = 1; c < NDPI_PROTOCOL_NUM_CATEGORIES; ++c) {
    const char* name = ndpi_category_get_name(m, static_cast<ndpi_protocol_category_t>(c));
    if (name == nullptr || *name == '\0') continue;
    std::string s(name);
    if (s.rfind("User custom category", 0) == 0) continue;
    categories_.push_back({s, static_cast<uint16_t>(c)});
  }
  ndpi_exit_detection_module(m);
}

const NdpiCatalog& NdpiCatalog::instance() {
  static const NdpiCatalog catalog;
  return catalog;
}

namespace {
std::optional<uint16_t> find(const std::vector<NamedId>& v, const std::string& name) {
  for (const auto& e : v)
    if (e.name == name) return e.id;
  return std::nullopt;
}
std::vector<std::string> names_of(const std::vector<NamedId>& v) {
  std::vector<std::string> r;
  r.reserve(v.size());
  for (const auto& e : v) r.push_back(e.name);
  return r;
}
std::string lower(const std::string& s) {
  std::string r = s;
  for (auto& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}
}  // namespace

std::optional<uint16_t> NdpiCatalog::protocol_id(const std::string& name) const {
  return find(protocols_, name);
}
std::optional<uint16_t> NdpiCatalog::category_id(const std::string& name) const {
  return find(categories_, name);
}
std::vector<std::string> NdpiCatalog::protocol_names() const {
  return names_of(protocols_);
}
std::vector<std::string> NdpiCatalog::category_names() const {
  return names_of(categories_);
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string ln = lower(name);
  for (const auto& c : candidates)
    if (lower(c) == ln) return c;
  std::string best;
  size_t best_d = SIZE_MAX;
  for (const auto& c : candidates) {
    size_t d = api::edit_distance(ln, lower(c));
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  const size_t limit = std::max<size_t>(1, std::min<size_t>(3, ln.size() / 3));
  return best_d <= limit ? best : "";
}

std::string suggestion_suffix(const std::string& name, const std::vector<std::string>& candidates) {
  std::string s = did_you_mean(name, candidates);
  return s.empty() ? "" : " (did you mean '" + s + "'?)";
}

}  // namespace cg::policy

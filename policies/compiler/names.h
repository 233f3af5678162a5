// Name catalogs and "did you mean": nDPI 4.2's protocol and category names read from libndpi at
// run time (never a copied list), plus an edit-distance suggester used for every name error.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cg::policy {

struct NamedId {
  std::string name;
  uint16_t id = 0;
};

// The names nDPI uses, from one detection module created on first use and freed at exit.
// Thread-safe (static initialisation). Excludes placeholders (Unknown, FREE_*, custom slots).
class NdpiCatalog {
 public:
  static const NdpiCatalog& instance();
  std::optional<uint16_t> protocol_id(const std::string& name) const;  // exact spelling
  std::optional<uint16_t> category_id(const std::string& name) const;
  const std::vector<NamedId>& protocols() const { return protocols_; }
  const std::vector<NamedId>& categories() const { return categories_; }
  std::vector<std::string> protocol_names() const;
  std::vector<std::string> category_names() const;

 private:
  NdpiCatalog();
  std::vector<NamedId> protocols_;
  std::vector<NamedId> categories_;
};

// Best suggestion for a misspelt `name` among `candidates`: a case-insensitive equal name first,
// else the closest by edit distance if close enough; "" when nothing is plausible.
std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates);

// " (did you mean 'X'?)" or "".
std::string suggestion_suffix(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace cg::policy

// Declared configuration keys (ARCHITECTURE.md convention 3): every key is declared once — path,
// type, range, default, help and how it is stored — and that table drives YAML parsing, the
// defaults, validation with file:line:col errors and "did you mean", and `--help-config`.
// Header-only; cg-dataplane (dataplane/runtime/config.cc) and cg-controld
// (controlplane/config/config.cc) declare their tables with it. Control/main thread only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "dataplane/api/edit_distance.h"

namespace cg::runtime::config {

enum class Kind { kUint, kSeconds, kString, kBool, kEnum, kStringList };

inline const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kUint: return "integer";
    case Kind::kSeconds: return "seconds";
    case Kind::kString: return "string";
    case Kind::kBool: return "bool";
    case Kind::kEnum: return "enum";
    case Kind::kStringList: return "list of strings";
  }
  return "?";
}

template <class C>
struct KeyDecl {
  std::string path;  // "section.key"; sections are the prefixes of declared paths
  Kind kind;
  double min;        // kUint / kSeconds
  double max;
  std::string def;   // default as YAML scalar text ("" = none / empty)
  std::vector<std::string> choices;  // kEnum
  std::string help;
  std::function<void(C&, const YAML::Node&)> set;  // called with a validated node
  bool required = false;
};

// Parses one YAML document against a key table into C. Every problem is one
// "NAME:LINE:COL: key.path: what is wrong" line (or "NAME: key.path: ..." without a position).
template <class C>
class KeyLoader {
 public:
  KeyLoader(const std::vector<KeyDecl<C>>& keys, std::string name, std::vector<std::string>* errors)
      : keys_(keys), name_(std::move(name)), e_(errors) {}

  static void apply_defaults(const std::vector<KeyDecl<C>>& keys, C& cfg) {
    for (const auto& k : keys)
      if (!k.def.empty()) k.set(cfg, YAML::Load(k.def));
  }

  // Loads `yaml` over cfg (which holds the defaults). False when the text is not YAML or is
  // empty (then *empty says which); unknown keys and bad values are errors, and when there are
  // none, missing required keys.
  bool load(const std::string& yaml, C& cfg, bool* empty) {
    *empty = false;
    YAML::Node root;
    try {
      root = YAML::Load(yaml);
    } catch (const YAML::ParserException& ex) {
      error(ex.mark, "(yaml)", ex.msg);
      return false;
    } catch (const YAML::Exception& ex) {
      e_->push_back(name_ + ": " + ex.msg);
      return false;
    }
    if (root.IsNull()) {
      *empty = true;
      return false;
    }
    const size_t before = e_->size();
    walk(root, "", cfg);
    if (e_->size() == before)  // a malformed section would also "miss" its keys
      for (const auto& k : keys_)
        if (k.required && !seen_.count(k.path))
          e_->push_back(name_ + ": " + k.path + ": required key missing");
    return true;
  }

  static std::string help(const std::vector<KeyDecl<C>>& keys) {
    std::ostringstream os;
    for (const auto& k : keys) {
      os << "  " << k.path << " (" << kind_name(k.kind);
      if (k.kind == Kind::kUint || k.kind == Kind::kSeconds) os << " " << k.min << ".." << k.max;
      if (k.kind == Kind::kEnum) os << ": " << choices(k);
      os << ")";
      if (!k.def.empty()) os << " default " << k.def;
      if (k.required) os << " required";
      os << "\n      " << k.help << "\n";
    }
    return os.str();
  }

 private:
  void error(const YAML::Mark& m, const std::string& path, const std::string& what) {
    e_->push_back(name_ + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1) +
                  ": " + path + ": " + what);
  }

  void walk(const YAML::Node& node, const std::string& prefix, C& cfg) {
    if (!node.IsMap())
      return error(node.Mark(), prefix.empty() ? "(top)" : prefix, "expected a mapping");
    for (auto it = node.begin(); it != node.end(); ++it) {
      std::string key = it->first.Scalar();
      std::string path = prefix.empty() ? key : prefix + "." + key;
      if (const KeyDecl<C>* d = find(path)) {
        seen_.insert(path);
        set(*d, it->second, cfg);
      } else if (is_section(path)) {
        walk(it->second, path, cfg);
      } else {
        error(it->first.Mark(), path, "unknown key" + suggest(path));
      }
    }
  }

  const KeyDecl<C>* find(const std::string& path) const {
    for (const auto& k : keys_)
      if (k.path == path) return &k;
    return nullptr;
  }
  bool is_section(const std::string& path) const {
    for (const auto& k : keys_)
      if (k.path.rfind(path + ".", 0) == 0) return true;
    return false;
  }
  std::string suggest(const std::string& path) const {
    std::set<std::string> cands;
    for (const auto& k : keys_) {
      cands.insert(k.path);
      for (size_t p = k.path.find('.'); p != std::string::npos; p = k.path.find('.', p + 1))
        cands.insert(k.path.substr(0, p));
    }
    std::string best;
    size_t best_d = 4;
    for (const auto& c : cands)
      if (size_t d = api::edit_distance(path, c); d < best_d) best_d = d, best = c;
    return best.empty() ? "" : " (did you mean '" + best + "'?)";
  }

  void set(const KeyDecl<C>& d, const YAML::Node& n, C& cfg) {
    const std::string& p = d.path;
    try {
      switch (d.kind) {
        case Kind::kUint: {
          if (!n.IsScalar()) return error(n.Mark(), p, "expected an integer");
          const std::string& s = n.Scalar();
          long double v = 0;
          size_t used = 0;
          try {
            v = std::stold(s, &used);
          } catch (...) {
            used = 0;
          }
          if (used != s.size() || s.empty() || v != static_cast<long long>(v))
            return error(n.Mark(), p, "expected an integer, got '" + s + "'");
          if (v < d.min || v > d.max)
            return error(n.Mark(), p, "value " + s + " out of range [" + range(d) + "]");
          break;
        }
        case Kind::kSeconds: {
          if (!n.IsScalar()) return error(n.Mark(), p, "expected a number of seconds");
          double v = 0;
          try {
            v = n.as<double>();
          } catch (...) {
            return error(n.Mark(), p, "expected a number of seconds, got '" + n.Scalar() + "'");
          }
          if (v < d.min || v > d.max)
            return error(n.Mark(), p, "value " + n.Scalar() + " out of range [" + range(d) + "]");
          break;
        }
        case Kind::kString:
          if (!n.IsScalar() || n.Scalar().empty())
            return error(n.Mark(), p, "expected a non-empty string");
          break;
        case Kind::kBool:
          try {
            (void)n.as<bool>();
          } catch (...) {
            return error(n.Mark(), p, "expected true or false");
          }
          break;
        case Kind::kEnum:
          if (!n.IsScalar()) return error(n.Mark(), p, "expected one of " + choices(d));
          if (std::find(d.choices.begin(), d.choices.end(), n.Scalar()) == d.choices.end())
            return error(n.Mark(), p, "'" + n.Scalar() + "' is not one of " + choices(d));
          break;
        case Kind::kStringList:
          if (!n.IsSequence()) return error(n.Mark(), p, "expected a list of strings");
          for (const auto& x : n)
            if (!x.IsScalar()) return error(x.Mark(), p, "expected a list of strings");
          break;
      }
      d.set(cfg, n);
    } catch (const YAML::Exception& ex) {
      error(n.Mark(), p, ex.msg);
    }
  }

  static std::string range(const KeyDecl<C>& d) {
    std::ostringstream os;
    os << d.min << ", " << d.max;
    return os.str();
  }
  static std::string choices(const KeyDecl<C>& d) {
    std::string s;
    for (const auto& c : d.choices) s += (s.empty() ? "" : "|") + c;
    return s;
  }

  const std::vector<KeyDecl<C>>& keys_;
  std::string name_;
  std::vector<std::string>* e_;
  std::set<std::string> seen_;
};

}  // namespace cg::runtime::config

#include "snmp/session/fake_session.h"

#include <charconv>

namespace cg::snmp {
namespace {

bool parse_u64(std::string_view s, uint64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_i64(std::string_view s, int64_t* out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool unhex(std::string_view s, std::string* out) {
  if (s.size() % 2) return false;
  out->clear();
  for (size_t i = 0; i < s.size(); i += 2) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i, s.data() + i + 2, v, 16);
    if (ec != std::errc() || p != s.data() + i + 2) return false;
    out->push_back(static_cast<char>(v));
  }
  return true;
}

bool parse_line(std::string_view line, Oid* oid, Value* value) {
  size_t a = line.find('|');
  if (a == std::string_view::npos) return false;
  size_t b = line.find('|', a + 1);
  if (b == std::string_view::npos) return false;
  auto o = parse_oid(line.substr(0, a));
  if (!o) return false;
  std::string_view type = line.substr(a + 1, b - a - 1);
  std::string_view val = line.substr(b + 1);
  bool hex = !type.empty() && type.back() == 'x';
  if (hex) type.remove_suffix(1);
  std::string raw;
  if (hex) {
    if (!unhex(val, &raw)) return false;
  } else {
    raw.assign(val);
  }
  uint64_t tag = 0;
  if (!parse_u64(type, &tag)) return false;
  switch (tag) {
    case 2: {
      int64_t v = 0;
      if (!parse_i64(raw, &v) || v < INT32_MIN || v > INT32_MAX) return false;
      *value = Value::make_integer(v);
      break;
    }
    case 4:
      *value = Value::make_bytes(ValueType::kOctetString, raw);
      break;
    case 5:
      *value = Value{};
      break;
    case 6: {
      auto x = parse_oid(raw);
      if (!x) return false;
      *value = Value::make_oid(*x);
      break;
    }
    case 64: {
      if (hex) {
        if (raw.size() != 4) return false;
        *value = Value::make_bytes(ValueType::kIpAddress, raw);
        break;
      }
      auto parts = parse_oid(raw);
      if (!parts || parts->size() != 4) return false;
      std::string addr;
      for (uint32_t p : *parts) {
        if (p > 255) return false;
        addr.push_back(static_cast<char>(p));
      }
      *value = Value::make_bytes(ValueType::kIpAddress, addr);
      break;
    }
    case 65:
    case 66:
    case 67:
    case 70: {
      uint64_t v = 0;
      if (!parse_u64(raw, &v)) return false;
      if (tag != 70 && v > 0xffffffffULL) return false;
      ValueType t = tag == 65   ? ValueType::kCounter32
                    : tag == 66 ? ValueType::kGauge32
                    : tag == 67 ? ValueType::kTimeTicks
                                : ValueType::kCounter64;
      *value = Value::make_unsigned(t, v);
      break;
    }
    case 68:
      *value = Value::make_bytes(ValueType::kOpaque, raw);
      break;
    default:
      return false;
  }
  *oid = std::move(*o);
  return true;
}

}  // namespace

std::map<Oid, Value> parse_snmprec(std::string_view text, size_t* bad_lines) {
  std::map<Oid, Value> tree;
  size_t bad = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    Oid oid;
    Value v;
    if (parse_line(line, &oid, &v))
      tree[std::move(oid)] = std::move(v);
    else
      ++bad;
  }
  if (bad_lines) *bad_lines = bad;
  return tree;
}

const Status* FakeSession::failure_for(const Oid& oid) const {
  if (!fail_all_.ok()) return &fail_all_;
  for (const auto& [prefix, st] : failures_)
    if (oid_starts_with(oid, prefix)) return &st;
  return nullptr;
}

Result<std::vector<VarBind>> FakeSession::get(const std::vector<Oid>& oids) {
  ++counters_.requests;
  std::vector<VarBind> out;
  for (const Oid& o : oids) {
    if (const Status* st = failure_for(o)) {
      ++counters_.timeouts;
      return *st;
    }
    auto it = tree_.find(o);
    if (it != tree_.end()) {
      out.push_back({o, it->second});
    } else {
      Value v;
      v.type = ValueType::kNoSuchInstance;
      out.push_back({o, v});
    }
  }
  ++counters_.responses;
  counters_.varbinds += out.size();
  return out;
}

Result<std::vector<VarBind>> FakeSession::walk(const Oid& root) {
  walked_.push_back(root);
  ++counters_.requests;
  if (const Status* st = failure_for(root)) {
    ++counters_.timeouts;
    return *st;
  }
  std::vector<VarBind> out;
  for (auto it = tree_.upper_bound(root); it != tree_.end() && oid_starts_with(it->first, root);
       ++it) {
    out.push_back({it->first, it->second});
  }
  ++counters_.responses;
  counters_.varbinds += out.size();
  return out;
}

}  // namespace cg::snmp

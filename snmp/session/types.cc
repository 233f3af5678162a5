#include "snmp/session/types.h"

#include <charconv>

#include "snmp/session/status.h"

namespace cg::snmp {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid argument";
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kAuthFailed:
      return "authentication failed";
    case ErrorCode::kAgentError:
      return "agent error";
    case ErrorCode::kProtocol:
      return "protocol error";
    case ErrorCode::kInternal:
      return "internal error";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  return std::string(error_code_name(code_)) + ": " + message_;
}

std::optional<Oid> parse_oid(std::string_view text) {
  if (!text.empty() && text.front() == '.') text.remove_prefix(1);
  Oid out;
  if (text.empty()) return std::nullopt;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t dot = text.find('.', pos);
    if (dot == std::string_view::npos) dot = text.size();
    std::string_view part = text.substr(pos, dot - pos);
    if (part.empty() || part.size() > 10) return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || p != part.data() + part.size() || v > 0xffffffffULL) {
      return std::nullopt;
    }
    out.push_back(static_cast<uint32_t>(v));
    pos = dot + 1;
    if (dot == text.size()) break;
  }
  return out;
}

std::string format_oid(const Oid& oid) {
  std::string s;
  for (size_t i = 0; i < oid.size(); ++i) {
    if (i) s.push_back('.');
    s += std::to_string(oid[i]);
  }
  return s;
}

bool oid_starts_with(const Oid& oid, const Oid& prefix) {
  if (oid.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (oid[i] != prefix[i]) return false;
  return true;
}

Oid oid_suffix(const Oid& oid, const Oid& prefix) {
  if (!oid_starts_with(oid, prefix)) return {};
  return Oid(oid.begin() + static_cast<std::ptrdiff_t>(prefix.size()), oid.end());
}

Oid oid_concat(const Oid& a, const Oid& b) {
  Oid out = a;
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

const char* value_type_name(ValueType type) {
  switch (type) {
    case ValueType::kNull:
      return "Null";
    case ValueType::kInteger:
      return "INTEGER";
    case ValueType::kOctetString:
      return "OCTET STRING";
    case ValueType::kOid:
      return "OBJECT IDENTIFIER";
    case ValueType::kIpAddress:
      return "IpAddress";
    case ValueType::kCounter32:
      return "Counter32";
    case ValueType::kGauge32:
      return "Gauge32";
    case ValueType::kTimeTicks:
      return "TimeTicks";
    case ValueType::kOpaque:
      return "Opaque";
    case ValueType::kCounter64:
      return "Counter64";
    case ValueType::kNoSuchObject:
      return "noSuchObject";
    case ValueType::kNoSuchInstance:
      return "noSuchInstance";
    case ValueType::kEndOfMibView:
      return "endOfMibView";
  }
  return "?";
}

Value Value::make_integer(int64_t v) {
  Value x;
  x.type = ValueType::kInteger;
  x.integer = v;
  return x;
}
Value Value::make_unsigned(ValueType t, uint64_t v) {
  Value x;
  x.type = t;
  x.unsigned_ = v;
  return x;
}
Value Value::make_bytes(ValueType t, std::string b) {
  Value x;
  x.type = t;
  x.bytes = std::move(b);
  return x;
}
Value Value::make_oid(Oid o) {
  Value x;
  x.type = ValueType::kOid;
  x.oid = std::move(o);
  return x;
}

}  // namespace cg::snmp

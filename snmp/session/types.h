// SNMP values as plain C++ data, independent of net-snmp, so decoders and fakes need no agent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cg::snmp {

using Oid = std::vector<uint32_t>;

// "1.3.6.1.2.1.1.5.0" (a leading '.' is accepted). nullopt on anything else, including
// sub-identifiers above 2^32-1 and empty components.
std::optional<Oid> parse_oid(std::string_view text);
std::string format_oid(const Oid& oid);
bool oid_starts_with(const Oid& oid, const Oid& prefix);
// The components of `oid` after `prefix` (caller checked oid_starts_with).
Oid oid_suffix(const Oid& oid, const Oid& prefix);
Oid oid_concat(const Oid& a, const Oid& b);

enum class ValueType : uint8_t {
  kNull,
  kInteger,      // INTEGER / Integer32
  kOctetString,  // OCTET STRING (arbitrary bytes)
  kOid,          // OBJECT IDENTIFIER
  kIpAddress,    // 4 raw bytes in `bytes`
  kCounter32,
  kGauge32,  // also Unsigned32
  kTimeTicks,
  kOpaque,
  kCounter64,
  kNoSuchObject,
  kNoSuchInstance,
  kEndOfMibView,
};

const char* value_type_name(ValueType type);

struct Value {
  ValueType type = ValueType::kNull;
  int64_t integer = 0;     // kInteger (signed)
  uint64_t unsigned_ = 0;  // kCounter32, kGauge32, kTimeTicks, kCounter64
  std::string bytes;       // kOctetString, kIpAddress, kOpaque
  Oid oid;                 // kOid

  bool is_exception() const {
    return type == ValueType::kNoSuchObject || type == ValueType::kNoSuchInstance ||
           type == ValueType::kEndOfMibView;
  }
  static Value make_integer(int64_t v);
  static Value make_unsigned(ValueType t, uint64_t v);
  static Value make_bytes(ValueType t, std::string b);
  static Value make_oid(Oid o);
};

struct VarBind {
  Oid oid;
  Value value;
};

}  // namespace cg::snmp

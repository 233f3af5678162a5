// CAMPUSGUARD-MIB as a sorted list of (instance OID, value), built from one Snapshot on the
// refresh thread and read by the SNMP thread (GET = exact lookup, GETNEXT = first OID after).
// The OID layout is declared here once and must match snmp/mibs/CAMPUSGUARD-MIB.txt (the unit
// test and the integration test's snmptranslate of every instance check that).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "snmp/agentx/snapshot.h"

namespace cg::agentx {

using Oid = std::vector<uint32_t>;

// 1.3.6.1.4.1.<pen> = campusguardMIB. 32473 is RFC 5612's documentation PEN, the same default
// the IPFIX exporter uses; an operator with a PEN of their own passes --enterprise (and edits the
// MIB's MODULE-IDENTITY line the same way).
inline constexpr uint32_t kDefaultEnterprise = 32473;
Oid mib_root(uint32_t enterprise);

// Longest zone / drop-reason name that becomes a row (the name is the row's index).
inline constexpr size_t kMaxIndexName = 64;

struct Value {
  enum class Type : uint8_t { kInteger, kGauge32, kCounter32, kCounter64, kOctets };
  Type type = Type::kInteger;
  uint64_t num = 0;  // kInteger holds a small non-negative enum / TruthValue
  std::string str;
};

class MibView {
 public:
  using Row = std::pair<Oid, Value>;
  MibView() = default;
  explicit MibView(std::vector<Row> rows);  // sorts; duplicate OIDs keep the first

  const Value* get(const Oid& oid) const;
  // The first row whose OID is strictly greater than `oid` (nullptr at the end of the view).
  const Row* next(const Oid& oid) const;
  const std::vector<Row>& rows() const { return rows_; }

 private:
  std::vector<Row> rows_;
};

struct ViewStats {
  uint64_t rows_skipped = 0;  // zone / drop rows whose name is empty or longer than 64 bytes
};

// Everything the snapshot has: agent status objects always, dataplane objects only when the
// last refresh succeeded (a down dataplane gives noSuchInstance, never stale numbers), event
// counts always (they are the agent's own tallies of the stream).
MibView build_view(const Oid& root, const Snapshot& s, ViewStats* stats = nullptr);

std::string oid_to_string(const Oid& oid);

}  // namespace cg::agentx

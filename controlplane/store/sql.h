// The SQL seam under Store: one statement at a time with positional parameters written $1, $2,
// ... in the SQL text (PostgreSQL's syntax; SQLite accepts the same names). Both backends
// return every column as text (NULL = nullopt). Not thread-safe: SqlStore serialises calls.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "controlplane/common/status.h"

namespace cg::store {

using SqlValue = std::variant<std::monostate, int64_t, std::string>;
using SqlRow = std::vector<std::optional<std::string>>;

class SqlConnection {
 public:
  virtual ~SqlConnection() = default;
  virtual std::string dialect() const = 0;  // "sqlite" | "postgresql"
  // One statement. `rows` receives the result rows, `affected` the changed row count.
  virtual cp::Status exec(const std::string& sql, const std::vector<SqlValue>& params,
                          std::vector<SqlRow>* rows = nullptr, int64_t* affected = nullptr) = 0;
  // Several statements without parameters (schema).
  virtual cp::Status exec_script(const std::string& sql) = 0;
};

cp::Status open_sqlite(const std::string& path, std::unique_ptr<SqlConnection>* out);
cp::Status open_postgresql(const std::string& conninfo, std::unique_ptr<SqlConnection>* out);

// The schema text for a dialect (one schema; only the row-id type and the append-only trigger
// syntax differ).
std::string schema_sql(const std::string& dialect);

}  // namespace cg::store

// SQLite backend: WAL journal, incremental auto_vacuum, synchronous=FULL (a commit is on disk
// when exec returns), prepared statements cached per SQL text.
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <map>

#include "controlplane/store/sql.h"

namespace cg::store {
namespace {

class SqliteConnection final : public SqlConnection {
 public:
  explicit SqliteConnection(sqlite3* db) : db_(db) {}
  ~SqliteConnection() override {
    for (auto& [sql, st] : cache_) sqlite3_finalize(st);
    sqlite3_close(db_);
  }
  std::string dialect() const override { return "sqlite"; }

  cp::Status exec(const std::string& sql, const std::vector<SqlValue>& params,
                  std::vector<SqlRow>* rows, int64_t* affected) override {
    sqlite3_stmt* st = nullptr;
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      st = it->second;
    } else {
      if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) !=
          SQLITE_OK)
        return error("prepare");
      if (cache_.size() > 256) {
        for (auto& [s, old] : cache_) sqlite3_finalize(old);
        cache_.clear();
      }
      cache_.emplace(sql, st);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; ++i) {
      const char* name = sqlite3_bind_parameter_name(st, i);
      size_t k = name && name[0] == '$' ? std::strtoul(name + 1, nullptr, 10) : 0;
      if (k == 0 || k > params.size()) return cp::internal("sqlite: unbound parameter in " + sql);
      const SqlValue& v = params[k - 1];
      int rc = SQLITE_OK;
      if (std::holds_alternative<int64_t>(v))
        rc = sqlite3_bind_int64(st, i, std::get<int64_t>(v));
      else if (std::holds_alternative<std::string>(v))
        rc = sqlite3_bind_text(st, i, std::get<std::string>(v).data(),
                               static_cast<int>(std::get<std::string>(v).size()),
                               SQLITE_TRANSIENT);
      else
        rc = sqlite3_bind_null(st, i);
      if (rc != SQLITE_OK) return error("bind");
    }
    for (;;) {
      int rc = sqlite3_step(st);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) {
        cp::Status s = error("step");
        sqlite3_reset(st);
        return s;
      }
      if (!rows) continue;
      SqlRow row;
      int cols = sqlite3_column_count(st);
      row.reserve(cols);
      for (int c = 0; c < cols; ++c) {
        if (sqlite3_column_type(st, c) == SQLITE_NULL) {
          row.emplace_back(std::nullopt);
        } else {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
          row.emplace_back(std::string(p, static_cast<size_t>(sqlite3_column_bytes(st, c))));
        }
      }
      rows->push_back(std::move(row));
    }
    if (affected) *affected = sqlite3_changes(db_);
    sqlite3_reset(st);
    return {};
  }

  cp::Status exec_script(const std::string& sql) override {
    char* msg = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
      std::string m = msg ? msg : "?";
      sqlite3_free(msg);
      return cp::internal("sqlite: " + m);
    }
    return {};
  }

 private:
  cp::Status error(const char* what) {
    int ext = sqlite3_extended_errcode(db_);
    std::string m = std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_);
    if (ext == SQLITE_CONSTRAINT_PRIMARYKEY || ext == SQLITE_CONSTRAINT_UNIQUE)
      return cp::conflict(m);
    if ((ext & 0xff) == SQLITE_BUSY) return cp::unavailable(m);
    return cp::internal(m);
  }
  sqlite3* db_;
  std::map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

cp::Status open_sqlite(const std::string& path, std::unique_ptr<SqlConnection>* out) {
  std::error_code ec;
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return cp::unavailable("sqlite: cannot open " + path + ": " + m);
  }
  sqlite3_busy_timeout(db, 5000);
  auto conn = std::make_unique<SqliteConnection>(db);
  // auto_vacuum takes effect only on a new file (before the first table): retention's deletes
  // then give pages back with incremental_vacuum; an older file reuses its free pages instead.
  // journal_size_limit truncates the WAL after a checkpoint.
  if (auto s = conn->exec_script("PRAGMA auto_vacuum=INCREMENTAL; PRAGMA journal_mode=WAL; "
                                 "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                                 "PRAGMA journal_size_limit=67108864;");
      !s)
    return s;
  *out = std::move(conn);
  return {};
}

}  // namespace cg::store

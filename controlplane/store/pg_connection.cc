// PostgreSQL backend over libpq: text-format parameters, one connection, reconnect once when
// the server went away between calls.
#include <libpq-fe.h>

#include <cstdlib>

#include "controlplane/store/sql.h"

namespace cg::store {
namespace {

class PgConnection final : public SqlConnection {
 public:
  explicit PgConnection(PGconn* c) : conn_(c) {}
  ~PgConnection() override { PQfinish(conn_); }
  std::string dialect() const override { return "postgresql"; }

  cp::Status exec(const std::string& sql, const std::vector<SqlValue>& params,
                  std::vector<SqlRow>* rows, int64_t* affected) override {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    std::vector<std::string> text(params.size());
    std::vector<const char*> values(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      if (std::holds_alternative<int64_t>(params[i])) {
        text[i] = std::to_string(std::get<int64_t>(params[i]));
        values[i] = text[i].c_str();
      } else if (std::holds_alternative<std::string>(params[i])) {
        values[i] = std::get<std::string>(params[i]).c_str();
      } else {
        values[i] = nullptr;
      }
    }
    PGresult* r = PQexecParams(conn_, sql.c_str(), static_cast<int>(params.size()), nullptr,
                               values.data(), nullptr, nullptr, 0);
    cp::Status s = check(r);
    if (s && rows) {
      int n = PQntuples(r), cols = PQnfields(r);
      for (int i = 0; i < n; ++i) {
        SqlRow row;
        row.reserve(cols);
        for (int c = 0; c < cols; ++c) {
          if (PQgetisnull(r, i, c))
            row.emplace_back(std::nullopt);
          else
            row.emplace_back(std::string(PQgetvalue(r, i, c),
                                         static_cast<size_t>(PQgetlength(r, i, c))));
        }
        rows->push_back(std::move(row));
      }
    }
    if (s && affected) {
      const char* t = PQcmdTuples(r);
      *affected = t && *t ? std::strtoll(t, nullptr, 10) : 0;
    }
    PQclear(r);
    return s;
  }

  cp::Status exec_script(const std::string& sql) override {
    if (PQstatus(conn_) != CONNECTION_OK) PQreset(conn_);
    PGresult* r = PQexec(conn_, sql.c_str());
    cp::Status s = check(r);
    PQclear(r);
    return s;
  }

 private:
  cp::Status check(PGresult* r) {
    auto st = PQresultStatus(r);
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return {};
    std::string m = std::string("postgresql: ") + PQresultErrorMessage(r);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    if (state && std::string(state) == "23505") return cp::conflict(m);
    if (PQstatus(conn_) != CONNECTION_OK) return cp::unavailable(m);
    return cp::internal(m);
  }
  PGconn* conn_;
};

}  // namespace

cp::Status open_postgresql(const std::string& conninfo, std::unique_ptr<SqlConnection>* out) {
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::string m = PQerrorMessage(c);
    while (!m.empty() && m.back() == '\n') m.pop_back();
    PQfinish(c);
    return cp::unavailable("postgresql: cannot connect: " + m);
  }
  auto conn = std::make_unique<PgConnection>(c);
  if (auto s = conn->exec_script("SET client_min_messages = warning"); !s) return s;
  *out = std::move(conn);
  return {};
}

}  // namespace cg::store

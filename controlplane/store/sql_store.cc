// Store over a SqlConnection: the same SQL for both engines (see schema.cc). One connection,
// one mutex: calls are serialised, which keeps SQLite's single-writer rule and libpq's
// one-query-per-connection rule trivially true.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <mutex>

#include "controlplane/store/sql.h"
#include "controlplane/store/store.h"

namespace cg::store {
namespace {

constexpr size_t kEventColumns = 16;
constexpr size_t kRowsPerInsert = 64;
constexpr const char* kEventSelect =
    "SELECT id, event_id, ts, event_type, severity, src_ip, src_port, dest_ip, dest_port, proto, "
    "app_proto, rule, signature, school_id, zone, community_id, body FROM events";

int64_t to_i64(const std::optional<std::string>& s) {
  return s ? std::strtoll(s->c_str(), nullptr, 10) : 0;
}
std::string to_s(const std::optional<std::string>& s) { return s ? *s : std::string(); }

Event event_from_row(const SqlRow& r) {
  Event e;
  e.id = to_i64(r[0]);
  e.event_id = to_s(r[1]);
  e.ts_us = to_i64(r[2]);
  e.event_type = to_s(r[3]);
  e.severity = static_cast<int>(to_i64(r[4]));
  e.src_ip = to_s(r[5]);
  e.src_port = static_cast<int>(to_i64(r[6]));
  e.dest_ip = to_s(r[7]);
  e.dest_port = static_cast<int>(to_i64(r[8]));
  e.proto = to_s(r[9]);
  e.app_proto = to_s(r[10]);
  e.rule = to_s(r[11]);
  e.signature = to_s(r[12]);
  e.school_id = to_s(r[13]);
  e.zone = to_s(r[14]);
  e.community_id = to_s(r[15]);
  e.body = to_s(r[16]);
  return e;
}

Revision revision_from_row(const SqlRow& r) {
  Revision v;
  v.number = to_i64(r[0]);
  v.created_us = to_i64(r[1]);
  v.user = to_s(r[2]);
  v.comment = to_s(r[3]);
  v.action = to_s(r[4]);
  v.origin = to_s(r[5]);
  v.sha256 = to_s(r[6]);
  v.generation = static_cast<uint64_t>(to_i64(r[7]));
  v.source = to_s(r[8]);
  return v;
}

AuditRecord audit_from_row(const SqlRow& r) {
  AuditRecord a;
  a.seq = to_i64(r[0]);
  a.ts_us = to_i64(r[1]);
  a.user = to_s(r[2]);
  a.action = to_s(r[3]);
  a.object = to_s(r[4]);
  a.detail = to_s(r[5]);
  a.prev_hash = to_s(r[6]);
  a.hash = to_s(r[7]);
  return a;
}

User user_from_row(const SqlRow& r) {
  User u;
  u.name = to_s(r[0]);
  u.role = to_s(r[1]);
  u.password_hash = to_s(r[2]);
  u.failed = static_cast<int>(to_i64(r[3]));
  u.locked_until_us = to_i64(r[4]);
  u.created_us = to_i64(r[5]);
  return u;
}

// WHERE clause for an event query; parameters appended to `p`.
std::string where(const EventQuery& q, std::vector<SqlValue>* p) {
  auto param = [p](SqlValue v) {
    p->push_back(std::move(v));
    return "$" + std::to_string(p->size());
  };
  std::string w = " WHERE ts >= " + param(q.from_us) + " AND ts < " + param(q.to_us);
  if (!q.event_type.empty()) w += " AND event_type = " + param(q.event_type);
  if (q.max_severity > 0)
    w += " AND severity BETWEEN 1 AND " + param(static_cast<int64_t>(q.max_severity));
  if (!q.address.empty()) {
    std::string a = param(q.address);
    w += " AND (src_ip = " + a + " OR dest_ip = " + a + ")";
  }
  if (!q.app.empty()) w += " AND app_proto = " + param(q.app);
  if (!q.rule.empty()) w += " AND rule = " + param(q.rule);
  return w;
}

class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlConnection> c) : c_(std::move(c)) {}
  std::string backend() const override { return c_->dialect(); }

  Status init() {
    std::lock_guard lock(mu_);
    return c_->exec_script(schema_sql(c_->dialect()));
  }

  Status insert_events(const std::vector<Event>& events, size_t* inserted,
                       std::vector<std::string>* fresh_ids = nullptr) override {
    std::lock_guard lock(mu_);
    size_t total = 0;
    std::vector<std::string> fresh;
    Status s = transaction([&]() -> Status {
      for (size_t start = 0; start < events.size(); start += kRowsPerInsert) {
        size_t n = std::min(kRowsPerInsert, events.size() - start);
        std::string sql =
            "INSERT INTO events (event_id, ts, event_type, severity, src_ip, src_port, dest_ip, "
            "dest_port, proto, app_proto, rule, signature, school_id, zone, community_id, body) "
            "VALUES ";
        std::vector<SqlValue> p;
        p.reserve(n * kEventColumns);
        for (size_t i = 0; i < n; ++i) {
          const Event& e = events[start + i];
          sql += i ? ",(" : "(";
          for (size_t c = 0; c < kEventColumns; ++c)
            sql += (c ? ",$" : "$") + std::to_string(i * kEventColumns + c + 1);
          sql += ")";
          p.insert(p.end(), {e.event_id, e.ts_us, e.event_type, int64_t{e.severity}, e.src_ip,
                             int64_t{e.src_port}, e.dest_ip, int64_t{e.dest_port}, e.proto,
                             e.app_proto, e.rule, e.signature, e.school_id, e.zone,
                             e.community_id, e.body});
        }
        sql += " ON CONFLICT (event_id) DO NOTHING";
        int64_t affected = 0;
        if (fresh_ids) {
          sql += " RETURNING event_id";
          std::vector<SqlRow> rows;
          if (auto st = c_->exec(sql, p, &rows); !st) return st;
          for (auto& r : rows)
            if (!r.empty() && r[0]) fresh.push_back(std::move(*r[0]));
          affected = static_cast<int64_t>(rows.size());
        } else if (auto st = c_->exec(sql, p, nullptr, &affected); !st) {
          return st;
        }
        total += static_cast<size_t>(affected);
      }
      return {};
    });
    if (s && inserted) *inserted = total;
    if (s && fresh_ids) *fresh_ids = std::move(fresh);
    return s;
  }

  Status query_events(const EventQuery& q, EventPage* page) override {
    std::vector<SqlValue> p;
    std::string sql = std::string(kEventSelect) + where(q, &p);
    if (!q.cursor.empty()) {
      int64_t cts = 0, cid = 0;
      if (!parse_cursor(q.cursor, &cts, &cid)) return cp::invalid("bad cursor");
      p.push_back(cts);
      std::string a = "$" + std::to_string(p.size());
      p.push_back(cid);
      std::string b = "$" + std::to_string(p.size());
      sql += " AND (ts < " + a + " OR (ts = " + a + " AND id < " + b + "))";
    }
    int limit = std::clamp(q.limit, 1, 1000);
    p.push_back(int64_t{limit + 1});
    sql += " ORDER BY ts DESC, id DESC LIMIT $" + std::to_string(p.size());
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(sql, p, &rows); !s) return s;
    page->events.clear();
    page->next_cursor.clear();
    for (size_t i = 0; i < rows.size() && i < static_cast<size_t>(limit); ++i)
      page->events.push_back(event_from_row(rows[i]));
    if (rows.size() > static_cast<size_t>(limit)) {
      const Event& last = page->events.back();
      page->next_cursor = std::to_string(last.ts_us) + "." + std::to_string(last.id);
    }
    return {};
  }

  Status count_events(const EventQuery& q, int64_t bucket_us,
                      std::vector<BucketCount>* out) override {
    if (bucket_us <= 0) return cp::invalid("bucket must be positive");
    std::vector<SqlValue> p;
    std::string w = where(q, &p);
    p.push_back(bucket_us);
    std::string b = "$" + std::to_string(p.size());
    std::string sql = "SELECT (ts / " + b + ") * " + b + " AS bucket, COUNT(*) FROM events" + w +
                      " GROUP BY bucket ORDER BY bucket";
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(sql, p, &rows); !s) return s;
    out->clear();
    for (const auto& r : rows) out->push_back({to_i64(r[0]), to_i64(r[1])});
    return {};
  }

  Status total_events(int64_t* n) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT COUNT(*) FROM events", {}, &rows); !s) return s;
    *n = rows.empty() ? 0 : to_i64(rows[0][0]);
    return {};
  }

  Status list_events_after(int64_t after_id, int limit, std::vector<Event>* out,
                           int64_t* last_id) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kEventSelect) + " WHERE id > $1 ORDER BY id LIMIT $2",
                          {after_id, int64_t{std::clamp(limit, 1, 10000)}}, &rows);
        !s)
      return s;
    out->clear();
    for (const auto& r : rows) out->push_back(event_from_row(r));
    if (last_id) {
      rows.clear();
      if (auto s = c_->exec("SELECT COALESCE(MAX(id), 0) FROM events", {}, &rows); !s) return s;
      *last_id = rows.empty() ? 0 : to_i64(rows[0][0]);
    }
    return {};
  }

  Status add_revision(Revision* v) override {
    std::lock_guard lock(mu_);
    return transaction([&]() -> Status {
      std::vector<SqlRow> rows;
      if (auto s = c_->exec("SELECT COALESCE(MAX(number), 0) FROM revisions", {}, &rows); !s)
        return s;
      v->number = to_i64(rows[0][0]) + 1;
      return c_->exec(
          "INSERT INTO revisions (number, created, username, comment, action, origin, sha256, "
          "generation, source) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
          {v->number, v->created_us, v->user, v->comment, v->action, v->origin, v->sha256,
           static_cast<int64_t>(v->generation), v->source});
    });
  }

  Status get_revision(int64_t number, Revision* v) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kRevisionSelect) + " WHERE number = $1", {number}, &rows);
        !s)
      return s;
    if (rows.empty()) return cp::not_found("no revision " + std::to_string(number));
    *v = revision_from_row(rows[0]);
    return {};
  }

  Status list_revisions(int limit, std::vector<Revision>* out) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kRevisionSelect) + " ORDER BY number DESC LIMIT $1",
                          {int64_t{std::clamp(limit, 1, 100000)}}, &rows);
        !s)
      return s;
    out->clear();
    for (const auto& r : rows) out->push_back(revision_from_row(r));
    return {};
  }

  Status prune_revisions(int keep) override {
    std::lock_guard lock(mu_);
    return c_->exec(
        "DELETE FROM revisions WHERE number <= (SELECT COALESCE(MAX(number), 0) FROM revisions) "
        "- $1",
        {int64_t{keep}});
  }

  Status last_audit(AuditRecord* rec, bool* found) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kAuditSelect) + " ORDER BY seq DESC LIMIT 1", {}, &rows);
        !s)
      return s;
    *found = !rows.empty();
    if (*found) *rec = audit_from_row(rows[0]);
    return {};
  }

  Status insert_audit(const AuditRecord& a) override {
    std::lock_guard lock(mu_);
    return c_->exec(
        "INSERT INTO audit (seq, ts, username, action, object, detail, prev_hash, hash) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
        {a.seq, a.ts_us, a.user, a.action, a.object, a.detail, a.prev_hash, a.hash});
  }

  Status list_audit(int64_t after_seq, int limit, std::vector<AuditRecord>* out) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kAuditSelect) + " WHERE seq > $1 ORDER BY seq LIMIT $2",
                          {after_seq, int64_t{std::clamp(limit, 1, 100000)}}, &rows);
        !s)
      return s;
    out->clear();
    for (const auto& r : rows) out->push_back(audit_from_row(r));
    return {};
  }

  Status prune_audit(const AuditAnchor& anchor, const AuditRecord& a, const std::string& head_key,
                     const std::string& head_value) override {
    std::lock_guard lock(mu_);
    return transaction([&]() -> Status {
      // The anchor first: the engine refuses to delete any record above the newest anchor.
      if (auto s = c_->exec("INSERT INTO audit_anchor (seq, hash, pruned) VALUES ($1, $2, $3)",
                            {anchor.seq, anchor.hash, anchor.pruned_us});
          !s)
        return s;
      if (auto s = c_->exec("DELETE FROM audit WHERE seq <= $1", {anchor.seq}); !s) return s;
      if (auto s = c_->exec(
              "INSERT INTO audit (seq, ts, username, action, object, detail, prev_hash, hash) "
              "VALUES ($1,$2,$3,$4,$5,$6,$7,$8)",
              {a.seq, a.ts_us, a.user, a.action, a.object, a.detail, a.prev_hash, a.hash});
          !s)
        return s;
      return c_->exec(
          "INSERT INTO state (key, value) VALUES ($1, $2) "
          "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
          {head_key, head_value});
    });
  }

  Status last_audit_anchor(AuditAnchor* anchor, bool* found) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT seq, hash, pruned FROM audit_anchor ORDER BY seq DESC LIMIT 1",
                          {}, &rows);
        !s)
      return s;
    *found = !rows.empty();
    if (*found) *anchor = {to_i64(rows[0][0]), to_s(rows[0][1]), to_i64(rows[0][2])};
    return {};
  }

  Status last_audit_before(int64_t ts_us, int64_t* seq) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT COALESCE(MAX(seq), 0) FROM audit WHERE ts < $1", {ts_us},
                          &rows);
        !s)
      return s;
    *seq = rows.empty() ? 0 : to_i64(rows[0][0]);
    return {};
  }

  Status delete_events_before(int64_t before_us, int limit, int64_t* deleted) override {
    std::lock_guard lock(mu_);
    *deleted = 0;
    return c_->exec(
        "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < $1 ORDER BY ts, id "
        "LIMIT $2)",
        {before_us, int64_t{std::max(limit, 1)}}, nullptr, deleted);
  }

  Status delete_oldest_events(int limit, int64_t* deleted, int64_t* newest_deleted_us) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(
            "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY ts, id LIMIT $1) "
            "RETURNING ts",
            {int64_t{std::max(limit, 1)}}, &rows);
        !s)
      return s;
    *deleted = static_cast<int64_t>(rows.size());
    *newest_deleted_us = 0;
    for (const auto& r : rows) *newest_deleted_us = std::max(*newest_deleted_us, to_i64(r[0]));
    return {};
  }

  Status count_events_since(int64_t since_us, int64_t* n) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT COUNT(*) FROM events WHERE ts >= $1", {since_us}, &rows); !s)
      return s;
    *n = rows.empty() ? 0 : to_i64(rows[0][0]);
    return {};
  }

  Status oldest_event(int64_t* ts_us, bool* found) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT MIN(ts) FROM events", {}, &rows); !s) return s;
    *found = !rows.empty() && rows[0][0].has_value();
    *ts_us = *found ? to_i64(rows[0][0]) : 0;
    return {};
  }

  Status store_bytes(int64_t* bytes) override {
    std::lock_guard lock(mu_);
    std::vector<SqlRow> rows;
    if (c_->dialect() == "postgresql") {
      if (auto s = c_->exec(
              "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
              "JOIN pg_namespace n ON n.oid = c.relnamespace "
              "WHERE n.nspname = current_schema() AND c.relkind = 'r'",
              {}, &rows);
          !s)
        return s;
      *bytes = rows.empty() ? 0 : to_i64(rows[0][0]);
      return {};
    }
    int64_t pages = 0, free_pages = 0, page_size = 0;
    for (auto [pragma, out] : {std::pair{"PRAGMA page_count", &pages},
                               std::pair{"PRAGMA freelist_count", &free_pages},
                               std::pair{"PRAGMA page_size", &page_size}}) {
      rows.clear();
      if (auto s = c_->exec(pragma, {}, &rows); !s) return s;
      *out = rows.empty() ? 0 : to_i64(rows[0][0]);
    }
    rows.clear();
    if (auto s = c_->exec("SELECT file FROM pragma_database_list WHERE name = 'main'", {}, &rows);
        !s)
      return s;
    int64_t wal = 0;
    if (!rows.empty() && rows[0][0] && !rows[0][0]->empty()) {
      std::error_code ec;
      auto n = std::filesystem::file_size(*rows[0][0] + "-wal", ec);
      if (!ec) wal = static_cast<int64_t>(n);
    }
    *bytes = (pages - free_pages) * page_size + wal;
    return {};
  }

  Status reclaim_space() override {
    std::lock_guard lock(mu_);
    if (c_->dialect() == "postgresql") return {};  // autovacuum (scale factor 0.01, schema.cc)
    std::vector<SqlRow> rows;
    if (auto s = c_->exec("PRAGMA incremental_vacuum", {}, &rows); !s) return s;
    rows.clear();
    return c_->exec("PRAGMA wal_checkpoint(TRUNCATE)", {}, &rows);
  }

  Status put_session(const SessionRow& r) override {
    std::lock_guard lock(mu_);
    return c_->exec(
        "INSERT INTO sessions (token_hash, csrf, username, role, expires, created) "
        "VALUES ($1,$2,$3,$4,$5,$6)",
        {r.token_hash, r.csrf, r.user, r.role, r.expires_us, r.created_us});
  }

  Status get_session(const std::string& token_hash, SessionRow* r) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT token_hash, csrf, username, role, expires, created FROM "
                          "sessions WHERE token_hash = $1",
                          {token_hash}, &rows);
        !s)
      return s;
    if (rows.empty()) return cp::not_found("no such session");
    const auto& x = rows[0];
    *r = {to_s(x[0]), to_s(x[1]), to_s(x[2]), to_s(x[3]), to_i64(x[4]), to_i64(x[5])};
    return {};
  }

  Status delete_session(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    return c_->exec("DELETE FROM sessions WHERE token_hash = $1", {token_hash});
  }

  Status delete_user_sessions(const std::string& user) override {
    std::lock_guard lock(mu_);
    return c_->exec("DELETE FROM sessions WHERE username = $1", {user});
  }

  Status expire_sessions(int64_t now_us, int64_t* live) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("DELETE FROM sessions WHERE expires <= $1", {now_us}); !s) return s;
    if (auto s = c_->exec("SELECT COUNT(*) FROM sessions", {}, &rows); !s) return s;
    *live = rows.empty() ? 0 : to_i64(rows[0][0]);
    return {};
  }

  Status put_user(const User& u) override {
    std::lock_guard lock(mu_);
    return c_->exec(
        "INSERT INTO users (name, role, password_hash, failed, locked_until, created) "
        "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (name) DO UPDATE SET role = excluded.role, "
        "password_hash = excluded.password_hash, failed = excluded.failed, "
        "locked_until = excluded.locked_until",
        {u.name, u.role, u.password_hash, int64_t{u.failed}, u.locked_until_us, u.created_us});
  }

  Status get_user(const std::string& name, User* u) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kUserSelect) + " WHERE name = $1", {name}, &rows); !s)
      return s;
    if (rows.empty()) return cp::not_found("no user " + name);
    *u = user_from_row(rows[0]);
    return {};
  }

  Status list_users(std::vector<User>* out) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec(std::string(kUserSelect) + " ORDER BY name", {}, &rows); !s) return s;
    out->clear();
    for (const auto& r : rows) out->push_back(user_from_row(r));
    return {};
  }

  Status set_login_state(const std::string& name, int failed, int64_t locked_until) override {
    std::lock_guard lock(mu_);
    return c_->exec("UPDATE users SET failed = $1, locked_until = $2 WHERE name = $3",
                    {int64_t{failed}, locked_until, name});
  }

  Status put_state(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    return c_->exec(
        "INSERT INTO state (key, value) VALUES ($1, $2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {key, value});
  }

  Status get_state(const std::string& key, std::string* value, bool* found) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT value FROM state WHERE key = $1", {key}, &rows); !s) return s;
    *found = !rows.empty();
    if (*found) *value = to_s(rows[0][0]);
    return {};
  }

  Status delete_state(const std::string& key) override {
    std::lock_guard lock(mu_);
    return c_->exec("DELETE FROM state WHERE key = $1", {key});
  }

  Status put_quarantine(const QuarantineEntry& e) override {
    std::lock_guard lock(mu_);
    return c_->exec(
        "INSERT INTO quarantine (address, owner, reason, since, expires) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO UPDATE SET owner = excluded.owner, "
        "reason = excluded.reason, since = excluded.since, expires = excluded.expires",
        {e.address, e.owner, e.reason, e.since_us, e.expires_us});
  }

  Status delete_quarantine(const std::string& address) override {
    std::lock_guard lock(mu_);
    int64_t affected = 0;
    if (auto s = c_->exec("DELETE FROM quarantine WHERE address = $1", {address}, nullptr,
                          &affected);
        !s)
      return s;
    return affected ? Status{} : cp::not_found(address + " is not quarantined");
  }

  Status list_quarantine(std::vector<QuarantineEntry>* out) override {
    std::vector<SqlRow> rows;
    std::lock_guard lock(mu_);
    if (auto s = c_->exec("SELECT address, owner, reason, since, expires FROM quarantine "
                          "ORDER BY address",
                          {}, &rows);
        !s)
      return s;
    out->clear();
    for (const auto& r : rows)
      out->push_back({to_s(r[0]), to_s(r[1]), to_s(r[2]), to_i64(r[3]), to_i64(r[4])});
    return {};
  }

 private:
  static constexpr const char* kRevisionSelect =
      "SELECT number, created, username, comment, action, origin, sha256, generation, source "
      "FROM revisions";
  static constexpr const char* kAuditSelect =
      "SELECT seq, ts, username, action, object, detail, prev_hash, hash FROM audit";
  static constexpr const char* kUserSelect =
      "SELECT name, role, password_hash, failed, locked_until, created FROM users";

  static bool parse_cursor(const std::string& c, int64_t* ts, int64_t* id) {
    auto dot = c.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 >= c.size()) return false;
    char* end = nullptr;
    *ts = std::strtoll(c.c_str(), &end, 10);
    if (end != c.c_str() + dot) return false;
    *id = std::strtoll(c.c_str() + dot + 1, &end, 10);
    return *end == '\0';
  }

  template <typename F>
  Status transaction(F body) {
    const char* begin = c_->dialect() == "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN";
    if (auto s = c_->exec(begin, {}); !s) return s;
    Status s = body();
    if (!s) {
      c_->exec("ROLLBACK", {});
      return s;
    }
    return c_->exec("COMMIT", {});
  }

  std::mutex mu_;
  std::unique_ptr<SqlConnection> c_;
};

}  // namespace

Status open_store(const StoreConfig& config, std::unique_ptr<Store>* out) {
  std::unique_ptr<SqlConnection> conn;
  Status s;
  if (config.backend == "sqlite")
    s = open_sqlite(config.sqlite_path, &conn);
  else if (config.backend == "postgresql")
    s = open_postgresql(config.pg_conninfo, &conn);
  else
    return cp::invalid("unknown store backend '" + config.backend + "'");
  if (!s) return s;
  auto store = std::make_unique<SqlStore>(std::move(conn));
  if (s = store->init(); !s) return s;
  *out = std::move(store);
  return {};
}

}  // namespace cg::store

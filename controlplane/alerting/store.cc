#include "controlplane/alerting/store.h"

namespace cg::alerting {

std::string_view delivery_state_name(DeliveryState s) {
  switch (s) {
    case DeliveryState::kPending:
      return "pending";
    case DeliveryState::kDelivered:
      return "delivered";
    case DeliveryState::kRefused:
      return "refused";
    case DeliveryState::kOrphaned:
      return "orphaned";
  }
  return "pending";
}

namespace {
DeliveryState state_from(std::string_view s) {
  for (auto v : {DeliveryState::kPending, DeliveryState::kDelivered, DeliveryState::kRefused,
                 DeliveryState::kOrphaned})
    if (delivery_state_name(v) == s) return v;
  return DeliveryState::kPending;
}

// RAII statement; bind helpers return false on error.
class Stmt {
 public:
  explicit Stmt(sqlite3_stmt* s) : s_(s) {}
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  explicit operator bool() const { return s_ != nullptr; }
  sqlite3_stmt* get() const { return s_; }
  Stmt& i64(int idx, int64_t v) {
    sqlite3_bind_int64(s_, idx, v);
    return *this;
  }
  Stmt& text(int idx, const std::string& v) {
    sqlite3_bind_text(s_, idx, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  int step() { return sqlite3_step(s_); }
  int64_t col_i64(int c) { return sqlite3_column_int64(s_, c); }
  std::string col_text(int c) {
    const unsigned char* t = sqlite3_column_text(s_, c);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
  }

 private:
  sqlite3_stmt* s_;
};

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  rule TEXT NOT NULL,
  severity INTEGER NOT NULL,
  state TEXT NOT NULL,
  last_seen_ms INTEGER NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_state ON alerts(state, id);
CREATE TABLE IF NOT EXISTS deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  alert_id INTEGER NOT NULL,
  channel TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_ms INTEGER NOT NULL,
  created_ms INTEGER NOT NULL,
  delivered_ms INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_ms);
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries(alert_id);
CREATE TABLE IF NOT EXISTS silences (
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS progress (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
)sql";

Delivery read_delivery(Stmt& s) {
  Delivery d;
  d.id = s.col_i64(0);
  d.alert_id = static_cast<uint64_t>(s.col_i64(1));
  d.channel = s.col_text(2);
  d.state = state_from(s.col_text(3));
  d.attempts = static_cast<uint32_t>(s.col_i64(4));
  d.next_attempt_ms = s.col_i64(5);
  d.created_ms = s.col_i64(6);
  d.delivered_ms = s.col_i64(7);
  d.last_error = s.col_text(8);
  return d;
}
constexpr const char* kDeliveryCols =
    "id, alert_id, channel, state, attempts, next_attempt_ms, created_ms, delivered_ms, "
    "last_error";
}  // namespace

nlohmann::json delivery_to_json(const Delivery& d) {
  nlohmann::json j = {{"id", d.id},
                      {"alert_id", d.alert_id},
                      {"channel", d.channel},
                      {"state", delivery_state_name(d.state)},
                      {"attempts", d.attempts},
                      {"created", format_rfc3339(from_ms(d.created_ms))},
                      {"last_error", d.last_error}};
  if (d.state == DeliveryState::kPending)
    j["next_attempt"] = format_rfc3339(from_ms(d.next_attempt_ms));
  if (d.state == DeliveryState::kDelivered)
    j["delivered"] = format_rfc3339(from_ms(d.delivered_ms));
  return j;
}

Store::~Store() {
  sqlite3_close(db_);
}

std::unique_ptr<Store> Store::open(const std::string& path, std::string& error) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    error = "sqlite open " + path + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return nullptr;
  }
  sqlite3_busy_timeout(db, 5000);
  std::unique_ptr<Store> s(new Store(db));
  if (!s->exec("PRAGMA journal_mode=WAL;") || !s->exec("PRAGMA synchronous=FULL;") ||
      !s->exec(kSchema)) {
    error = "sqlite init " + path + ": " + s->error_;
    return nullptr;
  }
  return s;
}

bool Store::fail() {
  error_ = sqlite3_errmsg(db_);
  return false;
}

bool Store::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    error_ = msg ? msg : "sqlite error";
    sqlite3_free(msg);
    return false;
  }
  return true;
}

sqlite3_stmt* Store::prepare(const char* sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql, -1, &st, nullptr) != SQLITE_OK) {
    error_ = sqlite3_errmsg(db_);
    return nullptr;
  }
  return st;
}

bool Store::begin() {
  return exec("BEGIN IMMEDIATE;");
}
bool Store::commit() {
  return exec("COMMIT;");
}
void Store::rollback() {
  exec("ROLLBACK;");
}

bool Store::put_progress(const std::string& key, int64_t value) {
  Stmt s(prepare("INSERT OR REPLACE INTO progress(key, value) VALUES (?, ?)"));
  if (!s) return false;
  s.text(1, key).i64(2, value);
  return s.step() == SQLITE_DONE || fail();
}

std::optional<int64_t> Store::progress(const std::string& key) {
  Stmt s(prepare("SELECT value FROM progress WHERE key = ?"));
  if (!s) return std::nullopt;
  s.text(1, key);
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return s.col_i64(0);
}

bool Store::put_alert(const Alert& a) {
  Stmt s(
      prepare("INSERT OR REPLACE INTO alerts(id, rule, severity, state, last_seen_ms, body) "
              "VALUES (?, ?, ?, ?, ?, ?)"));
  if (!s) return false;
  s.i64(1, static_cast<int64_t>(a.id)).text(2, a.rule).i64(3, static_cast<int>(a.severity));
  s.text(4, std::string(alert_state_name(a.state))).i64(5, to_ms(a.last_seen));
  s.text(6, alert_to_json(a).dump());
  return s.step() == SQLITE_DONE || fail();
}

std::optional<Alert> Store::alert(uint64_t id) {
  Stmt s(prepare("SELECT body FROM alerts WHERE id = ?"));
  if (!s) return std::nullopt;
  s.i64(1, static_cast<int64_t>(id));
  if (s.step() != SQLITE_ROW) return std::nullopt;
  return alert_from_json(nlohmann::json::parse(s.col_text(0), nullptr, false));
}

std::vector<Alert> Store::alerts(const AlertQuery& q) {
  std::vector<Alert> out;
  Stmt s(
      prepare("SELECT body FROM alerts WHERE (?1 = '' OR state = ?1) AND severity >= ?2 "
              "AND (?3 = '' OR rule = ?3) AND last_seen_ms >= ?4 AND (?5 = 0 OR id < ?5) "
              "ORDER BY id DESC LIMIT ?6"));
  if (!s) return out;
  s.text(1, q.state ? std::string(alert_state_name(*q.state)) : "");
  s.i64(2, q.min_severity ? static_cast<int>(*q.min_severity) : 0);
  s.text(3, q.rule);
  s.i64(4, q.since ? to_ms(*q.since) : INT64_MIN);
  s.i64(5, static_cast<int64_t>(q.before_id));
  s.i64(6, q.limit);
  while (s.step() == SQLITE_ROW)
    if (auto a = alert_from_json(nlohmann::json::parse(s.col_text(0), nullptr, false)))
      out.push_back(std::move(*a));
  return out;
}

uint64_t Store::max_alert_id() {
  Stmt s(prepare("SELECT COALESCE(MAX(id), 0) FROM alerts"));
  if (!s || s.step() != SQLITE_ROW) return 0;
  return static_cast<uint64_t>(s.col_i64(0));
}

bool Store::enqueue(uint64_t alert_id, const std::string& channel, DeliveryState state,
                    int64_t now_ms, const std::string& note) {
  Stmt s(
      prepare("INSERT INTO deliveries(alert_id, channel, state, next_attempt_ms, created_ms, "
              "last_error) VALUES (?, ?, ?, ?, ?, ?)"));
  if (!s) return false;
  s.i64(1, static_cast<int64_t>(alert_id)).text(2, channel);
  s.text(3, std::string(delivery_state_name(state))).i64(4, now_ms).i64(5, now_ms).text(6, note);
  return s.step() == SQLITE_DONE || fail();
}

std::vector<Delivery> Store::due(int64_t now_ms, uint32_t limit) {
  std::vector<Delivery> out;
  std::string sql = std::string("SELECT ") + kDeliveryCols +
                    " FROM deliveries WHERE state = 'pending' AND next_attempt_ms <= ? "
                    "ORDER BY next_attempt_ms, id LIMIT ?";
  Stmt s(prepare(sql.c_str()));
  if (!s) return out;
  s.i64(1, now_ms).i64(2, limit);
  while (s.step() == SQLITE_ROW) out.push_back(read_delivery(s));
  return out;
}

std::vector<Delivery> Store::deliveries(uint64_t alert_id) {
  std::vector<Delivery> out;
  std::string sql =
      std::string("SELECT ") + kDeliveryCols + " FROM deliveries WHERE alert_id = ? ORDER BY id";
  Stmt s(prepare(sql.c_str()));
  if (!s) return out;
  s.i64(1, static_cast<int64_t>(alert_id));
  while (s.step() == SQLITE_ROW) out.push_back(read_delivery(s));
  return out;
}

bool Store::mark_delivered(int64_t id, uint32_t attempts, int64_t now_ms) {
  Stmt s(
      prepare("UPDATE deliveries SET state = 'delivered', attempts = ?, delivered_ms = ?, "
              "last_error = '' WHERE id = ?"));
  if (!s) return false;
  s.i64(1, attempts).i64(2, now_ms).i64(3, id);
  return s.step() == SQLITE_DONE || fail();
}

bool Store::mark_failed(int64_t id, uint32_t attempts, int64_t next_ms, const std::string& error) {
  Stmt s(
      prepare("UPDATE deliveries SET attempts = ?, next_attempt_ms = ?, last_error = ? "
              "WHERE id = ?"));
  if (!s) return false;
  s.i64(1, attempts).i64(2, next_ms).text(3, error).i64(4, id);
  return s.step() == SQLITE_DONE || fail();
}

bool Store::mark_orphaned(int64_t id, const std::string& error) {
  Stmt s(prepare("UPDATE deliveries SET state = 'orphaned', last_error = ? WHERE id = ?"));
  if (!s) return false;
  s.text(1, error).i64(2, id);
  return s.step() == SQLITE_DONE || fail();
}

uint64_t Store::pending_count() {
  Stmt s(prepare("SELECT COUNT(*) FROM deliveries WHERE state = 'pending'"));
  if (!s || s.step() != SQLITE_ROW) return 0;
  return static_cast<uint64_t>(s.col_i64(0));
}

std::optional<int64_t> Store::next_due_ms() {
  Stmt s(prepare("SELECT MIN(next_attempt_ms) FROM deliveries WHERE state = 'pending'"));
  if (!s || s.step() != SQLITE_ROW || sqlite3_column_type(s.get(), 0) == SQLITE_NULL)
    return std::nullopt;
  return s.col_i64(0);
}

bool Store::put_silence(const Silence& sil) {
  Stmt s(prepare("INSERT OR REPLACE INTO silences(id, body) VALUES (?, ?)"));
  if (!s) return false;
  s.text(1, sil.id).text(2, silence_to_json(sil).dump());
  return s.step() == SQLITE_DONE || fail();
}

bool Store::delete_silence(const std::string& id) {
  Stmt s(prepare("DELETE FROM silences WHERE id = ?"));
  if (!s) return false;
  s.text(1, id);
  return s.step() == SQLITE_DONE || fail();
}

std::vector<Silence> Store::silences() {
  std::vector<Silence> out;
  Stmt s(prepare("SELECT body FROM silences ORDER BY id"));
  if (!s) return out;
  while (s.step() == SQLITE_ROW) {
    std::string err;
    auto j = nlohmann::json::parse(s.col_text(0), nullptr, false);
    if (auto sil = silence_from_json(j, err))
      out.push_back(std::move(*sil));
    else
      error_ = "stored silence unreadable: " + err;
  }
  return out;
}

}  // namespace cg::alerting

// The store's one schema. Columns are plain TEXT / INTEGER / BIGINT that both SQLite and
// PostgreSQL understand; {ID} is the auto-assigned row id type of the dialect. Times are µs
// since the epoch (BIGINT) so bucketing is integer arithmetic in both engines.
#include <string>

#include "controlplane/store/sql.h"

namespace cg::store {
namespace {

constexpr const char* kSchema = R"SQL(
CREATE TABLE IF NOT EXISTS events (
  id {ID},
  event_id TEXT NOT NULL UNIQUE,
  ts BIGINT NOT NULL,
  event_type TEXT NOT NULL,
  severity INTEGER NOT NULL,
  src_ip TEXT NOT NULL,
  src_port INTEGER NOT NULL,
  dest_ip TEXT NOT NULL,
  dest_port INTEGER NOT NULL,
  proto TEXT NOT NULL,
  app_proto TEXT NOT NULL,
  rule TEXT NOT NULL,
  signature TEXT NOT NULL,
  school_id TEXT NOT NULL,
  zone TEXT NOT NULL,
  community_id TEXT NOT NULL,
  body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_ts ON events (ts, id);
CREATE INDEX IF NOT EXISTS events_type_ts ON events (event_type, ts);
CREATE INDEX IF NOT EXISTS events_src_ts ON events (src_ip, ts);
CREATE INDEX IF NOT EXISTS events_dest_ts ON events (dest_ip, ts);
CREATE INDEX IF NOT EXISTS events_app_ts ON events (app_proto, ts);
CREATE INDEX IF NOT EXISTS events_rule_ts ON events (rule, ts);
CREATE TABLE IF NOT EXISTS revisions (
  number BIGINT PRIMARY KEY,
  created BIGINT NOT NULL,
  username TEXT NOT NULL,
  comment TEXT NOT NULL,
  action TEXT NOT NULL,
  origin TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  generation BIGINT NOT NULL,
  source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  seq BIGINT PRIMARY KEY,
  ts BIGINT NOT NULL,
  username TEXT NOT NULL,
  action TEXT NOT NULL,
  object TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS users (
  name TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  failed INTEGER NOT NULL,
  locked_until BIGINT NOT NULL,
  created BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_anchor (
  seq BIGINT PRIMARY KEY,
  hash TEXT NOT NULL,
  pruned BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  csrf TEXT NOT NULL,
  username TEXT NOT NULL,
  role TEXT NOT NULL,
  expires BIGINT NOT NULL,
  created BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expires ON sessions (expires);
CREATE TABLE IF NOT EXISTS quarantine (
  address TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  reason TEXT NOT NULL,
  since BIGINT NOT NULL,
  expires BIGINT NOT NULL
);
)SQL";

// The audit table refuses UPDATE, and DELETE of any record not covered by an anchor, in the
// engine itself; audit_anchor refuses both. Pruning (SqlStore::prune_audit) writes the anchor
// first and then deletes up to it, in one transaction. The hash chain still detects edits made
// by someone who drops the triggers, edits the file or forges an anchor (controlplane/audit).
constexpr const char* kSqliteAppendOnly = R"SQL(
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
DROP TRIGGER IF EXISTS audit_no_delete;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  WHEN OLD.seq > (SELECT COALESCE(MAX(seq), 0) FROM audit_anchor)
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_no_update BEFORE UPDATE ON audit_anchor
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_anchor_no_delete BEFORE DELETE ON audit_anchor
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
)SQL";

// Retention deletes the oldest events in small batches: autovacuum after 1% dead rows (instead
// of 20%) makes their space reusable soon, so the table stops growing.
constexpr const char* kPgAppendOnly = R"SQL(
CREATE OR REPLACE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP = 'DELETE' AND TG_TABLE_NAME = 'audit'
       AND OLD.seq <= (SELECT COALESCE(MAX(seq), 0) FROM audit_anchor) THEN
      RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit log is append-only';
  END $$;
DROP TRIGGER IF EXISTS audit_no_change ON audit;
CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
DROP TRIGGER IF EXISTS audit_anchor_no_change ON audit_anchor;
CREATE TRIGGER audit_anchor_no_change BEFORE UPDATE OR DELETE ON audit_anchor
  FOR EACH ROW EXECUTE FUNCTION audit_append_only();
ALTER TABLE events SET (autovacuum_vacuum_scale_factor = 0.01);
)SQL";

}  // namespace

std::string schema_sql(const std::string& dialect) {
  std::string s = kSchema;
  const std::string id =
      dialect == "postgresql" ? "BIGSERIAL PRIMARY KEY" : "INTEGER PRIMARY KEY AUTOINCREMENT";
  for (size_t p; (p = s.find("{ID}")) != std::string::npos;) s.replace(p, 4, id);
  return s + (dialect == "postgresql" ? kPgAppendOnly : kSqliteAppendOnly);
}

}  // namespace cg::store

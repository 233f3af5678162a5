// The control plane's store: events, policy revisions, the audit log, users and small persisted
// state, behind one interface (the architecture's EventStore seam). One schema (schema.cc), two
// backends: SQLite in WAL mode (default, zero setup) and PostgreSQL through libpq. Every call is
// synchronous and thread-safe; a write returns only after its transaction committed.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "controlplane/common/status.h"

namespace cg::store {

using cp::Status;

// One security event as stored. The indexed columns are copies of fields of `body`, the whole
// enriched EVE-style JSON record.
struct Event {
  int64_t id = 0;          // store row id (set by queries)
  std::string event_id;    // unique id given by the dataplane; duplicates are ignored
  int64_t ts_us = 0;       // event time, µs since the epoch (UTC)
  std::string event_type;  // alert, anomaly, policy, flow, stats, ...
  int severity = 0;        // alert.severity: 1 (highest) .. 4; 0 = none
  std::string src_ip;
  int src_port = 0;
  std::string dest_ip;
  int dest_port = 0;
  std::string proto;
  std::string app_proto;
  std::string rule;  // policy rule or detector name
  std::string signature;
  std::string school_id;
  std::string zone;
  std::string community_id;
  std::string body;  // JSON text
};

struct EventQuery {
  int64_t from_us = 0;                                     // inclusive
  int64_t to_us = std::numeric_limits<int64_t>::max();     // exclusive
  std::string event_type;                                  // "" = any
  int max_severity = 0;                                    // 0 = any; N = severity 1..N
  std::string address;                                     // src_ip or dest_ip
  std::string app;                                         // app_proto
  std::string rule;
  int limit = 100;                                         // 1..1000
  std::string cursor;  // from a previous page's next_cursor ("" = newest first)
};

struct EventPage {
  std::vector<Event> events;  // newest first (ts, then id)
  std::string next_cursor;    // "" when this was the last page
};

struct BucketCount {
  int64_t start_us = 0;
  int64_t count = 0;
};

struct Revision {
  int64_t number = 0;  // 1, 2, ... assigned by add_revision
  int64_t created_us = 0;
  std::string user;
  std::string comment;
  std::string action;  // apply | rollback | revert
  std::string origin;  // file name the admin uploaded
  std::string sha256;  // of source
  uint64_t generation = 0;  // dataplane generation it was applied as
  std::string source;       // the policy text, byte for byte
};

struct AuditRecord {
  int64_t seq = 0;  // 1, 2, ... without gaps
  int64_t ts_us = 0;
  std::string user;
  std::string action;  // login, login_failed, policy.apply, events.query, ...
  std::string object;
  std::string detail;  // JSON text
  std::string prev_hash;
  std::string hash;
};

// A login session (controlplane/auth): only the SHA-256 of the bearer token is stored.
struct SessionRow {
  std::string token_hash;
  std::string csrf;
  std::string user;
  std::string role;  // the user's role at login
  int64_t expires_us = 0;
  int64_t created_us = 0;
};

// Where the audit chain starts after a prune: (seq, hash) of the last pruned record. The audit
// table refuses DELETE of any record above the newest anchor, so only pruning may delete.
struct AuditAnchor {
  int64_t seq = 0;
  std::string hash;
  int64_t pruned_us = 0;
};

struct User {
  std::string name;
  std::string role;
  std::string password_hash;  // libsodium crypto_pwhash_str (argon2id)
  int failed = 0;             // consecutive failed logins
  int64_t locked_until_us = 0;
  int64_t created_us = 0;
};

// A quarantined host or prefix (controlplane/quarantine): one row per canonical address.
struct QuarantineEntry {
  std::string address;  // canonical address or CIDR prefix
  std::string owner;    // who quarantined it
  std::string reason;
  int64_t since_us = 0;
  int64_t expires_us = 0;
};

class Store {
 public:
  virtual ~Store() = default;
  virtual std::string backend() const = 0;  // "sqlite" | "postgresql"

  // Events. insert_events writes all of `events` in one transaction (duplicates by event_id are
  // skipped and not counted in *inserted) and returns after the commit. `fresh_ids` (optional)
  // receives the event_id of every row actually inserted (what alerting must see exactly once).
  virtual Status insert_events(const std::vector<Event>& events, size_t* inserted,
                               std::vector<std::string>* fresh_ids = nullptr) = 0;
  virtual Status query_events(const EventQuery& q, EventPage* page) = 0;
  // Counts per bucket of `bucket_us` (aligned to the epoch), oldest first, empty buckets left out.
  virtual Status count_events(const EventQuery& q, int64_t bucket_us,
                              std::vector<BucketCount>* out) = 0;
  virtual Status total_events(int64_t* n) = 0;
  // Up to `limit` events with row id > `after_id`, ascending by id (the alert engine's catch-up
  // cursor; cg-controld's ingest thread is the only writer, so ids grow in commit order).
  // `last_id` (optional): the table's highest row id (0 when empty).
  virtual Status list_events_after(int64_t after_id, int limit, std::vector<Event>* out,
                                   int64_t* last_id = nullptr) = 0;

  // Revisions: number = highest + 1; prune keeps the newest `keep`.
  virtual Status add_revision(Revision* rev) = 0;
  virtual Status get_revision(int64_t number, Revision* rev) = 0;  // kNotFound
  virtual Status list_revisions(int limit, std::vector<Revision>* out) = 0;  // newest first
  virtual Status prune_revisions(int keep) = 0;

  // Audit log (append-only; the chain is computed by audit::AuditLog).
  virtual Status last_audit(AuditRecord* rec, bool* found) = 0;
  virtual Status insert_audit(const AuditRecord& rec) = 0;  // kConflict if seq exists
  virtual Status list_audit(int64_t after_seq, int limit, std::vector<AuditRecord>* out) = 0;
  // In one transaction: records `anchor`, deletes audit records with seq <= anchor.seq, appends
  // `record` (the audit.prune record naming the anchor) and sets state[head_key] = head_value.
  virtual Status prune_audit(const AuditAnchor& anchor, const AuditRecord& record,
                             const std::string& head_key, const std::string& head_value) = 0;
  virtual Status last_audit_anchor(AuditAnchor* anchor, bool* found) = 0;
  // Highest seq of a record older than `ts_us` (0 = none).
  virtual Status last_audit_before(int64_t ts_us, int64_t* seq) = 0;

  // Retention. Deletes at most `limit` events (oldest first) with ts < before_us / the `limit`
  // oldest events; one short transaction each, so ingest waits at most one batch.
  virtual Status delete_events_before(int64_t before_us, int limit, int64_t* deleted) = 0;
  virtual Status delete_oldest_events(int limit, int64_t* deleted, int64_t* newest_deleted_us) = 0;
  // Events with ts >= since_us, and the oldest event time (found = false when empty).
  virtual Status count_events_since(int64_t since_us, int64_t* n) = 0;
  virtual Status oldest_event(int64_t* ts_us, bool* found) = 0;
  // Bytes the store occupies. SQLite: (page_count - freelist_count) * page_size + the WAL file,
  // i.e. what it would occupy after reclaim_space(); PostgreSQL: pg_total_relation_size of the
  // store's tables (DELETE does not shrink them; VACUUM makes the space reusable).
  virtual Status store_bytes(int64_t* bytes) = 0;
  // Returns free pages to the file system / to reuse. SQLite: PRAGMA incremental_vacuum and a
  // WAL checkpoint (TRUNCATE); PostgreSQL: VACUUM of the events table.
  virtual Status reclaim_space() = 0;

  // Sessions (controlplane/auth).
  virtual Status put_session(const SessionRow& s) = 0;
  virtual Status get_session(const std::string& token_hash, SessionRow* s) = 0;  // kNotFound
  virtual Status delete_session(const std::string& token_hash) = 0;
  virtual Status delete_user_sessions(const std::string& user) = 0;  // all of that user's
  // Deletes sessions expired at `now_us`; *live receives the number left.
  virtual Status expire_sessions(int64_t now_us, int64_t* live) = 0;

  // Users.
  virtual Status put_user(const User& u) = 0;  // insert or replace
  virtual Status get_user(const std::string& name, User* u) = 0;  // kNotFound
  virtual Status list_users(std::vector<User>* out) = 0;
  virtual Status set_login_state(const std::string& name, int failed, int64_t locked_until_us) = 0;

  // Small persisted key/value state (pending commit-confirm, current revision).
  virtual Status put_state(const std::string& key, const std::string& value) = 0;
  virtual Status get_state(const std::string& key, std::string* value, bool* found) = 0;
  virtual Status delete_state(const std::string& key) = 0;

  // Quarantine (insert or replace by address; delete: kNotFound when absent).
  virtual Status put_quarantine(const QuarantineEntry& e) = 0;
  virtual Status delete_quarantine(const std::string& address) = 0;
  virtual Status list_quarantine(std::vector<QuarantineEntry>* out) = 0;  // by address
};

struct StoreConfig {
  std::string backend = "sqlite";  // sqlite | postgresql
  std::string sqlite_path;         // file (created with its directory)
  std::string pg_conninfo;         // libpq connection string
};

// Opens (and creates / migrates the schema of) the configured backend.
Status open_store(const StoreConfig& config, std::unique_ptr<Store>* out);

}  // namespace cg::store

#!/usr/bin/env python3
"""cg-controld retention, audit pruning and persisted sessions, end to end.

Real: cg-controld (SQLite store, retention thread every second, alerting with a real webhook
receiver, tests/integration/alerting/peers.py http), cgctl over HTTPS. The event stream is
fake_dataplane.py's test.emit, because the test needs events with chosen (old) timestamps;
controld has no fake clock, so the age horizon is exercised with events and audit records that
are really older than retention.days.
  1. 300 events 200 days old and 3000 of the last two hours, a 1 MiB budget: the old ones are
     deleted by age, the oldest recent ones by the budget, the store stays near the budget, and
     a warning event (event_type system) is stored, queryable, and reaches the webhook through
     the alert engine.
  2. Audit records older than retention.days (a valid chain written before controld's first
     start) are pruned behind an anchor; `cgctl audit verify` is still intact, the engine
     refuses an ad-hoc DELETE, and a forged anchor is reported.
  3. A session token survives a controld restart; after `cgctl logout` it does not.
Usage: retention_test.py BUILD_DIR SOURCE_DIR"""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from cptest import check, fail, free_port, unix_request, wait_for

BUILD, SRC = sys.argv[1], sys.argv[2]
CONTROLD = os.path.join(BUILD, "bin", "cg-controld")
CGCTL = os.path.join(BUILD, "bin", "cgctl")
WORK = tempfile.mkdtemp(prefix="cg-retention-it.")
STATE = os.path.join(WORK, "state")
DB = os.path.join(STATE, "controld.db")
DP_SOCK = os.path.join(WORK, "dp.sock")
HOOK_LOG = os.path.join(WORK, "hook.log")
CONFIG = os.path.join(WORK, "controld.yaml")
PASSWORDS = {"sec": "password for sec", "aud": "password for aud"}
ROLES = {"sec": "secadmin", "aud": "auditor"}
DAY = 86400
procs = {}
CTX = ssl.create_default_context()


def dp_request(req):
    return unix_request(DP_SOCK, req)


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06d+0000" % int(
        (t % 1) * 1e6)


def event(i, t):
    return {"timestamp": iso(t), "event_type": "alert", "event_id": "ret-it-%d" % i,
            "schema_version": 1, "flow_id": i, "src_ip": "10.40.%d.%d" % (i // 250 % 250, i % 250),
            "src_port": 40000 + i % 20000, "dest_ip": "203.0.113.9", "dest_port": 443,
            "proto": "TCP", "detector": "port_scan",
            "alert": {"signature": "port scan " + "x" * 300, "severity": 3}}


def emit(events):
    for k in range(0, len(events), 500):
        r = dp_request({"v": 1, "cmd": "test.emit", "events": events[k:k + 500]})
        if not (r.get("ok") and r["subscribers"] >= 1):
            fail("fake dataplane emitted to controld: %s" % r)


def cgctl(user, *args, expect=0):
    cmd = [CGCTL, "-o", "json"] + list(args)
    env = dict(os.environ, CGCTL_CONFIG=os.path.join(WORK, "cgctl-%s.json" % user))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60,
                       input=PASSWORDS[user] + "\n" if args[0] == "login" else None)
    if p.returncode != expect:
        fail("cgctl %s exited %d (want %d): %s %s" % (" ".join(args), p.returncode, expect,
                                                      p.stdout, p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def token(user):
    return json.load(open(os.path.join(WORK, "cgctl-%s.json" % user)))["token"]


def get(base, path, tok):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + tok})
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(base, name):
    st, body = get(base, "/metrics", token("sec"))
    if st != 200:
        fail("/metrics: %d %s" % (st, body))
    for line in body.splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    fail("no metric " + name)


def hooks():
    if not os.path.exists(HOOK_LOG):
        return []
    return [json.loads(l) for l in open(HOOK_LOG, encoding="utf-8") if l.strip()]


# The audit chain exactly as controlplane/audit computes it (length-prefixed fields, SHA-256).
def record_hash(prev, seq, ts, user, action, obj, detail):
    s = ""
    for v in (prev, str(seq), str(ts), user, action, obj, detail):
        s += "%d:%s;" % (len(v.encode()), v)
    return hashlib.sha256(s.encode()).hexdigest()


def seed_old_audit(n, when):
    """Records 1..n, `when` seconds ago, written before controld's first start (the same two
    tables as controlplane/store/schema.cc, and auto_vacuum as controld sets it on a new file;
    controld adds the rest)."""
    db = sqlite3.connect(DB)
    db.executescript("""
PRAGMA auto_vacuum = INCREMENTAL;
CREATE TABLE audit (seq BIGINT PRIMARY KEY, ts BIGINT NOT NULL, username TEXT NOT NULL,
  action TEXT NOT NULL, object TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL);
CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);""")
    prev = "0" * 64
    for seq in range(1, n + 1):
        ts = int((time.time() - when) * 1e6) + seq
        detail = json.dumps({"address": "10.40.0.%d" % seq}, separators=(",", ":"))
        h = record_hash(prev, seq, ts, "olduser", "events.query", "10.40.0.%d" % seq, detail)
        db.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?)",
                   (seq, ts, "olduser", "events.query", "10.40.0.%d" % seq, detail, prev, h))
        prev = h
    db.execute("INSERT INTO state VALUES ('audit.head', ?)", ("%d %s" % (n, prev),))
    db.commit()
    db.close()


def start_controld():
    pf = os.path.join(STATE, "controld.port")
    if os.path.exists(pf):
        os.unlink(pf)
    procs["controld"] = subprocess.Popen([CONTROLD, "--config", CONFIG],
                                         stderr=open(os.path.join(WORK, "controld.log"), "a"))
    wait_for(lambda: os.path.exists(pf) and open(pf).read().strip(), "controld port")
    wait_for(lambda: dp_request({"v": 1, "cmd": "test.emit", "events": []})["subscribers"],
             "controld subscribed to the event stream")
    return "https://127.0.0.1:%d" % int(open(pf).read())


def stop_controld():
    p = procs.pop("controld")
    p.send_signal(signal.SIGTERM)
    p.wait(timeout=30)


def main():
    os.makedirs(STATE)
    seed_old_audit(5, 200 * DAY)
    hook_port = free_port()
    procs["hook"] = subprocess.Popen(
        [sys.executable, os.path.join(SRC, "tests/integration/alerting/peers.py"), "http",
         "--port", str(hook_port), "--log", HOOK_LOG], stdout=subprocess.PIPE, text=True)
    check(procs["hook"].stdout.readline().strip() == "READY", "webhook receiver started")
    alerting_yaml = os.path.join(WORK, "alerting.yaml")
    with open(alerting_yaml, "w") as f:
        f.write("""version: 1
delivery: {queue: alerts.db, backoff: {initial: 200ms, max: 2s, multiplier: 2}}
channels:
  hook: {type: webhook, url: "http://127.0.0.1:%d/hook", timeout: 5s}
rules:
  - name: store-budget
    match: {event_type: system, system.kind: disk_budget}
    threshold: {count: 1, window: 1m}
    summary: "{alert.signature}"
    channels: [hook]
""" % hook_port)
    with open(CONFIG, "w") as f:
        # A fixed port: cgctl's saved session names the server, which must be the same after
        # the restart.
        f.write("state_dir: %s\nschool_id: school-007\napi: {listen: 127.0.0.1, port: %d}\n"
                "dataplane: {socket: %s}\nevents: {flush_ms: 20}\n"
                "auth: {argon2_opslimit: 1, argon2_memlimit_kib: 8192}\n"
                "alerting: {file: %s}\n"
                "retention: {days: 180, disk_budget_mb: 1, interval: 1, batch: 500}\n"
                % (STATE, free_port(), DP_SOCK, alerting_yaml))
    for short, role in ROLES.items():
        p = subprocess.run([CONTROLD, "--config", CONFIG, "--add-user", short, "--role", role],
                           input=PASSWORDS[short] + "\n", capture_output=True, text=True)
        check(p.returncode == 0, "add-user %s: %s" % (short, p.stderr))
    procs["dp"] = subprocess.Popen([sys.executable, os.path.join(
        SRC, "tests/integration/controlplane/fake_dataplane.py"), DP_SOCK])
    wait_for(lambda: os.path.exists(DP_SOCK), "fake dataplane socket")
    base = start_controld()
    cert = os.path.join(STATE, "tls", "cert.pem")
    CTX.load_verify_locations(cert)
    for u in ROLES:
        cgctl(u, "login", "--server", base, "--cacert", cert, "--user", u)

    # 2. The old audit records are pruned behind an anchor; the chain still verifies.
    wait_for(lambda: metric(base, "cg_controld_retention_audit_pruned_total") >= 5,
             "old audit records pruned")
    v = cgctl("aud", "audit", "verify")
    check(v["ok"], "audit verify after the prune: %s" % v)
    db = sqlite3.connect(DB)
    anchor = db.execute("SELECT seq FROM audit_anchor").fetchall()
    check(anchor == [(5,)], "one anchor at record 5: %s" % anchor)
    check(v.get("anchor_seq") == 5, "audit verify names the anchor at record 5: %s" % v)
    p = subprocess.run([CGCTL, "audit", "verify"], capture_output=True, text=True, timeout=60,
                       env=dict(os.environ, CGCTL_CONFIG=os.path.join(WORK, "cgctl-aud.json")))
    check(p.returncode == 0 and "after the anchor at 5" in p.stdout,
          "cgctl audit verify says where the chain starts: %s %s" % (p.stdout, p.stderr))
    check(db.execute("SELECT MIN(seq) FROM audit").fetchone()[0] == 6,
          "records 1..5 are gone, 6 (add-user) stays")
    prune = db.execute("SELECT detail FROM audit WHERE action = 'audit.prune'").fetchall()
    check(len(prune) == 1 and json.loads(prune[0][0])["up_to_seq"] == 5,
          "an audit.prune record names the anchor: %s" % prune)
    try:
        db.execute("DELETE FROM audit WHERE seq = 7")
        db.commit()
        fail("an ad-hoc DELETE of an audit record went through")
    except sqlite3.DatabaseError as e:
        check("append-only" in str(e), "the engine refuses an ad-hoc DELETE: %s" % e)
    db.close()

    # 1. Events: 300 older than 180 days, 3000 of the last two hours, a 1 MiB budget.
    now = time.time()
    old = [event(i, now - 200 * DAY + i) for i in range(300)]
    recent = [event(1000 + i, now - 7200 + i * 2.4) for i in range(3000)]
    emit(old + recent)
    wait_for(lambda: metric(base, "cg_controld_retention_warnings_total") >= 1,
             "the budget warning event")
    check(metric(base, 'cg_controld_retention_deleted_total{reason="age"}') >= 300,
          "events older than 180 days deleted by age")
    wait_for(lambda: metric(base, 'cg_controld_retention_deleted_total{reason="budget"}') > 0,
             "oldest events deleted by the budget")
    cap = metric(base, "cg_controld_retention_event_cap")
    check(0 < cap < 3000, "the budget caps the events at %d" % cap)
    wait_for(lambda: metric(base, "cg_controld_events_stored") <= cap + 1,
             "the store holds at most the cap")
    check(0 <= metric(base, "cg_controld_retention_projected_days") < 180,
          "projected days held < 180")
    ev = cgctl("sec", "events", "query", "--type", "system")["events"]
    check(len(ev) == 1 and ev[0]["event_id"].startswith("retention-budget-"),
          "one warning event stored: %s" % ev)
    sysinfo = ev[0]["system"]
    check(sysinfo["retention_days"] == 180 and sysinfo["days_held"] < 180 and
          sysinfo["deletes_young_events_from"], "the warning says by when: %s" % sysinfo)
    wait_for(lambda: [h for h in hooks() if h.get("kind") == "webhook"],
             "the warning reaches the webhook through the alert engine")
    h = [h for h in hooks() if h.get("kind") == "webhook"]
    check(h[0]["body"]["alert"]["rule"] == "store-budget", "alert from rule store-budget: %s" % h)
    size = os.path.getsize(DB) + (os.path.getsize(DB + "-wal") if os.path.exists(DB + "-wal")
                                  else 0)
    check(size < 1.5 * 1024 * 1024, "the SQLite file stays near the 1 MiB budget (%d bytes)" % size)

    # 3. Sessions survive a restart; logout ends them.
    tok = token("aud")
    stop_controld()
    base = start_controld()
    st, body = get(base, "/api/v1/whoami", tok)
    check(st == 200 and json.loads(body)["user"] == "aud", "token valid after a restart: %s" % body)
    v = cgctl("aud", "audit", "verify")
    check(v["ok"], "cgctl with the old session after the restart: %s" % v)
    cgctl("aud", "logout")
    st, _ = get(base, "/api/v1/whoami", tok)
    check(st == 401, "token refused after logout (%d)" % st)
    stop_controld()
    base = start_controld()
    st, _ = get(base, "/api/v1/whoami", tok)
    check(st == 401, "still refused after another restart (%d)" % st)

    # 2b. A forged anchor (written by someone with database access) is reported.
    db = sqlite3.connect(DB)
    seq, h = db.execute("SELECT seq, hash FROM audit WHERE seq = 7").fetchone()
    db.execute("INSERT INTO audit_anchor (seq, hash, pruned) VALUES (?, ?, 0)", (seq, h))
    db.execute("DELETE FROM audit WHERE seq <= 7")
    db.commit()
    db.close()
    cgctl("aud", "login", "--server", base, "--cacert", cert, "--user", "aud")
    v = cgctl("aud", "audit", "verify", expect=1)
    check(not v["ok"] and "not confirmed" in v["problem"], "forged anchor reported: %s" % v)
    print("PASS")


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in procs.values():
            p.kill()
            p.wait()
        if os.environ.get("KEEP_WORK"):
            print("work dir kept: " + WORK)
        else:
            shutil.rmtree(WORK, ignore_errors=True)

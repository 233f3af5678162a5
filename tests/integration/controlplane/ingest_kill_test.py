#!/usr/bin/env python3
"""kill -9 of cg-controld during event ingest loses no acknowledged event, and none at all.

A stream of 30000 sequential events comes from fake_dataplane.py's events.subscribe, which
speaks the real EventHub's resume contract (stream_seq, backlog, "after"); the same kill -9
against the real cg-dataplane is ingest_real_dataplane_test.sh. controld stores them in batches
and counts a batch in cg_controld_events_stored_total only after the store committed it. The
test reads that counter, kills controld with SIGKILL at once, and checks that the SQLite file
holds every one of the acknowledged events (sequential ingest: ids 0..N-1). controld is then
restarted, subscribes after the stream position it persisted, and all 30000 events end up
stored exactly once: what was in flight at the kill is replayed from the dataplane's backlog.
Usage: ingest_kill_test.py BUILD_DIR SOURCE_DIR"""
import json
import os
import re
import shutil
import signal
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import urllib.request

from cptest import fail, wait_for

BUILD, SRC = sys.argv[1], sys.argv[2]
WORK = tempfile.mkdtemp(prefix="cg-ingest-it.")
STATE = os.path.join(WORK, "state")
SOCK = os.path.join(WORK, "dp.sock")
CONFIG = os.path.join(WORK, "controld.yaml")
TOTAL = 30000
procs = {}
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE  # only our own loopback server; the API test checks the cert


def start_controld():
    pf = os.path.join(STATE, "controld.port")
    if os.path.exists(pf):
        os.unlink(pf)
    procs["controld"] = subprocess.Popen([os.path.join(BUILD, "bin", "cg-controld"), "--config", CONFIG],
                                         stderr=open(os.path.join(WORK, "controld.log"), "a"))
    wait_for(lambda: os.path.exists(pf) and open(pf).read().strip(), "controld")
    return "https://127.0.0.1:%s" % open(pf).read().strip()


def post(url, body, token=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
        return json.loads(r.read())


def metric(base, token, name):
    req = urllib.request.Request(base + "/metrics")
    req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            m = re.search(r"^%s (\d+)$" % name, r.read().decode(), re.M)
            return int(m.group(1)) if m else 0
    except OSError:
        return 0


def stored(base, token):
    return metric(base, token, "cg_controld_events_stored_total")


def db_ids():
    db = sqlite3.connect(os.path.join(STATE, "controld.db"))
    ids = [r[0] for r in db.execute("SELECT event_id FROM events")]
    db.close()
    return ids


def main():
    os.makedirs(STATE)
    open(CONFIG, "w").write(
        "state_dir: %s\napi: {listen: 127.0.0.1, port: 0}\ndataplane: {socket: %s}\n"
        "events: {batch: 500, flush_ms: 50}\nauth: {argon2_opslimit: 1, argon2_memlimit_kib: 8192}\n"
        % (STATE, SOCK))
    p = subprocess.run([os.path.join(BUILD, "bin", "cg-controld"), "--config", CONFIG, "--add-user",
                        "ops", "--role", "operator"], input="password for ops\n", text=True)
    if p.returncode:
        fail("add-user")
    procs["dp"] = subprocess.Popen([sys.executable, os.path.join(SRC, "tests/integration/controlplane/fake_dataplane.py"), SOCK],
                                   env=dict(os.environ, FAKE_EVENTS=str(TOTAL)))
    wait_for(lambda: os.path.exists(SOCK), "fake dataplane")
    base = start_controld()
    token = post(base + "/api/v1/login", {"user": "ops", "password": "password for ops"})["token"]
    acked = wait_for(lambda: (lambda n: n if n >= 3000 else 0)(stored(base, token)),
                     "3000 stored events", timeout=120)
    procs["controld"].send_signal(signal.SIGKILL)
    procs["controld"].wait()
    ids = set(db_ids())
    want = {"0badcafe-0-%d" % i for i in range(acked)}
    missing = want - ids
    print("acknowledged %d events before kill -9; %d in the store; %d acknowledged missing"
          % (acked, len(ids), len(missing)))
    if missing:
        fail("acknowledged events lost: %s" % sorted(missing)[:5])
    # Restart: controld subscribes after the position it persisted with its last commit; the
    # dataplane replays from its backlog what was in flight at the kill (and what came since).
    base = start_controld()
    token = post(base + "/api/v1/login", {"user": "ops", "password": "password for ops"})["token"]
    wait_for(lambda: len(db_ids()) >= TOTAL, "the rest of the stream", timeout=120)
    ids = db_ids()
    if len(ids) != len(set(ids)) or set(ids) != {"0badcafe-0-%d" % i for i in range(TOTAL)}:
        fail("the store does not hold each of the %d events exactly once (%d rows)"
             % (TOTAL, len(ids)))
    resumes = metric(base, token, "cg_controld_events_resumes_total")
    replayed = metric(base, token, "cg_controld_events_replayed_total")
    if resumes < 1 or replayed < 1:
        fail("controld did not resume from the backlog (resumes %d, replayed %d)"
             % (resumes, replayed))
    print("after restart: all %d events stored exactly once (resumed %d time(s), %d replayed)"
          % (TOTAL, resumes, replayed))
    print("PASS")


try:
    main()
finally:
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()
    if os.environ.get("KEEP_WORK") != "1":
        shutil.rmtree(WORK, ignore_errors=True)

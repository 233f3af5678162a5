#!/usr/bin/env python3
"""cg-controld's alerting end to end: events in -> alert rule fires -> a real HTTP webhook
receiver gets the JSON; ack, silences and role checks through the real cgctl; audit records.

Real: cg-controld (alerting.file -> controlplane/alerting, persisted SQLite queue + delivery
thread), cgctl over HTTPS, the webhook receiver (tests/integration/alerting/peers.py http, which
checks the exact webhook JSON shape). The dataplane's event stream is fake_dataplane.py: the
test must decide exactly which events arrive and when (after an ack, after a silence, a re-sent
duplicate), which the real dataplane cannot be told to do; the real stream feeding controld is
covered by real_dataplane_events_test.sh.

Usage: controld_alerts_test.py BUILD_DIR SOURCE_DIR"""
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import urllib.request

from cptest import check, fail, free_port, unix_request, wait_for

BUILD, SRC = sys.argv[1], sys.argv[2]
CONTROLD = os.path.join(BUILD, "bin", "cg-controld")
CGCTL = os.path.join(BUILD, "bin", "cgctl")
WORK = tempfile.mkdtemp(prefix="cg-alerts-it.")
STATE = os.path.join(WORK, "state")
DP_SOCK = os.path.join(WORK, "dp.sock")
HOOK_LOG = os.path.join(WORK, "hook.log")
PASSWORDS = {r: "password for " + r for r in ("sec", "aud", "ops")}
ROLES = {"sec": "secadmin", "aud": "auditor", "ops": "operator"}
procs = {}
CTX = ssl.create_default_context()


def dp_request(req):
    return unix_request(DP_SOCK, req)


SEQ = [0]


def scan_event(src, event_id=None):
    SEQ[0] += 1
    return {"timestamp": "2026-11-30T01:00:%02d.000000+0000" % (SEQ[0] % 60),
            "event_type": "alert", "event_id": event_id or "alerts-it-%d" % SEQ[0],
            "schema_version": 1, "flow_id": SEQ[0], "src_ip": src, "src_port": 40000 + SEQ[0],
            "dest_ip": "10.30.1.1", "dest_port": 22, "proto": "TCP", "detector": "port_scan",
            "alert": {"signature": "port scan", "severity": 2}}


def emit(events):
    r = dp_request({"v": 1, "cmd": "test.emit", "events": events})
    check(r.get("ok") and r["subscribers"] >= 1, "fake dataplane emitted to controld: %s" % r)


def hooks():
    if not os.path.exists(HOOK_LOG):
        return []
    return [json.loads(l) for l in open(HOOK_LOG, encoding="utf-8") if l.strip()]


def cgctl(user, *args, expect=0):
    cmd = [CGCTL, "-o", "json"] + list(args)
    env = dict(os.environ, CGCTL_CONFIG=os.path.join(WORK, "cgctl-%s.json" % user))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60,
                       input=PASSWORDS[user] + "\n" if args[0] == "login" else None)
    if p.returncode != expect:
        fail("cgctl %s exited %d (want %d): %s %s" % (" ".join(args), p.returncode, expect,
                                                      p.stdout, p.stderr))
    return json.loads(p.stdout) if p.stdout.strip() else None


def metrics(base):
    tok = json.load(open(os.path.join(WORK, "cgctl-aud.json")))["token"]
    req = urllib.request.Request(base + "/metrics", headers={"Authorization": "Bearer " + tok})
    return urllib.request.urlopen(req, context=CTX, timeout=10).read().decode()


def metric(base, name):
    for line in metrics(base).splitlines():
        if line.startswith(name + " "):
            return int(line.split()[1])
    fail("no metric " + name)


def alerts(user, *filters):
    return cgctl(user, "alerts", "list", *filters)["alerts"]


def main():
    os.makedirs(STATE)
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
  - name: scans
    match: {event_type: alert, detector: port_scan, src_ip: {cidr: 10.30.0.0/16}}
    group_by: src_ip
    threshold: {count: 3, window: 5m}
    dedup: {window: 30m}
    severity_map: {2: high}
    summary: "{alert.signature} from {src_ip} ({school_id})"
    channels: [hook]
""" % hook_port)
    config = os.path.join(WORK, "controld.yaml")
    with open(config, "w") as f:
        f.write("state_dir: %s\nschool_id: school-042\napi: {listen: 127.0.0.1, port: 0}\n"
                "dataplane: {socket: %s}\nevents: {flush_ms: 20}\n"
                "auth: {argon2_opslimit: 1, argon2_memlimit_kib: 8192}\n"
                "alerting: {file: %s}\n" % (STATE, DP_SOCK, alerting_yaml))
    p = subprocess.run([CONTROLD, "--config", config, "--check-config"], capture_output=True,
                       text=True)
    check(p.returncode == 0, "check-config with alerting.file: " + p.stderr)
    bad = os.path.join(WORK, "bad.yaml")
    with open(bad, "w") as f:
        f.write("version: 1\nrules:\n  - name: x\n    chanels: [hook]\n")
    with open(os.path.join(WORK, "bad-controld.yaml"), "w") as f:
        f.write("state_dir: %s\nalerting: {file: %s}\n" % (STATE, bad))
    p = subprocess.run([CONTROLD, "--config", os.path.join(WORK, "bad-controld.yaml"),
                        "--check-config"], capture_output=True, text=True)
    check(p.returncode == 1 and "bad.yaml:4:" in p.stderr and "chanels" in p.stderr,
          "a bad alerting file is refused with FILE:LINE:COL: %r" % p.stderr)
    for short, role in ROLES.items():
        p = subprocess.run([CONTROLD, "--config", config, "--add-user", short, "--role", role],
                           input=PASSWORDS[short] + "\n", capture_output=True, text=True)
        check(p.returncode == 0, "add-user: " + p.stderr)

    procs["dp"] = subprocess.Popen([sys.executable, os.path.join(
        SRC, "tests/integration/controlplane/fake_dataplane.py"), DP_SOCK])
    wait_for(lambda: os.path.exists(DP_SOCK), "fake dataplane socket")
    log = open(os.path.join(WORK, "controld.log"), "a")
    procs["controld"] = subprocess.Popen([CONTROLD, "--config", config], stderr=log)
    port_file = os.path.join(STATE, "controld.port")
    wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), "port")
    base = "https://127.0.0.1:%d" % int(open(port_file).read())
    cert = os.path.join(STATE, "tls", "cert.pem")
    wait_for(lambda: dp_request({"v": 1, "cmd": "test.emit", "events": []})["subscribers"],
             "controld subscribed to the event stream")
    CTX.load_verify_locations(cert)
    for u in ROLES:
        cgctl(u, "login", "--server", base, "--cacert", cert, "--user", u)

    # 1. Three scan events from one host cross the threshold: one alert, delivered.
    emit([scan_event("10.30.0.5") for _ in range(3)])
    wait_for(lambda: [h for h in hooks() if h.get("kind") == "webhook"], "webhook delivery")
    h = hooks()
    check(len(h) == 1 and "rejected" not in h[0], "one well-formed webhook POST: %s" % h)
    a = h[0]["body"]["alert"]
    check(h[0]["body"]["source"] == "campusguard" and a["rule"] == "scans" and a["events"] == 3
          and a["severity"] == "high" and a["event"]["src_ip"] == "10.30.0.5"
          and a["event"]["school_id"] == "school-042"
          and a["summary"] == "port scan from 10.30.0.5 (school-042)", "webhook alert %s" % a)
    print("webhook received: %s" % json.dumps(h[0]["body"])[:300])
    listed = alerts("ops", "--state", "open")
    check(len(listed) == 1 and listed[0]["id"] == a["id"], "operator lists the open alert")
    shown = cgctl("aud", "alerts", "show", str(a["id"]))
    check(shown["deliveries"][0]["state"] == "delivered", "delivery state: %s" % shown)

    # 2. Ack: security administrator only; twice is a conflict.
    cgctl("ops", "alerts", "ack", str(a["id"]), expect=1)
    acked = cgctl("sec", "alerts", "ack", str(a["id"]), "--comment", "lab PC reimaged")
    check(acked["state"] == "acked" and acked["acked_by"] == "sec", "acked: %s" % acked)
    cgctl("sec", "alerts", "ack", str(a["id"]), expect=1)
    check([x["id"] for x in alerts("aud", "--state", "acked")] == [a["id"]], "acked filter")
    check(alerts("aud", "--state", "open") == [], "no open alert left")

    # 3. A re-sent event (same event_id, what a reconnect replays) does not count twice.
    e1, e2 = scan_event("10.30.0.8"), scan_event("10.30.0.8")
    emit([e1, e2, dict(e1)])
    # The ingest counts an event only after the alert engine saw it: wait for the duplicate.
    wait_for(lambda: metric(base, "cg_controld_events_duplicate_total") >= 1, "duplicate seen")
    check(not [x for x in alerts("aud") if x["event"]["src_ip"] == "10.30.0.8"],
          "duplicate event_id counted toward the threshold")
    emit([scan_event("10.30.0.8")])
    wait_for(lambda: [x for x in alerts("aud") if x["event"]["src_ip"] == "10.30.0.8"],
             "alert after the third distinct event")
    wait_for(lambda: len(hooks()) == 2, "second webhook")

    # 4. Silence through cgctl: matching alerts are stored as silenced, never delivered.
    s = cgctl("sec", "alerts", "silence", "--match", "src_ip=10.30.0.0/24", "--for", "2h",
              "--reason", "authorised pentest", "--rule", "scans")
    check(s["owner"] == "sec" and s["reason"] == "authorised pentest" and s["rules"] == ["scans"],
          "silence: %s" % s)
    cgctl("ops", "alerts", "silence", "--match", "src_ip=10.30.0.9", "--for", "1h",
          "--reason", "x", expect=1)
    check([x["id"] for x in cgctl("ops", "alerts", "silences")["silences"]] == [s["id"]],
          "silence listed")
    emit([scan_event("10.30.0.6") for _ in range(3)])
    sil = wait_for(lambda: alerts("aud", "--state", "silenced"), "silenced alert")
    check(sil[0]["silence_id"] == s["id"] and sil[0]["event"]["src_ip"] == "10.30.0.6",
          "silenced by %s: %s" % (s["id"], sil))
    check(cgctl("aud", "alerts", "show", str(sil[0]["id"]))["deliveries"] == [],
          "a silenced alert is not queued")
    cgctl("sec", "alerts", "unsilence", s["id"])
    cgctl("sec", "alerts", "unsilence", s["id"], expect=1)
    check(cgctl("aud", "alerts", "silences")["silences"] == [], "silence removed")
    emit([scan_event("10.30.0.7") for _ in range(3)])
    wait_for(lambda: len(hooks()) == 3, "delivery after the silence was removed")
    check(len(hooks()) == 3 and hooks()[2]["body"]["alert"]["event"]["src_ip"] == "10.30.0.7",
          "only unsilenced alerts delivered: %s" % [x["body"]["alert"]["id"] for x in hooks()])

    # 5. Pagination and metrics.
    page = cgctl("aud", "alerts", "list", "--limit", "2")
    check(len(page["alerts"]) == 2 and page["next_before"] == page["alerts"][1]["id"], "page 1")
    rest = alerts("aud", "--before", str(page["next_before"]))
    check(len(rest) == 2 and rest[0]["id"] < page["next_before"], "page 2: %s" % rest)
    text = metrics(base)
    check('cg_controld_alerting{counter="alerts_raised"} 4' in text and
          'cg_controld_alert_deliveries_sent_total{channel="hook"} 3' in text,
          "alerting counters in /metrics")

    # 6. Every change is in the audit log, and the chain holds.
    actions = [r["action"] for r in cgctl("aud", "audit", "list", "--limit", "1000")["records"]]
    for act in ("alerts.query", "alerts.ack", "silences.add", "silences.remove"):
        check(act in actions, "audit has %s" % act)
    check(cgctl("aud", "audit", "verify")["ok"], "audit chain intact")

    # 7. Alerts survive a restart (the queue file under state_dir).
    procs["controld"].send_signal(signal.SIGTERM)
    procs["controld"].wait(timeout=30)
    check(os.path.exists(os.path.join(STATE, "alerts.db")), "queue under state_dir")
    os.unlink(port_file)
    procs["controld"] = subprocess.Popen([CONTROLD, "--config", config], stderr=log)
    wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), "port")
    base = "https://127.0.0.1:%d" % int(open(port_file).read())
    cgctl("aud", "login", "--server", base, "--cacert", cert, "--user", "aud")
    check(len(alerts("aud")) == 4, "alerts kept across a restart")
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

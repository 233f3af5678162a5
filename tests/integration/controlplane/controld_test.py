#!/usr/bin/env python3
"""cg-controld end to end over HTTPS: real controld (SQLite store, self-signed certificate),
real cgctl, and a dataplane control socket (the real cg-dataplane when DP_SOCKET is given by
the caller, else fake_dataplane.py). Checks: login + lockout, policy apply / history / diff /
rollback, commit-confirm revert after kill -9 + restart of controld, confirm, re-push after a
dataplane restart, every openapi.yaml operation answered with a body matching its schema, the
role matrix over HTTPS, CSRF for cookie sessions, and `cgctl audit verify` catching an edited
record. Usage: controld_test.py BUILD_DIR SOURCE_DIR"""
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

import jsonschema
import yaml

from cptest import check, fail, unix_request, wait_for

BUILD, SRC = sys.argv[1], sys.argv[2]
CONTROLD = os.path.join(BUILD, "bin", "cg-controld")
CGCTL = os.path.join(BUILD, "bin", "cgctl")
WORK = tempfile.mkdtemp(prefix="cg-controld-it.")
STATE = os.path.join(WORK, "state")
DP_SOCK = os.environ.get("DP_SOCKET") or os.path.join(WORK, "dp.sock")
CONFIG = os.path.join(WORK, "controld.yaml")
PASSWORDS = {r: "password for " + r for r in ("sys", "sec", "aud", "ops")}
ROLES = {"sys": "sysadmin", "sec": "secadmin", "aud": "auditor", "ops": "operator"}
procs = {}


def restart_dp():
    if "dp" in procs:
        procs["dp"].kill()
        procs["dp"].wait()
        start_fake_dp()
    else:
        check(subprocess.run(["bash", os.environ["DP_RESTART"]]).returncode == 0, "dataplane restart")


def start_fake_dp():
    if os.environ.get("DP_SOCKET"):
        return
    procs["dp"] = subprocess.Popen([sys.executable, os.path.join(SRC, "tests/integration/controlplane/fake_dataplane.py"), DP_SOCK])
    wait_for(lambda: os.path.exists(DP_SOCK), "fake dataplane socket")


def start_controld():
    port_file = os.path.join(STATE, "controld.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(WORK, "controld.log"), "a")
    procs["controld"] = subprocess.Popen([CONTROLD, "--config", CONFIG], stderr=log)
    wait_for(lambda: os.path.exists(port_file) and open(port_file).read().strip(), "controld port")
    port = int(open(port_file).read())
    CTX.load_verify_locations(os.path.join(STATE, "tls", "cert.pem"))  # self-signed, SAN 127.0.0.1
    base = "https://127.0.0.1:%d" % port
    wait_for(lambda: http("GET", base + "/api/v1/health")[0] == 200, "controld health")
    return base


CTX = ssl.create_default_context()


def http(method, url, body=None, token=None, headers=None):
    data = json.dumps(body).encode() if body is not None else (b"{}" if method == "POST" else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=30) as r:
            return r.status, r.read().decode(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)
    except (urllib.error.URLError, ConnectionError, OSError):
        return 0, "", {}


def cgctl(*args, stdin=None, expect=0, json_out=True):
    cmd = [CGCTL] + (["-o", "json"] if json_out else []) + list(args)
    env = dict(os.environ, CGCTL_CONFIG=os.path.join(WORK, "cgctl.json"))
    p = subprocess.run(cmd, input=stdin, capture_output=True, text=True, env=env, timeout=120)
    if p.returncode != expect:
        fail("%s exited %d (want %d): %s %s" % (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
    return json.loads(p.stdout) if json_out and p.stdout.strip() else p.stdout


def dp_status():
    try:
        return unix_request(DP_SOCK, {"v": 1, "cmd": "policy.status"})
    except OSError:  # the dataplane is restarting
        return {}


def sha(text):
    import hashlib
    return hashlib.sha256(text.encode()).hexdigest()


def nullable_to_jsonschema(node):
    """OpenAPI 3.0 'nullable: true' -> JSON Schema type lists; $ref into components."""
    if isinstance(node, dict):
        out = {k: nullable_to_jsonschema(v) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and "type" in out:
            out["type"] = [out["type"], "null"]
        if "$ref" in out:
            out["$ref"] = out["$ref"].replace("#/components/schemas/", "#/definitions/")
        return out
    if isinstance(node, list):
        return [nullable_to_jsonschema(x) for x in node]
    return node


def main():
    os.makedirs(STATE)
    policy_v1 = open(os.path.join(SRC, "policies/examples/primary-school.yaml")).read()
    with open(CONFIG, "w") as f:
        f.write("state_dir: %s\napi: {listen: 127.0.0.1, port: 0}\n"
                "dataplane: {socket: %s, reconcile_interval: 0.2}\n"
                "auth: {argon2_opslimit: 1, argon2_memlimit_kib: 8192, lockout_failures: 3}\n"
                "policy: {max_confirm: 600}\n" % (STATE, DP_SOCK))
    for short, role in ROLES.items():
        p = subprocess.run([CONTROLD, "--config", CONFIG, "--add-user", short, "--role", role],
                           input=PASSWORDS[short] + "\n", capture_output=True, text=True)
        check(p.returncode == 0, "add-user: " + p.stderr)
    start_fake_dp()
    if os.environ.get("PING_CMD"):
        procs["ping"] = subprocess.Popen(os.environ["PING_CMD"].split(), stdout=subprocess.PIPE, text=True)
    base = start_controld()
    cert = os.path.join(STATE, "tls", "cert.pem")
    check(os.path.exists(cert), "self-signed certificate generated on first start")

    # --- cgctl session + policy lifecycle -----------------------------------------------------
    out = cgctl("login", "--server", base, "--cacert", cert, "--user", "sec", stdin=PASSWORDS["sec"] + "\n")
    check(out["role"] == "secadmin", "login role")
    v1 = os.path.join(WORK, "school.yaml")
    open(v1, "w").write(policy_v1)
    r = cgctl("policy", "apply", v1, "--comment", "first")
    check(r["revision"] == 1, "first revision")
    check(dp_status().get("sha256") == sha(policy_v1), "dataplane runs revision 1")
    check(dp_status().get("revision") == 1, "dataplane names revision 1: %s" % dp_status())
    policy_v2 = policy_v1 + "# v2\n"
    v2 = os.path.join(WORK, "school-v2.yaml")
    open(v2, "w").write(policy_v2)
    bad = os.path.join(WORK, "bad.yaml")
    open(bad, "w").write("school: {id: [\n")
    cgctl("policy", "apply", bad, expect=1)

    # Commit-confirm: apply v2 with a 3 s window, kill -9 controld inside it, restart after the
    # deadline: the revert happens on the first tick of the new controld.
    r = cgctl("policy", "apply", v2, "--confirm", "3", "--comment", "risky")
    check(r["confirm_deadline"] is not None, "deadline reported")
    check(dp_status().get("sha256") == sha(policy_v2), "dataplane runs revision 2")
    check(dp_status().get("revision") == 2, "dataplane names revision 2: %s" % dp_status())
    procs["controld"].send_signal(signal.SIGKILL)
    procs["controld"].wait()
    deadline = time.time() + 3
    time.sleep(max(0.0, deadline - time.time()) + 0.5)
    base = start_controld()
    t0 = time.time()
    wait_for(lambda: dp_status().get("sha256") == sha(policy_v1), "revert after restart")
    after = time.time() - t0
    print("revert after kill -9 + restart: %.2f s after controld came back, %.2f s after the deadline"
          % (after, time.time() - deadline))
    # Sessions are kept in the store: the kill -9 and restart did not end this one.
    me = cgctl("whoami", "--server", base)
    check(me.get("user") == "sec", "session survives a controld restart: %s" % me)
    cgctl("login", "--server", base, "--cacert", cert, "--user", "sec", stdin=PASSWORDS["sec"] + "\n")
    hist = cgctl("policy", "history")["revisions"]
    check(hist[0]["action"] == "revert" and hist[0]["user"] == "controld", "revert recorded")
    check(dp_status().get("revision") == hist[0]["number"] == 3,
          "dataplane names the revert's revision: %s" % dp_status())

    # Confirm keeps the change.
    cgctl("policy", "apply", v2, "--confirm", "2", "--server", base)
    cgctl("policy", "confirm", "--server", base)
    time.sleep(2.5)
    check(dp_status().get("sha256") == sha(policy_v2), "confirmed change stays")
    cgctl("policy", "confirm", "--server", base, expect=1)

    # History / diff / rollback reproduces revision 1 exactly.
    hist = cgctl("policy", "history", "--server", base)["revisions"]
    check([h["number"] for h in hist] == [4, 3, 2, 1], "history numbering %s" % hist)
    d = cgctl("policy", "diff", "1", "2", "--server", base)
    check("+# v2" in d["diff"], "diff shows the change")
    r = cgctl("policy", "rollback", "1", "--server", base)
    check(dp_status().get("sha256") == sha(policy_v1), "rollback to revision 1")
    check(dp_status().get("revision") == r["revision"] == 5,
          "dataplane names the rollback's revision: %s" % dp_status())
    shown = cgctl("policy", "show", str(r["revision"]), "--server", base, json_out=False)
    check(shown == policy_v1, "rollback reproduces the text byte for byte")

    # No packet lost across the applies, the kill -9 and the revert (real dataplane only).
    if "ping" in procs:
        procs["ping"].send_signal(signal.SIGINT)
        out, _ = procs["ping"].communicate(timeout=30)
        import re
        m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
        check(m is not None, "ping summary: " + out[-300:])
        sent, got = int(m.group(1)), int(m.group(2))
        print("ping across the dataplane during the commits: %d sent, %d received" % (sent, got))
        check(sent > 100 and sent == got, "ping lost packets across apply/revert: %d/%d" % (got, sent))
    # Dataplane restart (generation 0): controld re-pushes the current revision.
    if "dp" in procs or os.environ.get("DP_RESTART"):
        restart_dp()
        wait_for(lambda: dp_status().get("sha256") == sha(policy_v1), "re-push after dataplane restart")
        check(dp_status().get("revision") == 5, "re-push names revision 5: %s" % dp_status())

    # --- lockout over HTTPS ------------------------------------------------------------------
    for _ in range(3):
        s, _, _ = http("POST", base + "/api/v1/login", {"user": "ops", "password": "wrong wrong wrong"})
        check(s == 401, "bad password 401")
    s, _, _ = http("POST", base + "/api/v1/login", {"user": "ops", "password": PASSWORDS["ops"]})
    check(s == 423, "locked account answers 423, got %d" % s)

    # --- OpenAPI conformance + role matrix over HTTPS ----------------------------------------
    spec = yaml.safe_load(open(os.path.join(SRC, "controlplane/api/openapi.yaml")))
    defs = nullable_to_jsonschema(spec["components"]["schemas"])
    tokens = {}
    for short in ("sys", "sec", "aud"):
        s, body, _ = http("POST", base + "/api/v1/login", {"user": short, "password": PASSWORDS[short]})
        check(s == 200, "login " + short)
        tokens[short] = json.loads(body)
        jsonschema.validate(tokens[short], nullable_to_jsonschema(
            spec["paths"]["/api/v1/login"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]))
    samples = {"/api/v1/policy/revisions/{number}": "/api/v1/policy/revisions/1"}
    queries = {"/api/v1/policy/diff": "?a=1&b=2", "/api/v1/events": "?limit=5",
               "/api/v1/events/counts": "?bucket=60"}
    bodies = {("POST", "/api/v1/users"): {"name": "newop", "role": "operator", "password": "a long password"},
              ("POST", "/api/v1/policy/apply"): {"source": policy_v2, "comment": "openapi"},
              ("POST", "/api/v1/policy/rollback"): {"revision": 1}}
    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            roles = set(op["x-roles"])
            url = base + samples.get(path, path) + queries.get(path, "")
            body = bodies.get((method.upper(), path))
            if path == "/api/v1/logout":
                continue  # checked last, it ends the session
            s, _, _ = http(method.upper(), url, body)
            check((s == 401) == bool(roles), "%s %s anonymous -> %d" % (method, path, s))
            for short in ("sys", "sec", "aud"):
                s, text, hdrs = http(method.upper(), url, body, token=tokens[short]["token"])
                allowed = not roles or ROLES[short] in roles
                check((s == 403) != allowed, "%s %s as %s -> %d %s" % (method, path, short, s, text))
                if not allowed:
                    continue
                resp = op["responses"].get(str(s))
                check(resp is not None, "%s %s answered %d, not in openapi.yaml" % (method, path, s))
                content = resp.get("content", {})
                if "application/json" in content:
                    schema = nullable_to_jsonschema(content["application/json"]["schema"])
                    schema["definitions"] = defs
                    jsonschema.validate(json.loads(text), schema)
                else:
                    check(hdrs.get("Content-Type", "").startswith("text/plain"), "text/plain metrics")
                checked += 1
    print("openapi: %d operation x role responses validated" % checked)

    # --- CSRF: the cookie alone cannot change anything ---------------------------------------
    cookie = {"Cookie": "cg_session=" + tokens["sec"]["token"]}
    s, _, _ = http("POST", base + "/api/v1/policy/confirm", None, headers=cookie)
    check(s == 403, "cookie POST without X-CSRF-Token is refused, got %d" % s)
    s, _, _ = http("POST", base + "/api/v1/policy/confirm", None,
                   headers=dict(cookie, **{"X-CSRF-Token": tokens["sec"]["csrf_token"]}))
    check(s == 404, "with the CSRF token the request goes through (nothing pending: 404), got %d" % s)
    s, _, _ = http("POST", base + "/api/v1/logout", None, token=tokens["sys"]["token"])
    check(s == 200, "logout")
    s, _, _ = http("GET", base + "/api/v1/whoami", None, token=tokens["sys"]["token"])
    check(s == 401, "token dead after logout")

    # --- audit verify, then tamper ------------------------------------------------------------
    cgctl("login", "--server", base, "--cacert", cert, "--user", "aud", stdin=PASSWORDS["aud"] + "\n")
    v = cgctl("audit", "verify")
    check(v["ok"] and v["records"] > 10, "audit chain intact: %s" % v)
    recs = cgctl("audit", "list", "--limit", "1000")["records"]
    actions = {r["action"] for r in recs}
    for a in ("login", "login_failed", "policy.apply", "policy.revert", "policy.confirm",
              "policy.rollback", "user.put", "policy.repush"):
        check(a in actions, "audit has %s" % a)
    db = sqlite3.connect(os.path.join(STATE, "controld.db"))
    db.executescript("DROP TRIGGER audit_no_update; UPDATE audit SET username='mallory' WHERE seq=3;")
    db.close()
    v = cgctl("audit", "verify", expect=1)
    check(not v["ok"] and v["bad_seq"] == 3, "tamper detected: %s" % v)
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

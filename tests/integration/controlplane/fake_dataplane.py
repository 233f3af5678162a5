#!/usr/bin/env python3
"""A stand-in for cg-dataplane's control socket (protocol v1: policy.prepare / policy.apply /
policy.status / stats / health / events.subscribe), used by controld_test.py when no real
dataplane socket is given, and by ingest_kill_test.py (ingest_real_dataplane_test.sh runs the
same kill -9 against the real one). It does not compile anything: prepare accepts any text that
does not contain the marker REJECT-ME.
Event stream, as the real EventHub (dataplane/main/README.md, events.subscribe): every event gets
a stream_seq of run RUN and stays in the backlog (unbounded here); {"after":{"run","seq"}}
replays what follows seq of this run (everything for another run), no "after" = live only; the
ack names the run and the replay. FAKE_EVENTS=N emits N sequential alerts from the start, 100
every 20 ms, whether anyone is subscribed or not.
Test hook (not in the real protocol): {"cmd":"test.emit","events":[..]} appends the given
events to the stream; "subscribers" in its answer counts the streams open right now
(controld_alerts_test.py, retention_test.py).
Usage: fake_dataplane.py SOCKET"""
import hashlib
import json
import os
import socket
import sys
import threading
import time
from datetime import datetime, timezone

state = {"generation": 0, "revision": 0, "sha256": "", "origin": "", "loaded_at": "",
         "prepared": None}
lock = threading.Lock()


def handle(req):
    cmd = req.get("cmd")
    with lock:
        if cmd == "policy.status":
            return {"v": 1, "ok": True, "generation": state["generation"], "sha256": state["sha256"],
                    "origin": state["origin"], "loaded_at": state["loaded_at"], "rules": 1,
                    "revision": state["revision"]}
        if cmd == "policy.prepare":
            src = req.get("source", "")
            if "REJECT-ME" in src:
                return {"v": 1, "ok": False, "error": "compile failed",
                        "diagnostics": [req.get("origin", "?") + ":1:1: error: rejected"]}
            gen = state["generation"] + 1
            state["prepared"] = (gen, src, req.get("origin", ""), req.get("revision", 0))
            return {"v": 1, "ok": True, "generation": gen, "rules": 1, "prepare_us": 1,
                    "revision": req.get("revision", 0)}
        if cmd == "policy.apply":
            p = state["prepared"]
            if not p or p[0] != req.get("generation"):
                return {"v": 1, "ok": False, "error": "no such prepared generation"}
            prev = state["generation"]
            state.update(generation=p[0], sha256=hashlib.sha256(p[1].encode()).hexdigest(),
                         origin=p[2], revision=p[3], prepared=None,
                         loaded_at=datetime.now(timezone.utc).isoformat())
            return {"v": 1, "ok": True, "generation": p[0], "previous": prev, "apply_us": 1}
        if cmd in ("stats", "health"):
            return {"v": 1, "ok": True, "rx_packets": 0}
    return {"v": 1, "ok": False, "error": "unknown command"}


EVENTS = int(os.environ.get("FAKE_EVENTS", "0"))
RUN = "0badcafe"
backlog = []  # encoded lines; backlog[k] has stream_seq k + 1
subscribers = [0]
stream_cv = threading.Condition(lock)


def append(events):
    """Under lock: events enter the stream with the next stream_seq."""
    for e in events:
        e = dict(e, stream_seq=len(backlog) + 1)
        backlog.append((json.dumps(e) + "\n").encode())
    stream_cv.notify_all()


def fake_alert(i):
    return {"timestamp": "2026-11-29T23:54:56.%06d+0000" % (i % 1000000),
            "event_type": "alert", "event_id": "%s-0-%d" % (RUN, i), "schema_version": 1,
            "flow_id": i, "community_id": "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
            "src_ip": "10.30.0.%d" % (i % 200), "src_port": 40000 + i % 20000,
            "dest_ip": "203.0.113.9", "dest_port": 443, "proto": "TCP",
            "detector": "port_scan", "alert": {"signature": "port scan", "severity": 2}}


def generate():
    for start in range(0, EVENTS, 100):
        with lock:
            append([fake_alert(i) for i in range(start, min(start + 100, EVENTS))])
        time.sleep(0.02)


def emit(events):
    append(events)
    return {"v": 1, "ok": True, "subscribers": subscribers[0], "events": len(events)}


def stream_events(conn, req):
    after = req.get("after")
    with lock:
        now = len(backlog)
        ack = {"v": 1, "ok": True, "stream": "events.subscribe", "run": RUN, "seq": now}
        cursor = now
        if isinstance(after, dict):
            cursor = after.get("seq", 0) if after.get("run") == RUN else 0
            cursor = min(cursor, now)
            ack.update(replay_from=cursor + 1 if cursor < now else 0, replay_lines=now - cursor,
                       lost=0)
        subscribers[0] += 1
    try:
        conn.sendall((json.dumps(ack) + "\n").encode())
        while True:
            with lock:
                while cursor >= len(backlog):
                    stream_cv.wait()
                chunk = b"".join(backlog[cursor:cursor + 500])
                cursor = min(cursor + 500, len(backlog))
            conn.sendall(chunk)
    except OSError:
        pass
    finally:
        with lock:
            subscribers[0] -= 1


def serve(conn):
    buf = b""
    with conn:
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                try:
                    req = json.loads(line)
                    if req.get("cmd") == "events.subscribe":
                        return stream_events(conn, req)
                    if req.get("cmd") == "test.emit":
                        with lock:
                            resp = emit(req.get("events", []))
                    else:
                        resp = handle(req)
                except ValueError:
                    resp = {"v": 1, "ok": False, "error": "bad json"}
                conn.sendall(json.dumps(resp).encode() + b"\n")


def main():
    path = sys.argv[1]
    if os.path.exists(path):
        os.unlink(path)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(16)
    threading.Thread(target=generate, daemon=True).start()
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A stand-in for cg-dataplane's control socket (protocol v1: policy.prepare / policy.apply /
policy.status / stats / health / events.subscribe), used by controld_test.py when no real
dataplane socket is given, and by ingest_kill_test.py (the real dataplane's event stream belongs
to the detection work). It does not compile anything: prepare accepts any text that does not
contain the marker REJECT-ME. Test hook (not in the real protocol): {"cmd":"test.emit","events":[..]}
sends the given events to every current events.subscribe stream (controld_alerts_test.py).
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
next_event = [0]
subscribers = []


def emit(events):
    data = "".join(json.dumps(e) + "\n" for e in events).encode()
    sent = 0
    for conn in list(subscribers):
        try:
            conn.sendall(data)
            sent += 1
        except OSError:
            subscribers.remove(conn)
    return {"v": 1, "ok": True, "subscribers": sent, "events": len(events)}


def stream_events(conn):
    """events.subscribe: sequential EVE-style alerts; a new subscriber continues where the last
    one stopped (what the dataplane's bounded buffer does while controld is away)."""
    conn.sendall(b'{"v":1,"ok":true}\n')
    while next_event[0] < EVENTS:
        chunk = []
        for _ in range(100):
            i = next_event[0]
            if i >= EVENTS:
                break
            chunk.append(json.dumps({
                "timestamp": "2026-11-29T23:54:56.%06d+0000" % (i % 1000000),
                "event_type": "alert", "event_id": "0badcafe-0-%d" % i, "schema_version": 1,
                "flow_id": i, "community_id": "1:LQU9qZlK+B5F3KDmev6m5PMibrg=",
                "src_ip": "10.30.0.%d" % (i % 200), "src_port": 40000 + i % 20000,
                "dest_ip": "203.0.113.9", "dest_port": 443, "proto": "TCP",
                "detector": "port_scan", "alert": {"signature": "port scan", "severity": 2}}))
            next_event[0] += 1
        try:
            conn.sendall(("\n".join(chunk) + "\n").encode())
        except OSError:
            return
        time.sleep(0.01)
    with lock:
        subscribers.append(conn)
    threading.Event().wait()


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
                        return stream_events(conn)
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
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


if __name__ == "__main__":
    main()

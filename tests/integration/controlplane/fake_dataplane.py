#!/usr/bin/env python3
"""A stand-in for cg-dataplane's control socket (protocol v1: policy.prepare / policy.apply /
policy.status / stats / health), used by controld_test.py only when the real dataplane's live
policy load is not built. It does not compile anything: prepare accepts any text that does not
contain the marker REJECT-ME. Usage: fake_dataplane.py SOCKET"""
import hashlib
import json
import os
import socket
import sys
import threading
from datetime import datetime, timezone

state = {"generation": 0, "sha256": "", "origin": "", "loaded_at": "", "prepared": None}
lock = threading.Lock()


def handle(req):
    cmd = req.get("cmd")
    with lock:
        if cmd == "policy.status":
            return {"v": 1, "ok": True, "generation": state["generation"], "sha256": state["sha256"],
                    "origin": state["origin"], "loaded_at": state["loaded_at"], "rules": 1}
        if cmd == "policy.prepare":
            src = req.get("source", "")
            if "REJECT-ME" in src:
                return {"v": 1, "ok": False, "error": "compile failed",
                        "diagnostics": [req.get("origin", "?") + ":1:1: error: rejected"]}
            gen = state["generation"] + 1
            state["prepared"] = (gen, src, req.get("origin", ""))
            return {"v": 1, "ok": True, "generation": gen, "rules": 1, "prepare_us": 1}
        if cmd == "policy.apply":
            p = state["prepared"]
            if not p or p[0] != req.get("generation"):
                return {"v": 1, "ok": False, "error": "no such prepared generation"}
            prev = state["generation"]
            state.update(generation=p[0], sha256=hashlib.sha256(p[1].encode()).hexdigest(),
                         origin=p[2], prepared=None,
                         loaded_at=datetime.now(timezone.utc).isoformat())
            return {"v": 1, "ok": True, "generation": p[0], "previous": prev, "apply_us": 1}
        if cmd in ("stats", "health"):
            return {"v": 1, "ok": True, "rx_packets": 0}
    return {"v": 1, "ok": False, "error": "unknown command"}


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
                    resp = handle(json.loads(line))
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

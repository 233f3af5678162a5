#!/usr/bin/env python3
"""The real cg-dataplane --replay with a bandwidth policy over a corpus capture.

bittorrent.pcap downloads ~300 KB in ~6 s (~400 kbit/s) to 192.168.1.3. With the P2P class
capped at 64 kbit/s the report's qos section must show: the bytes of the p2p class within
cap x duration + one bucket (never above the cap), the rest dropped with reason
qos_drop_class_cap, every IP byte accounted to exactly one class (passed + dropped), and the
pipeline's drop_qos counter equal to the shaper's drops.
"""
import json
import os
import subprocess
import sys
import tempfile

src = os.environ.get("CG_SOURCE_DIR", ".")
build = os.environ.get("CG_BUILD_DIR", "build")
pcap = os.path.join(src, "../shared/corpus/pcap/bittorrent.pcap")
policy = os.path.join(src, "tests/unit/qos/p2p-cap.yaml")
failed = 0


def check(ok, what):
    global failed
    print(("ok   " if ok else "FAIL ") + what)
    failed += 0 if ok else 1


if not os.path.exists(pcap):
    print(f"FAIL: corpus capture missing: {pcap}")
    sys.exit(1)
with tempfile.TemporaryDirectory() as tmp:
    out = os.path.join(tmp, "report.json")
    r = subprocess.run([os.path.join(build, "bin/cg-dataplane"), "--replay", pcap, "--report", out,
                        "--policy", policy], capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, f"cg-dataplane --replay exits 0 ({r.returncode}: {r.stderr[-500:]})")
    rep = json.load(open(out))

q = rep.get("qos")
check(q is not None, "report has a qos section")
classes = {c["name"]: c for c in q["classes"]}
check(set(classes) == {"p2p", "default"}, f"classes p2p + default: {sorted(classes)}")
p2p = classes["p2p"]
duration = rep["totals"]["last_ts"] - rep["totals"]["first_ts"]
passed = p2p["bytes_up"] + p2p["bytes_down"]
# The two directions are separate trees: each at most cap * duration + depth (3036 bytes).
bound = 64000 / 8 * duration + 3036
check(p2p["bytes_down"] <= bound, f"p2p down {p2p['bytes_down']} B <= {bound:.0f} B (cap)")
check(p2p["bytes_up"] <= bound, f"p2p up {p2p['bytes_up']} B <= {bound:.0f} B (cap)")
# The main download lasts ~5.8 s (nDPI's reference): at least half the cap over 5 s gets through.
check(p2p["bytes_down"] >= 0.5 * 64000 / 8 * 5,
      f"p2p down {p2p['bytes_down']} B uses the cap (>= {0.5 * 64000 / 8 * 5:.0f} B)")
check(p2p["dropped_bytes"] > 100000, f"p2p dropped {p2p['dropped_bytes']} B over the cap")
c = rep["counters"]
check(c["qos_drop_class_cap"] == p2p["dropped_packets"] + classes["default"]["dropped_packets"],
      "drops by reason = class drops")
check(c["drop_qos"] == c["qos_packets_dropped"], "pipeline drop_qos = shaper drops")
all_bytes = sum(x["bytes_up"] + x["bytes_down"] + x["dropped_bytes"] for x in q["classes"])
check(all_bytes == c["qos_bytes_passed"] + c["qos_bytes_dropped"],
      f"every policed byte is in one class ({all_bytes})")
rooms = {x["name"]: x for x in q["classrooms"]}
check("lan" in rooms, f"classroom lan listed: {sorted(rooms)}")
print("failed" if failed else "all passed")
sys.exit(1 if failed else 0)

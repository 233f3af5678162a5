#!/usr/bin/env python3
"""Checks of cg-agentx under a real snmpd master; run by agentx_test.sh, which has started the
dataplane (namespaces), snmpd and cg-agentx and exported WORK, PORT, BIN, NS_CL, NS_NET, CL_IP,
NET_IP, DP_PID, AX_PID.

Every wait is bounded by a count of polls and fails with what was last seen; nothing is timed.
Values are compared with the dataplane's own socket replies read before and after the walk:
  stats(before) <= SNMP value <= stats(after)
after cg-agentx has completed two refreshes since `before` (cgAgentRefreshes), so the value it
serves was read between the two."""
import glob
import json
import os
import re
import socket
import subprocess
import sys
import time

WORK, PORT = os.environ["WORK"], os.environ["PORT"]
NS_CL, NET_IP = os.environ["NS_CL"], os.environ["NET_IP"]
AX_PID = int(os.environ["AX_PID"])
ROOT = ".1.3.6.1.4.1.32473.1"  # cgObjects
COMMUNITY = "cgax-public"
NUMERIC_ENV = dict(os.environ, MIBS="", MIBDIRS="")


def fail(msg):
    print("FAIL:", msg, flush=True)
    sys.exit(1)


def log(msg):
    print("[%s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def parse(out):
    vals = {}
    for line in out.splitlines():
        if " = " not in line:
            continue
        oid, rest = line.split(" = ", 1)
        if rest.startswith("No Such") or rest.startswith("No more variables"):
            vals[oid] = (None, rest)
            continue
        typ, _, val = rest.partition(": ")
        if typ in ("Counter32", "Counter64", "Gauge32", "INTEGER"):
            val = int(val)
        elif typ == "STRING":
            val = val[1:-1] if val.startswith('"') else val
        elif rest == '""':
            typ, val = "STRING", ""
        vals[oid] = (typ, val)
    return vals


def snmp(tool, *oids):
    cmd = [tool, "-v2c", "-c", COMMUNITY, "-On", "-t", "3", "-r", "1", "127.0.0.1:" + PORT]
    r = subprocess.run(cmd + list(oids), capture_output=True, text=True, env=NUMERIC_ENV)
    if r.returncode != 0:
        fail("%s %s: %s%s" % (tool, " ".join(oids), r.stdout, r.stderr))
    return parse(r.stdout)


def get(*sub):
    oid = ROOT + "".join("." + str(s) for s in sub)
    return snmp("snmpget", oid)[oid]


def walk():
    return {k: v for k, v in snmp("snmpwalk", ROOT).items() if k.startswith(ROOT + ".")}


def dp(cmd, **args):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(os.path.join(WORK, "dataplane.sock"))
    s.sendall((json.dumps(dict(args, v=1, cmd=cmd)) + "\n").encode())
    f = s.makefile()
    reply = json.loads(f.readline())
    s.close()
    return reply


def poll(what, cond, tries=100, delay=0.2):
    last = None
    for _ in range(tries):
        ok, last = cond()
        if ok:
            return last
        if not alive(AX_PID):
            fail("cg-agentx exited while waiting for " + what)
        time.sleep(delay)
    fail("%s: not seen after %d polls; last: %r" % (what, tries, last))


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


def name_oid(prefix, name):
    return prefix + "".join("." + str(b) for b in name.encode())


def wait_refreshes(n):
    r0 = get(1, 4, 0)[1]
    poll("%d refreshes of cg-agentx" % n, lambda: (get(1, 4, 0)[1] >= r0 + n, get(1, 4, 0)))


def in_cl(*cmd):
    subprocess.run(["ip", "netns", "exec", NS_CL] + list(cmd), check=True,
                   stdout=subprocess.DEVNULL)


def ping(count):
    """Pings the internet host from the classroom; returns the replies received (each one is a
    request and a reply that crossed the dataplane)."""
    r = subprocess.run(["ip", "netns", "exec", NS_CL, "ping", "-c", str(count), "-i", "0.02",
                        "-W", "2", NET_IP], capture_output=True, text=True)
    m = re.search(r"(\d+) received", r.stdout)
    need(m and int(m.group(1)) > 0, "ping through the dataplane: %s" % r.stdout[-300:])
    return int(m.group(1))


def need(cond, what, ctx=None):
    if not cond:
        if ctx is not None:
            print(json.dumps(ctx, indent=1, default=str)[:20000])
        fail(what)


def qos_zone(q, name):
    total = 0
    for w in q["workers"]:
        for z in ((w.get("qos") or {}).get("classrooms") or []):
            if z["name"] == name:
                total += z["packets"]
    return total


# --- 1. cg-agentx registered and reading the dataplane -------------------------------------
poll("cgAgentDataplaneStatus ok(1)",
     lambda: (get(1, 1, 0)[1] == 1, (get(1, 1, 0), get(1, 2, 0))), tries=150)
poll("cgAgentEventStream connected(1)", lambda: (get(1, 7, 0)[1] == 1, get(1, 7, 0)))
log("cg-agentx registered under snmpd; dataplane ok, event stream connected")

# The policy again, as cg-controld pushes a commit: tagged with its revision number (7).
POLICY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "agentx_policy.yaml")
with open(POLICY) as f:
    prep = dp("policy.prepare", source=f.read(), origin="agentx_policy.yaml", revision=7)
need(prep.get("ok") and prep.get("revision") == 7, "policy.prepare with revision 7", prep)
applied = dp("policy.apply", generation=prep["generation"])
need(applied.get("ok"), "policy.apply", applied)

# --- 2. some traffic: pings (allowed) and UDP to the discard port (denied, high alert) -------
got1 = ping(30)
in_cl("python3", "-c",
      "import socket\n"
      "for i in range(5):\n"
      "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
      "    s.sendto(b'x' * 100, ('%s', 9))\n"
      "    s.close()\n" % NET_IP)

# --- 3. values match the dataplane's replies ---------------------------------------------------
before, q_before, pol = dp("stats"), dp("qos"), dp("policy.status")
health = dp("health")
wait_refreshes(2)
w = walk()
after, q_after = dp("stats"), dp("qos")
log("walked %d objects under %s" % (len(w), ROOT))
need(w[ROOT + ".1.1.0"] == ("INTEGER", 1), "cgAgentDataplaneStatus ok", w)
need(w[ROOT + ".1.2.0"][1] == "", "cgAgentDataplaneError empty", w)


def between(oid, b, a, what, typ="Counter64"):
    need(oid in w, "%s (%s) missing from the walk" % (what, oid), w)
    t, v = w[oid]
    need(t == typ, "%s: type %s, want %s" % (what, t, typ))
    need(b <= v <= a, "%s: SNMP %d not within the dataplane's %d..%d" % (what, v, b, a))
    return v


cb, ca = before["counters"], after["counters"]
pkts = between(ROOT + ".3.1.0", cb["packets"], ca["packets"], "cgTrafficPackets")
between(ROOT + ".3.2.0", cb["bytes"], ca["bytes"], "cgTrafficOctets")
between(ROOT + ".3.3.0", cb["forwarded"], ca["forwarded"], "cgTrafficForwarded")
need(pkts >= 2 * got1 + 5, "cgTrafficPackets counts %d pings and 5 datagrams (%d)"
     % (2 * got1, pkts))
for idx, port in ((1, "inside"), (2, "outside")):
    pb, pa = before["ports"][port], after["ports"][port]
    need(w[ROOT + ".3.4.1.2.%d" % idx][1] == pb["device"], "cgPortDevice.%d" % idx, w)
    for col, key in ((3, "rx_packets"), (4, "rx_bytes"), (5, "tx_packets"), (6, "tx_bytes"),
                     (7, "drop_tx_full")):
        between(ROOT + ".3.4.1.%d.%d" % (col, idx), pb[key], pa[key], "%s %s" % (port, key))
# Drop table: exactly the drop_* counters of stats and the qos_drop_* counters of qos.
drop_names = sorted(k for k in cb if k.startswith("drop_"))
qos_drop_names = sorted({k for wk in q_before["workers"] if wk.get("qos")
                         for k in wk["qos"]["counters"] if k.startswith("qos_drop_")})
rows = sorted(bytes(int(x) for x in k[len(ROOT + ".4.1.1.2."):].split(".")).decode()
              for k in w if k.startswith(ROOT + ".4.1.1.2."))
need(rows == sorted(drop_names + qos_drop_names),
     "cgDropTable rows %r = drop_* of stats + qos_drop_* of qos" % rows)
for name in drop_names:
    between(name_oid(ROOT + ".4.1.1.3", name), cb[name], ca[name], "cgDropPackets." + name)
need(w[name_oid(ROOT + ".4.1.1.3", "drop_policy")][1] >= 5, "drop_policy counts the 5 denied")
# Zones: room-101 carried the pings.
zone_pkts = between(name_oid(ROOT + ".5.1.1.3", "room-101"), qos_zone(q_before, "room-101"),
                    qos_zone(q_after, "room-101"), "cgZonePackets.room-101")
need(zone_pkts >= 2 * got1, "room-101 carried the pings (%d)" % zone_pkts)
need(w[name_oid(ROOT + ".5.1.1.2", "room-101")][1] == "room-101", "cgZoneDescr")
between(ROOT + ".6.2.0", cb["flows_created"], ca["flows_created"], "cgFlowsCreated")
need(w[ROOT + ".6.1.0"][0] == "Gauge32", "cgFlowsActive is a Gauge32", w)
# Policy and health.
need(w[ROOT + ".8.1.0"] == ("Gauge32", pol["generation"]) and pol["generation"] >= 1,
     "cgPolicyGeneration = policy.status generation %d" % pol["generation"], w)
need(w[ROOT + ".8.2.0"][1] == pol["sha256"], "cgPolicySha256", w)
need(w[ROOT + ".8.5.0"][1] == pol["rules"], "cgPolicyRules", w)
need(w[ROOT + ".8.6.0"][1] == pol["school"], "cgPolicySchool", w)
need(pol["revision"] == 7 and w[ROOT + ".8.8.0"] == ("Gauge32", 7),
     "cgPolicyRevision = the commit revision the policy was prepared with (7)", w)
need(w[ROOT + ".2.1.0"] == ("INTEGER", 1), "cgHealthState running", w)
need(w[ROOT + ".2.3.0"][1] == health["workers"], "cgHealthWorkers", w)
# Events: the 5 denied datagrams raised high alerts (severity 2).
high = poll("cgEventCount.high counts the alerts",
            lambda: (get(7, 1, 1, 2, 2)[1] >= 1, get(7, 1, 1, 2, 2)[1]), tries=50)
need(get(7, 1, 1, 2, 1)[1] == 0, "no critical alerts")
log("walk matches the dataplane: %d packets, drop_policy %d, room-101 %d packets, "
    "policy generation %d, %d high alerts"
    % (pkts, w[name_oid(ROOT + ".4.1.1.3", "drop_policy")][1], zone_pkts, pol["generation"],
       high))

# Every object walked has a name in CAMPUSGUARD-MIB (net-snmp's parser, with the SMIv2 base
# modules from erlang-snmp).
erl = glob.glob("/usr/lib/erlang/lib/snmp-*/mibs")
need(erl, "erlang-snmp's MIB directory missing (scripts/deps/snmp.txt)")
mibdirs = erl[0] + ":" + os.path.join(os.getcwd(), "snmp/mibs")
r = subprocess.run(["snmpwalk", "-v2c", "-c", COMMUNITY, "-M", mibdirs, "-m", "CAMPUSGUARD-MIB",
                    "127.0.0.1:" + PORT, "CAMPUSGUARD-MIB::campusguardMIB"],
                   capture_output=True, text=True)
need(r.returncode == 0 and not r.stderr.strip(), "named walk: %s" % r.stderr)
named = [l for l in r.stdout.splitlines() if " = " in l]
need(len(named) == len(w), "named walk has %d objects, numeric %d" % (len(named), len(w)))
bad = [l for l in named if not l.startswith("CAMPUSGUARD-MIB::cg")]
need(not bad, "objects without a MIB name: %r" % bad[:5])
log("every walked object is named by CAMPUSGUARD-MIB, e.g. %s" % named[0])

# --- 4. values move when traffic moves ------------------------------------------------------
p0, z0 = get(3, 1, 0)[1], get(*([5, 1, 1, 3] + list(b"room-101")))[1]
i0, o0 = get(3, 4, 1, 3, 1)[1], get(3, 4, 1, 3, 2)[1]
got2 = ping(50)
wait_refreshes(2)
p1, z1 = get(3, 1, 0)[1], get(*([5, 1, 1, 3] + list(b"room-101")))[1]
i1, o1 = get(3, 4, 1, 3, 1)[1], get(3, 4, 1, 3, 2)[1]
need(p1 - p0 >= 2 * got2, "cgTrafficPackets moved by %d pings (%d -> %d)" % (2 * got2, p0, p1))
need(i1 - i0 >= got2 and o1 - o0 >= got2,
     "both ports' in-packets moved by %d (%d, %d)" % (got2, i1 - i0, o1 - o0))
need(z1 - z0 >= 2 * got2, "room-101 moved by %d (%d -> %d)" % (2 * got2, z0, z1))
log("values moved (%d ping replies): packets +%d, inside in +%d, outside in +%d, room-101 +%d"
    % (got2, p1 - p0, i1 - i0, o1 - o0, z1 - z0))

# --- 5. dataplane stops: the status object says so, no stale values --------------------------
dp("shutdown")
poll("cgAgentDataplaneStatus unreachable(2)", lambda: (get(1, 1, 0)[1] == 2, get(1, 1, 0)), tries=100)
err = get(1, 2, 0)[1]
need(err != "", "cgAgentDataplaneError says why")
t, v = get(3, 1, 0)
need(t is None and "No Such Instance" in v, "cgTrafficPackets absent when down (%s %s)" % (t, v))
w = walk()
stale = [k for k in w if not (k.startswith(ROOT + ".1.") or k.startswith(ROOT + ".7."))]
need(not stale, "only agent and event objects while the dataplane is down: %r" % stale[:5])
need(w[ROOT + ".1.5.0"][1] >= 1, "cgAgentRefreshFailures counted")
poll("cgAgentEventStream disconnected(2)", lambda: (get(1, 7, 0)[1] == 2, get(1, 7, 0)))
need(alive(AX_PID), "cg-agentx still running")
log("dataplane stopped: status unreachable (%s), %d objects left (agent + events)"
    % (err, len(w)))
print("agentx checks: 5 passed, 0 failed")

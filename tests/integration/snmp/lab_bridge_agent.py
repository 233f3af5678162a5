#!/usr/bin/env python3
"""snmpd pass_persist helper for the live lab's Linux-bridge "switches": serves what a real
switch's agent has and net-snmp's snmpd lacks on Linux, read live from the kernel:

  BRIDGE-MIB   dot1dBasePortIfIndex  (bridge port number from /sys/class/net/*/brport/port_no)
  Q-BRIDGE-MIB dot1qTpFdbPort / dot1qTpFdbStatus  (`bridge -j fdb show br BR`, FDB id = VLAN)
  ENTITY-MIB   one chassis row: class, model, serial (from the command line)

Usage (snmpd.conf, one process per registered subtree, each answers only inside ROOT):
  pass_persist .1.3.6.1.2.1.17 /usr/bin/python3 lab_bridge_agent.py BR MODEL SERIAL .1.3.6.1.2.1.17
  pass_persist .1.3.6.1.2.1.47 /usr/bin/python3 lab_bridge_agent.py BR MODEL SERIAL .1.3.6.1.2.1.47
Test infrastructure only (it makes a namespace look like a managed switch); campusguard never
runs it."""
import json
import os
import subprocess
import sys
import time

BRIDGE, MODEL, SERIAL = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = tuple(int(x) for x in sys.argv[4].strip('.').split('.'))
BASE_PORT_IFINDEX = (1, 3, 6, 1, 2, 1, 17, 1, 4, 1, 2)
QFDB_PORT = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 2)
QFDB_STATUS = (1, 3, 6, 1, 2, 1, 17, 7, 1, 2, 2, 1, 3)
ENT = (1, 3, 6, 1, 2, 1, 47, 1, 1, 1, 1)

_cache = {'at': 0.0, 'rows': []}


def ifindex(name):
    with open('/sys/class/net/%s/ifindex' % name) as f:
        return int(f.read())


def snapshot():
    """Sorted [(oid tuple, type, value)] of everything served, rebuilt at most once a second."""
    now = time.monotonic()
    if now - _cache['at'] < 1.0:
        return _cache['rows']
    rows = []
    ports = {}
    for name in os.listdir('/sys/class/net/%s/brif' % BRIDGE):
        with open('/sys/class/net/%s/brport/port_no' % name) as f:
            port_no = int(f.read(), 16)
        ports[name] = port_no
        rows.append((BASE_PORT_IFINDEX + (port_no,), 'integer', str(ifindex(name))))
    out = subprocess.run(['bridge', '-j', 'fdb', 'show', 'br', BRIDGE], capture_output=True,
                         text=True).stdout
    seen = set()
    for e in json.loads(out or '[]'):
        dev, mac, vlan = e.get('ifname'), e.get('mac'), e.get('vlan', 1)
        if dev not in ports or not mac or mac.startswith(('33:33', '01:')):
            continue
        key = (vlan,) + tuple(int(x, 16) for x in mac.split(':'))
        if key in seen:
            continue
        seen.add(key)
        status = '4' if e.get('state') == 'permanent' else '3'  # self(4) / learned(3)
        rows.append((QFDB_PORT + key, 'integer', str(ports[dev])))
        rows.append((QFDB_STATUS + key, 'integer', status))
    rows += [(ENT + (4, 1), 'integer', '0'), (ENT + (5, 1), 'integer', '3'),
             (ENT + (11, 1), 'string', SERIAL), (ENT + (13, 1), 'string', MODEL)]
    rows = sorted(r for r in rows if r[0][:len(ROOT)] == ROOT)
    _cache.update(at=now, rows=rows)
    return rows


def parse(text):
    return tuple(int(x) for x in text.strip().strip('.').split('.') if x)


def answer(row):
    oid, typ, value = row
    sys.stdout.write('.%s\n%s\n%s\n' % ('.'.join(map(str, oid)), typ, value))


def main():
    while True:
        line = sys.stdin.readline()
        if not line:
            return
        cmd = line.strip()
        if cmd == 'PING':
            sys.stdout.write('PONG\n')
        elif cmd in ('get', 'getnext'):
            oid = parse(sys.stdin.readline())
            rows = snapshot()
            hit = None
            for row in rows:
                if (cmd == 'get' and row[0] == oid) or (cmd == 'getnext' and row[0] > oid):
                    hit = row
                    break
            if hit:
                answer(hit)
            else:
                sys.stdout.write('NONE\n')
        elif cmd == 'set':
            sys.stdin.readline()
            sys.stdin.readline()
            sys.stdout.write('not-writable\n')
        else:
            sys.stdout.write('NONE\n')
        sys.stdout.flush()


if __name__ == '__main__':
    main()

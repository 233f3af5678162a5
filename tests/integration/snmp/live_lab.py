#!/usr/bin/env python3
"""Live lab: four "switches" in network namespaces (a Linux bridge each, snmpd with lldpd as
its AgentX subagent for LLDP-MIB, a pass_persist helper for BRIDGE/Q-BRIDGE/ENTITY-MIB) linked
by veths, plus one host namespace per switch:

    h1 - sw1 (seed, 10.77.0.1) -- sw2 (10.77.0.2) - h2
           \\
            sw3 (10.77.0.3) -- sw4 (10.77.0.4) - h4
              |
              h3

The real cgctl, run inside sw1's namespace, must:
  1. discover every switch and every inter-switch link (both ends) from the one seed, with the
     chassis model/serial, within --subnet 10.77.0.0/24 only;
  2. locate each host (by IP and by MAC) on the right switch port, never on an uplink;
  3. `topology show` / `compliance` read the saved file;
  4. `topology watch`: after a link is taken down, the first poll cycle that starts afterwards
     reports link_lost for that link with both ends (i.e. within one poll interval; snmpd's own
     3 s ifTable cache is switched off so the test measures the poller), link_down for the
     port, poll_failed for the switches cut off behind it; a second discover --save keeps the
     history.
Needs root (namespaces), lldpd, snmpd, iproute2. Fails with a clear message when one is missing.
Usage: live_lab.py   (env CG_SOURCE_DIR, CG_BUILD_DIR)"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get('CG_SOURCE_DIR', os.getcwd())
BUILD = os.environ.get('CG_BUILD_DIR', os.path.join(SRC, 'build'))
CGCTL = os.path.join(BUILD, 'bin', 'cgctl')
AGENT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lab_bridge_agent.py')
PREFIX = 'cglab%d-' % (os.getpid() % 10000)
SWITCHES = [1, 2, 3, 4]
# (switch a, port on a, switch b, port on b)
LINKS = [(1, 's1p2', 2, 's2p1'), (1, 's1p3', 3, 's3p1'), (3, 's3p4', 4, 's4p3')]
HOSTS = {1: 's1h', 2: 's2h', 3: 's3h', 4: 's4h'}  # host n hangs off switch n on this port
FAILURES = []


def ns(name):
    return PREFIX + name


def sh(*args, check=True, **kw):
    r = subprocess.run(list(args), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError('%s failed (%d): %s' % (' '.join(args), r.returncode,
                                                   r.stderr.strip()))
    return r


def nsexec(name, *args, **kw):
    return sh('ip', 'netns', 'exec', ns(name), *args, **kw)


def check(cond, what):
    print(('ok   ' if cond else 'FAIL ') + what, flush=True)
    if not cond:
        FAILURES.append(what)


def cgctl(*args, check_rc=True):
    r = nsexec('sw1', CGCTL, *args, check=False)
    if check_rc and r.returncode != 0:
        raise RuntimeError('cgctl %s: exit %d\n%s' % (' '.join(args), r.returncode, r.stderr))
    return r


def setup(tmp):
    for s in SWITCHES:
        sh('ip', 'netns', 'add', ns('sw%d' % s))
        nsexec('sw%d' % s, 'ip', 'link', 'set', 'lo', 'up')
        nsexec('sw%d' % s, 'ip', 'link', 'add', 'br0', 'type', 'bridge')
        nsexec('sw%d' % s, 'ip', 'link', 'set', 'br0', 'up')
        nsexec('sw%d' % s, 'ip', 'addr', 'add', '10.77.0.%d/24' % s, 'dev', 'br0')
    for a, pa, b, pb in LINKS:
        sh('ip', 'link', 'add', pa, 'netns', ns('sw%d' % a), 'type', 'veth', 'peer', 'name', pb,
           'netns', ns('sw%d' % b))
        nsexec('sw%d' % a, 'ip', 'link', 'set', pa, 'master', 'br0', 'up')
        nsexec('sw%d' % b, 'ip', 'link', 'set', pb, 'master', 'br0', 'up')
    for n, port in HOSTS.items():
        h = 'h%d' % n
        sh('ip', 'netns', 'add', ns(h))
        nsexec(h, 'ip', 'link', 'set', 'lo', 'up')
        sh('ip', 'link', 'add', port, 'netns', ns('sw%d' % n), 'type', 'veth', 'peer', 'name',
           'eth0', 'netns', ns(h))
        nsexec('sw%d' % n, 'ip', 'link', 'set', port, 'master', 'br0', 'up')
        nsexec(h, 'ip', 'link', 'set', 'eth0', 'up')
        nsexec(h, 'ip', 'addr', 'add', '10.77.0.%d/24' % (100 + n), 'dev', 'eth0')
    procs = []
    for s in SWITCHES:
        d = os.path.join(tmp, 'sw%d' % s)
        os.makedirs(d)
        agentx = os.path.join(d, 'agentx.sock')
        conf = os.path.join(d, 'snmpd.conf')
        model, serial = 'CG-LAB-SW%d' % s, 'LAB%04d' % s
        with open(conf, 'w') as f:
            f.write('agentAddress udp:10.77.0.%d:161,udp:127.0.0.1:161\n' % s)
            f.write('master agentx\nagentXSocket %s\nagentXPerms 0600 0700\n' % agentx)
            f.write('rocommunity labcommunity 10.77.0.0/24\n')
            # Only for the set-up below: write access to NET-SNMP-AGENT-MIB's cache table.
            f.write('rwcommunity labsetup 127.0.0.1 .1.3.6.1.4.1.8072.1.5.3\n')
            f.write('sysName sw%d\nsysDescr campusguard lab switch %d\n' % (s, s))
            f.write('sysServices 6\n')
            for root in ('.1.3.6.1.2.1.17', '.1.3.6.1.2.1.47'):
                f.write('pass_persist %s %s %s br0 %s %s %s\n' %
                        (root, sys.executable, AGENT, model, serial, root))
        log = open(os.path.join(d, 'snmpd.log'), 'w')
        procs.append(subprocess.Popen(
            ['ip', 'netns', 'exec', ns('sw%d' % s), 'snmpd', '-f', '-C', '-c', conf, '-Lo',
             '-p', os.path.join(d, 'snmpd.pid')], stdout=log, stderr=subprocess.STDOUT))
        # lldpd talks LLDP on the switch ports and serves LLDP-MIB to snmpd over AgentX.
        lconf = os.path.join(d, 'lldpd.conf')
        with open(lconf, 'w') as f:
            f.write('configure system hostname sw%d\n' % s)
            f.write('configure system description "campusguard lab switch %d"\n' % s)
        for _ in range(100):  # snmpd creates the AgentX socket
            if os.path.exists(agentx):
                break
            time.sleep(0.1)
        llog = open(os.path.join(d, 'lldpd.log'), 'w')
        procs.append(subprocess.Popen(
            ['ip', 'netns', 'exec', ns('sw%d' % s), 'lldpd', '-d', '-x', '-X', agentx,
             '-u', os.path.join(d, 'lldpd.sock'), '-m', '10.77.0.%d' % s, '-I', 's*',
             '-O', lconf], stdout=llog, stderr=subprocess.STDOUT, start_new_session=True))
    return procs


def wait_lldp(tmp):
    """Until every switch sees its LLDP neighbours (lldpd sends at start, then every 30 s)."""
    want = {s: 0 for s in SWITCHES}
    for a, _, b, _ in LINKS:
        want[a] += 1
        want[b] += 1
    for _ in range(300):
        ok = True
        for s in SWITCHES:
            r = nsexec('sw%d' % s, 'lldpcli', '-u', os.path.join(tmp, 'sw%d' % s, 'lldpd.sock'),
                       '-f', 'json', 'show', 'neighbors', check=False)
            try:
                ifs = json.loads(r.stdout).get('lldp', {}).get('interface', [])
            except ValueError:
                ifs = []
            if isinstance(ifs, dict):
                ifs = [ifs]
            ok = ok and len(ifs) >= want[s]
        if ok:
            return True
        time.sleep(0.2)
    return False


def wait_snmp():
    for _ in range(300):
        good = 0
        for s in SWITCHES:
            r = nsexec('sw1', 'snmpwalk', '-v2c', '-c', 'labcommunity', '-t', '1', '-r', '0',
                       '-On', '10.77.0.%d' % s, '1.0.8802.1.1.2.1.4.1.1.9', check=False)
            good += r.returncode == 0 and 'STRING' in r.stdout
        if good == len(SWITCHES):
            return True
        time.sleep(0.2)
    return False


def no_agent_cache():
    """snmpd serves ifTable from a 3 s cache; with it the test would measure snmpd, not our
    poller. nsCacheTimeout.<ifTable> = 0: every request reads the kernel."""
    for s in SWITCHES:
        nsexec('sw%d' % s, 'snmpset', '-v2c', '-c', 'labsetup', '-On', '127.0.0.1',
               '.1.3.6.1.4.1.8072.1.5.3.1.2.1.3.6.1.2.1.2.2', 'i', '0')


def host_mac(n):
    r = nsexec('h%d' % n, 'cat', '/sys/class/net/eth0/address')
    return r.stdout.strip()


def teach_fdb():
    """Every host talks to the seed (its ARP table learns them; every switch on the way learns
    the MAC on the right port)."""
    for n in HOSTS:
        nsexec('h%d' % n, 'ping', '-c', '2', '-i', '0.2', '-W', '1', '10.77.0.1', check=False)


def main():
    for tool in ('ip', 'snmpd', 'lldpd', 'lldpcli', 'snmpget', 'bridge'):
        if not shutil.which(tool):
            print('FAIL: %s not installed (scripts/deps/snmp.txt; run scripts/setup.sh)' % tool)
            return 1
    if os.geteuid() != 0:
        print('FAIL: the live lab needs root (network namespaces)')
        return 1
    if not os.path.exists(CGCTL):
        print('FAIL: %s not built' % CGCTL)
        return 1
    tmp = tempfile.mkdtemp(prefix='cg-snmp-lab-')
    os.chmod(tmp, 0o755)
    procs = []
    try:
        procs = setup(tmp)
        check(wait_lldp(tmp), 'lldpd sees every neighbour')
        check(wait_snmp(), 'snmpd + lldpd AgentX answer LLDP-MIB on every switch')
        no_agent_cache()
        teach_fdb()
        topo_file = os.path.join(tmp, 'topology.json')
        common = ['--community', 'labcommunity', '--timeout', '1', '--retries', '1']
        r = cgctl('-o', 'json', 'topology', 'discover', '--seed', '10.77.0.1', '--subnet',
                  '10.77.0.0/24', '--save', topo_file, *common)
        topo = json.loads(r.stdout)
        devices = {d['id']: d for d in topo['devices']}
        for s in SWITCHES:
            d = devices.get('sw%d' % s)
            check(d is not None and d['managed'], 'sw%d discovered from the one seed' % s)
            if d:
                check(d['model'] == 'CG-LAB-SW%d' % s and d['serial'] == 'LAB%04d' % s,
                      'sw%d ENTITY-MIB model/serial: %s / %s' % (s, d['model'], d['serial']))
                check(d['kind'] == 'switch', 'sw%d is a switch (%s)' % (s, d['kind']))
        check(sum(d['managed'] for d in topo['devices']) == len(SWITCHES),
              'exactly %d managed devices (%d)' % (len(SWITCHES),
                                                   sum(d['managed'] for d in topo['devices'])))
        check(topo['counters'].get('crawl.waves') == 3,
              'crawl needed 3 waves (sw4 only via sw3): %s' % topo['counters'].get('crawl.waves'))
        links = {(l['a']['device'], l['a']['port'], l['b']['device'], l['b']['port']): l
                 for l in topo['links']}
        for a, pa, b, pb in LINKS:
            l = links.get(('sw%d' % a, pa, 'sw%d' % b, pb))
            check(l is not None and l['both_sides'],
                  'link sw%d %s <-> sw%d %s found from both ends' % (a, pa, b, pb))
        check(len(topo['links']) == len(LINKS), '%d links, no duplicates (%d)' %
              (len(LINKS), len(topo['links'])))
        for a, pa, b, pb in LINKS:
            for s, p in ((a, pa), (b, pb)):
                port = [x for x in devices['sw%d' % s]['ports'] if x['name'] == p]
                check(port and port[0]['role'] == 'uplink', 'sw%d %s is an uplink' % (s, p))
        # Hosts on the right port, by IP (through the seed's ARP table) and by MAC.
        for n, port in HOSTS.items():
            ip = '10.77.0.%d' % (100 + n)
            r = cgctl('-o', 'json', 'topology', 'locate', ip, '--from', topo_file,
                      check_rc=False)
            loc = json.loads(r.stdout) if r.stdout else {}
            check(r.returncode == 0 and loc.get('device') == 'sw%d' % n and
                  loc.get('port') == port and loc.get('mac') == host_mac(n),
                  'locate %s -> sw%d %s (%s %s)' % (ip, n, port, loc.get('device'),
                                                    loc.get('port')))
            r = cgctl('-o', 'json', 'topology', 'locate', host_mac(n).upper(), '--from',
                      topo_file, check_rc=False)
            loc = json.loads(r.stdout) if r.stdout else {}
            check(loc.get('device') == 'sw%d' % n and loc.get('port') == port,
                  'locate MAC of h%d -> sw%d %s' % (n, n, port))
        r = cgctl('topology', 'locate', '10.77.0.250', '--from', topo_file, check_rc=False)
        check(r.returncode == 1, 'unknown address: exit 1')
        r = cgctl('topology', 'show', '--from', topo_file)
        check('sw4' in r.stdout and 'links (3)' in r.stdout, 'topology show prints the map')
        r = cgctl('-o', 'json', 'compliance', '--from', topo_file, '--uplink-mbps', '10000',
                  check_rc=False)
        comp = json.loads(r.stdout)
        check(comp['counts']['switches'] == 4 and comp['counts']['uplinks_checked'] == 6,
              'compliance counts 4 switches, 6 uplink ports: %s' % comp['counts'])
        check(r.returncode == (0 if comp['ok'] else 1), 'compliance exit code follows ok')

        # Poll: take the sw1 - sw3 link down from sw3's side.
        watch = subprocess.Popen(
            ['ip', 'netns', 'exec', ns('sw1'), CGCTL, '-o', 'json', 'topology', 'watch',
             '--from', topo_file, '--interval', '2', '--cycles', '5', *common],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        events, cycles, down_at_ms = [], [], None
        pending = []
        for line in watch.stdout:
            e = json.loads(line)
            if e['type'] != 'poll_cycle':
                pending.append(e)
                continue
            cycles.append((e, pending))
            pending = []
            if e['cycle'] == 2 and down_at_ms is None:
                down_at_ms = int(time.time() * 1000)
                nsexec('sw3', 'ip', 'link', 'set', 's3p1', 'down')
        watch.wait()
        check(watch.returncode == 0, 'watch ran its cycles: %s' % watch.stderr.read().strip())
        first_after = next((c for c in cycles if c[0]['started_ms'] > (down_at_ms or 0)), None)
        lost = []
        for c, evs in cycles:
            lost += [(c['cycle'], e) for e in evs if e['type'] == 'link_lost']
        print('cycles (n, start relative to link down in ms, events):',
              [(c['cycle'], c['started_ms'] - (down_at_ms or 0), [e['type'] for e in evs])
               for c, evs in cycles])
        check(first_after is not None and any(e['type'] == 'link_lost' for e in first_after[1]),
              'link_lost in the first poll cycle after the link went down (cycle %s): %s' %
              (first_after[0]['cycle'] if first_after else None, lost))
        if lost:
            e = lost[0][1]
            ends = {(e['a']['device'], e['a']['port']), (e['b']['device'], e['b']['port'])}
            check(ends == {('sw1', 's1p3'), ('sw3', 's3p1')}, 'link_lost names both ends: %s' %
                  ends)
        all_events = [e for _, evs in cycles for e in evs]
        check(any(e['type'] == 'link_down' and e['device'] == 'sw1' and e['port'] == 's1p3'
                  for e in all_events), 'link_down for sw1 s1p3')
        check(any(e['type'] == 'poll_failed' and e['device'] in ('sw3', 'sw4')
                  for e in all_events), 'sw3 / sw4 unreachable behind the lost link: poll_failed')
        check(cycles and cycles[0][1] == [], 'no events while nothing changes (cycle 1)')
        # Re-discovery records the change in the saved history.
        nsexec('sw3', 'ip', 'link', 'set', 's3p1', 'up')
        r = cgctl('-o', 'json', 'topology', 'discover', '--seed', '10.77.0.1', '--subnet',
                  '10.77.0.0/24', '--save', topo_file, *common, check_rc=False)
        # (LLDP entries age out after 120 s, so the link itself is still there; devices are.)
        hist = json.loads(open(topo_file).read())['events']
        check(r.returncode == 0 and isinstance(hist, list),
              'second discover --save keeps a history (%d events)' % len(hist))
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        for s in SWITCHES:
            sh('ip', 'netns', 'del', ns('sw%d' % s), check=False)
        for n in HOSTS:
            sh('ip', 'netns', 'del', ns('h%d' % n), check=False)
        if FAILURES:
            print('logs kept in', tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if FAILURES:
        print('%d check(s) failed' % len(FAILURES))
        return 1
    print('live lab: all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Integration test: every real device recording in ../shared/snmp, served by snmpsim on
127.0.0.1, probed with `cgctl -o json topology probe`, compared with what an independent reader
(snmprec_expect.py) derives from the recording file itself. Any difference fails the test and
names the recording and the reason; nothing is skipped.

Usage: probe_recordings.py [--only NAME ...]   (env CG_SOURCE_DIR, CG_BUILD_DIR)"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import snmprec_expect  # noqa: E402

SRC = os.environ.get('CG_SOURCE_DIR', os.getcwd())
BUILD = os.environ.get('CG_BUILD_DIR', os.path.join(SRC, 'build'))
DATA = os.path.normpath(os.path.join(SRC, '..', 'shared', 'snmp'))
CGCTL = os.path.join(BUILD, 'bin', 'cgctl')


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_snmpsim(tmp, port):
    data = os.path.join(tmp, 'data')
    cache = os.path.join(tmp, 'cache')
    os.makedirs(data)
    os.makedirs(cache)
    for f in os.listdir(DATA):
        if f.endswith('.snmprec'):
            shutil.copy(os.path.join(DATA, f), data)
    os.chmod(tmp, 0o755)
    for root, dirs, files in os.walk(tmp):
        for d in dirs:
            os.chmod(os.path.join(root, d), 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    cmd = [shutil.which('snmpsimd') or shutil.which('snmpsimd.py') or 'snmpsimd',
           '--data-dir=' + data, '--cache-dir=' + cache,
           '--agent-udpv4-endpoint=127.0.0.1:%d' % port]
    if os.geteuid() == 0:
        shutil.chown(cache, 'nobody', 'nogroup')
        cmd += ['--process-user=nobody', '--process-group=nogroup']
    log = open(os.path.join(tmp, 'snmpsimd.log'), 'w')
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return proc


def wait_ready(port, community, proc, deadline_s=180):
    t0 = time.time()
    while time.time() - t0 < deadline_s:
        if proc.poll() is not None:
            return False
        r = subprocess.run(['snmpget', '-v2c', '-c', community, '-t', '1', '-r', '0',
                            '127.0.0.1:%d' % port, '1.3.6.1.2.1.1.2.0'],
                           capture_output=True, text=True)
        if r.returncode == 0 and 'Timeout' not in r.stdout:
            return True
        time.sleep(1)
    return False


def diff_lists(label, got, want, limit=6):
    """Human-readable differences between two lists of dicts (as multisets, then order)."""
    out = []
    gs = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in got]
    ws = [json.dumps(x, sort_keys=True, ensure_ascii=False) for x in want]
    extra = [x for x in gs if x not in ws]
    lacking = [x for x in ws if x not in gs]
    if len(got) != len(want):
        out.append('%s: %d printed, %d in the recording' % (label, len(got), len(want)))
    for x in lacking[:limit]:
        out.append('%s: recording has %s, probe did not print it' % (label, x))
    for x in extra[:limit]:
        out.append('%s: probe printed %s, not derived from the recording' % (label, x))
    if not out and gs != ws:
        out.append('%s: same entries, different order' % label)
    return out


def check(name, port):
    rec = snmprec_expect.load(os.path.join(DATA, name + '.snmprec'))
    want = snmprec_expect.expect(rec)
    notes = want.pop('_notes')
    t0 = time.time()
    r = subprocess.run([CGCTL, '-o', 'json', 'topology', 'probe', '127.0.0.1:%d' % port,
                        '--community', name, '--timeout', '3', '--retries', '1'],
                       capture_output=True, text=True, timeout=600)
    elapsed = time.time() - t0
    problems = []
    if r.returncode != 0:
        problems.append('cgctl exited %d: %s' % (r.returncode, r.stderr.strip()[-800:]))
    try:
        got = json.loads(r.stdout)
    except ValueError:
        return problems + ['stdout is not one JSON document: %r' % r.stdout[:200]], elapsed, {}
    if sorted(got.keys()) != sorted(want.keys()):
        problems.append('top-level keys %s, want %s' % (sorted(got), sorted(want)))
    if got.get('system') != want['system']:
        problems.append('system: printed %s, recording has %s' % (got.get('system'),
                                                                    want['system']))
    for key in ('interfaces', 'neighbors', 'fdb'):
        problems += diff_lists(key, got.get(key, []), want[key])
    if got.get('missing') != want['missing']:
        problems.append('missing: printed %s, recording lacks %s' % (got.get('missing'),
                                                                      want['missing']))
    summary = {'interfaces': len(want['interfaces']),
               'lldp': sum(n['protocol'] == 'lldp' for n in want['neighbors']),
               'cdp': sum(n['protocol'] == 'cdp' for n in want['neighbors']),
               'fdb': len(want['fdb']), 'fdb_skipped': notes['fdb_skipped'],
               'lldp_local_unmapped': notes['lldp_local_unmapped']}
    return problems, elapsed, summary


def compare(name, got, want):
    problems = []
    if got.get('system') != want['system']:
        problems.append('system differs')
    for key in ('interfaces', 'neighbors', 'fdb'):
        problems += diff_lists(key, got.get(key, []), want[key])
    if got.get('missing') != want['missing']:
        problems.append('missing: %s vs %s' % (got.get('missing'), want['missing']))
    return problems


def concurrent(names, port, tmp):
    """All recordings probed at once (8 workers, each recording twice) by the discovery library
    through real net-snmp sessions; every result must match the recording like a lone probe."""
    bench = os.path.join(BUILD, 'bin', 'perf', 'snmp_discovery_bench')
    if not os.access(bench, os.X_OK):
        print('FAIL: %s not built' % bench)
        return ['bench not built']
    out = os.path.join(tmp, 'concurrent')
    os.makedirs(out)
    r = subprocess.run([bench, '--port', str(port), '--parallel', '8', '--repeat', '2',
                        '--json-dir', out] + names, capture_output=True, text=True, timeout=900)
    print(r.stdout.strip())
    problems = []
    if r.returncode != 0:
        problems.append('bench exited %d: %s' % (r.returncode, r.stderr.strip()[-800:]))
    for name in names:
        want = snmprec_expect.expect(snmprec_expect.load(os.path.join(DATA, name + '.snmprec')))
        want.pop('_notes')
        for rep in (0, 1):
            path = os.path.join(out, '%s.%d.json' % (name, rep))
            if not os.path.exists(path):
                problems.append('%s run %d: no result' % (name, rep))
                continue
            for p in compare(name, json.load(open(path)), want):
                problems.append('%s run %d: %s' % (name, rep, p))
    return problems


def self_check(name):
    """The reader against SOURCES.tsv's independent row counts (guards the reader itself)."""
    problems = []
    counts = {}
    with open(os.path.join(DATA, 'SOURCES.tsv')) as f:
        header = f.readline().rstrip('\n').split('\t')
        for line in f:
            row = dict(zip(header, line.rstrip('\n').split('\t')))
            counts[row['filename']] = row
    row = counts.get(name + '.snmprec')
    if not row:
        return ['not listed in SOURCES.tsv']
    rec = snmprec_expect.load(os.path.join(DATA, name + '.snmprec'))
    want = snmprec_expect.expect(rec)
    lldp_names = snmprec_expect.column(rec, snmprec_expect.LLDP_REM, 9)
    cdp_ids = snmprec_expect.column(rec, snmprec_expect.CDP, 6)
    if len(lldp_names) != int(row['lldpRemSysName_rows']):
        problems.append('reader sees %d lldpRemSysName rows, SOURCES.tsv says %s'
                        % (len(lldp_names), row['lldpRemSysName_rows']))
    if len(cdp_ids) != int(row['cdpCacheDeviceId_rows']):
        problems.append('reader sees %d cdpCacheDeviceId rows, SOURCES.tsv says %s'
                        % (len(cdp_ids), row['cdpCacheDeviceId_rows']))
    n_lldp = sum(n['protocol'] == 'lldp' for n in want['neighbors'])
    n_cdp = sum(n['protocol'] == 'cdp' for n in want['neighbors'])
    if n_lldp < len(lldp_names) or n_cdp < len(cdp_ids):
        problems.append('expectation drops neighbour rows')
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--only', nargs='*')
    ap.add_argument('--concurrent', action='store_true',
                    help='probe all recordings at once through snmp_discovery_bench')
    args = ap.parse_args()
    if not os.path.isdir(DATA):
        print('FAIL: no recordings at %s' % DATA)
        return 1
    if not os.access(CGCTL, os.X_OK):
        print('FAIL: %s not built' % CGCTL)
        return 1
    names = sorted(f[:-len('.snmprec')] for f in os.listdir(DATA) if f.endswith('.snmprec'))
    if args.only:
        names = [n for n in names if n in args.only]
    if not names:
        print('FAIL: no recordings selected')
        return 1
    tmp = tempfile.mkdtemp(prefix='cg-snmpsim-')
    port = free_udp_port()
    proc = start_snmpsim(tmp, port)
    failed = []
    try:
        if not wait_ready(port, names[0], proc):
            print('FAIL: snmpsimd did not answer on 127.0.0.1:%d; log:' % port)
            print(open(os.path.join(tmp, 'snmpsimd.log')).read()[-3000:])
            return 1
        if args.concurrent:
            problems = concurrent(names, port, tmp)
            for p in problems[:40]:
                print('    - ' + p)
            print('concurrent probes: %s' % ('PASS' if not problems else 'FAIL'))
            return 1 if problems else 0
        for name in names:
            problems = self_check(name)
            p2, elapsed, summary = check(name, port)
            problems += p2
            status = 'PASS' if not problems else 'FAIL'
            print('%s %-26s %5.1fs %s' % (status, name, elapsed, json.dumps(summary)))
            for p in problems:
                print('    - ' + p)
            if problems:
                failed.append(name)
            sys.stdout.flush()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
    print('\n%d/%d recordings fully read' % (len(names) - len(failed), len(names)))
    if failed:
        print('FAILED: ' + ' '.join(failed))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())

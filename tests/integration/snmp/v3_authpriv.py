#!/usr/bin/env python3
"""Integration test: `cgctl topology probe` against a real net-snmp snmpd on 127.0.0.1 with
SNMPv3 USM users (authPriv SHA-256/AES-128 and SHA-512/AES-256) and a v2c community. Checks that
the right credentials work (compared with the net-snmp command-line tools), that wrong ones fail
fast with a clear message and a non-zero exit, that the agent saw no retry storm (its own USM
error counters), and that no secret appears in any output."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get('CG_SOURCE_DIR', os.getcwd())
BUILD = os.environ.get('CG_BUILD_DIR', os.path.join(SRC, 'build'))
CGCTL = os.path.join(BUILD, 'bin', 'cgctl')

USER, AUTH, PRIV = 'cgv3user', 'auth-pass-2f7c1', 'priv-pass-9a3e4'
USER2, AUTH2, PRIV2 = 'cgv3strong', 'auth-pass-77d0b', 'priv-pass-51c8e'
COMMUNITY = 'cg-test-ro-6b1d'
SECRETS = [AUTH, PRIV, AUTH2, PRIV2, COMMUNITY, 'wrong-auth-000', 'wrong-priv-000']
TIMEOUT_S, RETRIES = 1.0, 1
USM_WRONG_DIGESTS = '1.3.6.1.6.3.15.1.1.5.0'
USM_UNKNOWN_USERS = '1.3.6.1.6.3.15.1.1.3.0'
USM_DECRYPTION_ERRORS = '1.3.6.1.6.3.15.1.1.6.0'

failures = []


def check(cond, what):
    print('%s %s' % ('ok  ' if cond else 'FAIL', what))
    if not cond:
        failures.append(what)


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ipv6_loopback_port():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(('::1', 0))
        port = s.getsockname()[1]
        s.close()
        return port
    except OSError:
        return None


def cgctl(port, *args, json_out=True, address=None, env=None):
    cmd = [CGCTL] + (['-o', 'json'] if json_out else []) + [
        'topology', 'probe', address or '127.0.0.1:%d' % port, '--timeout', str(TIMEOUT_S),
        '--retries', str(RETRIES)] + list(args)
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, **(env or {})))
    return r, time.time() - t0


def v3_cli(port, tool, *oids):
    return subprocess.run([tool, '-v3', '-l', 'authPriv', '-u', USER, '-a', 'SHA-256', '-A', AUTH,
                           '-x', 'AES', '-X', PRIV, '-On', '-Oq', '-t', '2', '-r', '1',
                           '127.0.0.1:%d' % port] + list(oids),
                          capture_output=True, text=True, timeout=60)


def usm_counter(port, oid):
    r = v3_cli(port, 'snmpget', oid)
    try:
        return int(r.stdout.split()[-1])
    except (ValueError, IndexError):
        return None


def no_secrets(r, label):
    text = r.stdout + r.stderr
    leaked = [s for s in SECRETS if s in text]
    check(not leaked, '%s: no credential in the output' % label)


def main():
    if not os.access(CGCTL, os.X_OK):
        print('FAIL: %s not built' % CGCTL)
        return 1
    tmp = tempfile.mkdtemp(prefix='cg-snmpd-')
    port = free_udp_port()
    conf = os.path.join(tmp, 'snmpd.conf')
    with open(conf, 'w') as f:
        f.write('createUser %s SHA-256 "%s" AES "%s"\n' % (USER, AUTH, PRIV))
        f.write('createUser %s SHA-512 "%s" AES-256 "%s"\n' % (USER2, AUTH2, PRIV2))
        f.write('rouser %s priv\nrouser %s priv\n' % (USER, USER2))
        f.write('rocommunity %s 127.0.0.1\n' % COMMUNITY)
        f.write('sysName cg-v3-lab\nsysLocation campusguard test\n')
    env = dict(os.environ, SNMP_PERSISTENT_DIR=os.path.join(tmp, 'persist'), MIBS='')
    port6 = ipv6_loopback_port()
    endpoints = ['udp:127.0.0.1:%d' % port] + (['udp6:[::1]:%d' % port6] if port6 else [])
    proc = subprocess.Popen(['snmpd', '-f', '-C', '-c', conf, '-Lf', os.path.join(tmp, 'log')]
                            + endpoints, env=env, start_new_session=True)
    try:
        ready = False
        for _ in range(50):
            if v3_cli(port, 'snmpget', '1.3.6.1.2.1.1.5.0').returncode == 0:
                ready = True
                break
            time.sleep(0.2)
        if not ready:
            print('FAIL: snmpd did not come up; log:')
            print(open(os.path.join(tmp, 'log')).read()[-2000:])
            return 1

        # Reference: the interface indexes and names net-snmp's own snmpwalk sees.
        walk = v3_cli(port, 'snmpwalk', '1.3.6.1.2.1.2.2.1.2')
        ref = {}
        for line in walk.stdout.splitlines():
            oid, _, val = line.partition(' ')
            ref[int(oid.rsplit('.', 1)[1])] = val.strip().strip('"')

        # 1. authPriv SHA-256 / AES-128.
        r, dt = cgctl(port, '--user', USER, '--auth-proto', 'SHA-256', '--auth-pass', AUTH,
                      '--priv-proto', 'AES', '--priv-pass', PRIV)
        check(r.returncode == 0, 'SHA-256/AES: exit 0 (got %d: %s)' % (r.returncode,
                                                                      r.stderr.strip()))
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        check(doc.get('system', {}).get('name') == 'cg-v3-lab', 'SHA-256/AES: sysName')
        got = {i['index']: i for i in doc.get('interfaces', [])}
        check(sorted(got) == sorted(ref) and len(ref) > 0,
              'SHA-256/AES: same ifIndexes as snmpwalk (%s vs %s)' % (sorted(got), sorted(ref)))
        lo = [i for i in got.values() if i['type'] == 24]
        check(len(lo) == 1 and lo[0]['name'] == 'lo' and lo[0]['oper_status'] == 'up',
              'SHA-256/AES: loopback interface lo, softwareLoopback, up')
        no_secrets(r, 'SHA-256/AES')

        # 2. authPriv SHA-512 / AES-256 (Blumenthal key extension).
        r, dt = cgctl(port, '--user', USER2, '--auth-proto', 'SHA-512', '--auth-pass', AUTH2,
                      '--priv-proto', 'AES-256', '--priv-pass', PRIV2)
        check(r.returncode == 0, 'SHA-512/AES-256: exit 0 (got %d: %s)' % (r.returncode,
                                                                          r.stderr.strip()))
        no_secrets(r, 'SHA-512/AES-256')

        # 2b. Secrets from the environment (kept out of `ps`), over IPv6 loopback if present.
        r, dt = cgctl(port, '--user', USER, '--auth-proto', 'SHA-256', '--priv-proto', 'AES',
                      env={'CG_SNMP_AUTH_PASS': AUTH, 'CG_SNMP_PRIV_PASS': PRIV})
        check(r.returncode == 0, 'v3 with passwords from CG_SNMP_AUTH_PASS / CG_SNMP_PRIV_PASS')
        if port6:
            r, dt = cgctl(port, '--user', USER, '--auth-proto', 'SHA-256', '--auth-pass', AUTH,
                          '--priv-proto', 'AES', '--priv-pass', PRIV, address='[::1]:%d' % port6)
            check(r.returncode == 0 and json.loads(r.stdout)['system']['name'] == 'cg-v3-lab',
                  'v3 over IPv6 loopback [::1]:%d (%s)' % (port6, r.stderr.strip()))
        else:
            print('note: no IPv6 loopback on this machine; IPv6 transport not checked')

        # 3. Wrong auth password: the agent reports usmStatsWrongDigests at once.
        before = usm_counter(port, USM_WRONG_DIGESTS)
        r, dt = cgctl(port, '--user', USER, '--auth-proto', 'SHA-256', '--auth-pass',
                      'wrong-auth-000', '--priv-proto', 'AES', '--priv-pass', PRIV)
        after = usm_counter(port, USM_WRONG_DIGESTS)
        check(r.returncode == 1, 'wrong auth password: exit 1 (got %d)' % r.returncode)
        check('authentication failed' in r.stderr and 'Authentication failure' in r.stderr,
              'wrong auth password: clear message (%s)' % r.stderr.strip())
        check(r.stdout == '', 'wrong auth password: nothing on stdout')
        check(dt < 1.0, 'wrong auth password: fails fast (%.2fs)' % dt)
        check(before is not None and after is not None and 1 <= after - before <= RETRIES + 1,
              'wrong auth password: agent saw %s bad digests (<= %d, no retry storm)'
              % (None if before is None or after is None else after - before, RETRIES + 1))
        no_secrets(r, 'wrong auth password')

        # 4. Wrong privacy password: snmpd drops what it cannot decrypt (no report).
        before = usm_counter(port, USM_DECRYPTION_ERRORS)
        r, dt = cgctl(port, '--user', USER, '--auth-proto', 'SHA-256', '--auth-pass', AUTH,
                      '--priv-proto', 'AES', '--priv-pass', 'wrong-priv-000')
        after = usm_counter(port, USM_DECRYPTION_ERRORS)
        check(r.returncode == 1, 'wrong priv password: exit 1 (got %d)' % r.returncode)
        check('privacy password' in r.stderr, 'wrong priv password: clear message (%s)'
              % r.stderr.strip())
        bound = (RETRIES + 1) * TIMEOUT_S + 1.0
        check(dt < bound, 'wrong priv password: gives up within %.1fs (%.2fs)' % (bound, dt))
        check(before is not None and after is not None and after - before <= RETRIES + 1,
              'wrong priv password: agent saw %s undecryptable requests (<= %d)'
              % (None if before is None or after is None else after - before, RETRIES + 1))
        no_secrets(r, 'wrong priv password')

        # 5. Unknown user.
        before = usm_counter(port, USM_UNKNOWN_USERS)
        r, dt = cgctl(port, '--user', 'nosuchuser', '--auth-proto', 'SHA-256', '--auth-pass',
                      AUTH, '--priv-proto', 'AES', '--priv-pass', PRIV)
        after = usm_counter(port, USM_UNKNOWN_USERS)
        check(r.returncode == 1 and 'Unknown user name' in r.stderr,
              'unknown user: exit 1 with clear message (%s)' % r.stderr.strip())
        check(before is not None and after is not None and after - before <= RETRIES + 1,
              'unknown user: no retry storm')

        # 6. v2c: right and wrong community.
        r, dt = cgctl(port, '--community', COMMUNITY)
        check(r.returncode == 0 and json.loads(r.stdout)['system']['name'] == 'cg-v3-lab',
              'v2c right community: exit 0')
        r, dt = cgctl(port, '--community', 'wrong-community')
        check(r.returncode == 1 and 'no response' in r.stderr and 'community' in r.stderr,
              'v2c wrong community: exit 1, says no response / community (%s)'
              % r.stderr.strip())
        check(dt < bound, 'v2c wrong community: gives up within %.1fs (%.2fs)' % (bound, dt))

        # 7. Nothing listening: v2c and v3.
        dead = free_udp_port()
        for label, args in (('v2c', ['--community', COMMUNITY]),
                            ('v3', ['--user', USER, '--auth-pass', AUTH, '--priv-pass', PRIV])):
            r, dt = cgctl(dead, *args)
            check(r.returncode == 1 and 'no response' in r.stderr,
                  'unreachable (%s): exit 1, "no response" (%s)' % (label, r.stderr.strip()))
            check(dt < bound, 'unreachable (%s): gives up within %.1fs (%.2fs)'
                  % (label, bound, dt))
            no_secrets(r, 'unreachable (%s)' % label)

        # 8. Usage errors exit 2.
        r, dt = cgctl(port, json_out=False)
        check(r.returncode == 2, 'no credentials: exit 2 (got %d)' % r.returncode)
        r, dt = cgctl(port, '--user', USER, '--auth-pass', 'short')
        check(r.returncode == 2 and 'at least 8' in r.stderr, 'short password: exit 2')
        r, dt = cgctl(port, '--user', USER, '--auth-proto', 'SHA-999', '--auth-pass', AUTH)
        check(r.returncode == 2, 'unknown auth protocol: exit 2')
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
    print('\n%s' % ('all checks passed' if not failures else '%d check(s) failed' % len(failures)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())

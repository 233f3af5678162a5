#!/usr/bin/env python3
"""Integration test: `cgctl topology traps` (net-snmp receiver) gets real notifications sent with
net-snmp's snmptrap / snmpinform on 127.0.0.1 and prints them as events:
  SNMPv2c traps linkDown, linkUp, coldStart, warmStart, authenticationFailure,
  lldpRemTablesChange; a v2c inform (snmpinform exits 0 only when it is acknowledged);
  an SNMPv3 authPriv (SHA-256 / AES) trap under the sender's engine ID and a v3 authPriv inform
  (engine discovery against the receiver). Dropped, and counted, without an event: a v2c trap
  with a wrong community (counted bad_community); a v3 trap with a wrong auth password and a v3
  noAuthNoPriv trap for an authPriv user (net-snmp's USM drops both before us).
Usage: traps.py   (env CG_SOURCE_DIR, CG_BUILD_DIR)"""
import json
import os
import shutil
import socket
import subprocess
import sys

SRC = os.environ.get('CG_SOURCE_DIR', os.getcwd())
BUILD = os.environ.get('CG_BUILD_DIR', os.path.join(SRC, 'build'))
CGCTL = os.path.join(BUILD, 'bin', 'cgctl')
ENGINE = '0x80001f8880c0ffee0001020304'
USER, AUTH, PRIV = 'trapuser', 'trap-auth-pass', 'trap-priv-pass'
ENV = dict(os.environ, MIBS='', MIBDIRS='/nonexistent', SNMPCONFPATH='/nonexistent')


def free_udp_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    for tool in ('snmptrap', 'snmpinform'):
        if not shutil.which(tool):
            print('FAIL: %s not installed (Debian package snmp, scripts/deps/snmp.txt)' % tool)
            return 1
    port = free_udp_port()
    target = '127.0.0.1:%d' % port
    want = 9
    rx = subprocess.Popen(
        [CGCTL, '-o', 'json', 'topology', 'traps', '--listen', 'udp:' + target, '--community',
         'trapcommunity', '--user', USER, '--auth-proto', 'SHA-256', '--auth-pass', AUTH,
         '--priv-proto', 'AES', '--priv-pass', PRIV, '--engine-id', ENGINE, '--count',
         str(want), '--duration', '60'],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = rx.stderr.readline()
    if 'listening' not in line:
        print('FAIL: receiver did not start: %s %s' % (line, rx.stderr.read()))
        return 1
    failures = []

    def send(what, args, expect_rc=0):
        r = subprocess.run(args, capture_output=True, text=True, env=ENV, timeout=30)
        ok = r.returncode == expect_rc
        print(('ok   ' if ok else 'FAIL ') + what + ('' if ok else ': %s' % r.stderr.strip()))
        if not ok:
            failures.append(what)

    v2 = ['-v2c', '-c', 'trapcommunity', target]
    if_vbs = ['1.3.6.1.2.1.2.2.1.1.7', 'i', '7', '1.3.6.1.2.1.2.2.1.7.7', 'i', '1',
              '1.3.6.1.2.1.2.2.1.8.7', 'i', '2']
    # Dropped ones first, so the count of events is exactly the accepted ones.
    send('v2c trap, wrong community (sent)',
         ['snmptrap', '-v2c', '-c', 'wrong', target, '', '1.3.6.1.6.3.1.1.5.1'])
    send('v3 trap, wrong auth password (sent)',
         ['snmptrap', '-v3', '-e', ENGINE, '-u', USER, '-l', 'authPriv', '-a', 'SHA-256', '-A',
          'not-the-password', '-x', 'AES', '-X', PRIV, target, '', '1.3.6.1.6.3.1.1.5.1'])
    send('v3 trap, noAuthNoPriv for an authPriv user (sent)',
         ['snmptrap', '-v3', '-e', ENGINE, '-u', USER, '-l', 'noAuthNoPriv', target, '',
          '1.3.6.1.6.3.1.1.5.1'])
    send('v2c linkDown', ['snmptrap', *v2, '', '1.3.6.1.6.3.1.1.5.3', *if_vbs])
    send('v2c linkUp', ['snmptrap', *v2, '', '1.3.6.1.6.3.1.1.5.4', *if_vbs])
    send('v2c coldStart', ['snmptrap', *v2, '', '1.3.6.1.6.3.1.1.5.1'])
    send('v2c warmStart', ['snmptrap', *v2, '', '1.3.6.1.6.3.1.1.5.2'])
    send('v2c authenticationFailure', ['snmptrap', *v2, '', '1.3.6.1.6.3.1.1.5.5'])
    send('v2c lldpRemTablesChange',
         ['snmptrap', *v2, '', '1.0.8802.1.1.2.0.0.1', '1.0.8802.1.1.2.1.2.2.0', 'u', '2',
          '1.0.8802.1.1.2.1.2.3.0', 'u', '1', '1.0.8802.1.1.2.1.2.4.0', 'u', '0',
          '1.0.8802.1.1.2.1.2.5.0', 'u', '1'])
    send('v2c inform acknowledged',
         ['snmpinform', '-t', '2', '-r', '2', *v2, '', '1.3.6.1.6.3.1.1.5.4', *if_vbs])
    v3 = ['-v3', '-u', USER, '-l', 'authPriv', '-a', 'SHA-256', '-A', AUTH, '-x', 'AES', '-X', PRIV]
    send('v3 authPriv trap', ['snmptrap', *v3, '-e', ENGINE, target, '', '1.3.6.1.6.3.1.1.5.3',
                              *if_vbs])
    send('v3 authPriv inform acknowledged',
         ['snmpinform', '-t', '2', '-r', '2', *v3, target, '', '1.3.6.1.6.3.1.1.5.2'])
    try:
        out, err = rx.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        rx.kill()
        out, err = rx.communicate()
    lines = [json.loads(x) for x in out.splitlines() if x.strip()]
    events = [e for e in lines if e['type'] != 'trap_receiver_counters']
    counters = next((e for e in lines if e['type'] == 'trap_receiver_counters'), {})

    def check(cond, what):
        print(('ok   ' if cond else 'FAIL ') + what)
        if not cond:
            failures.append(what)

    check(rx.returncode == 0, 'receiver exit 0 (%s)' % err.strip().splitlines()[-1:])
    types = [(e['type'], e['version'], e['inform']) for e in events]
    check(types == [('link_down', 'v2c', False), ('link_up', 'v2c', False),
                    ('cold_start', 'v2c', False), ('warm_start', 'v2c', False),
                    ('authentication_failure', 'v2c', False),
                    ('lldp_remote_change', 'v2c', False), ('link_up', 'v2c', True),
                    ('link_down', 'v3', False), ('warm_start', 'v3', True)],
          'events in order: %s' % types)
    if len(events) == 9:
        d = events[0]
        check(d['if_index'] == 7 and d['oper_status'] == 'down' and d['admin_status'] == 'up'
              and d['source'] == '127.0.0.1' and d['detected_by'] == 'trap',
              'linkDown carries ifIndex / statuses / source: %s' % d)
        ll = events[5]
        check((ll.get('inserts'), ll.get('deletes'), ll.get('drops'), ll.get('ageouts')) ==
              (2, 1, 0, 1), 'LLDP change counts: %s' % ll)
        check(events[7].get('user') == USER, 'v3 event names the user')
        check(all('trapcommunity' not in json.dumps(e) for e in events),
              'no event carries the community')
    check(counters.get('received') == 9 and counters.get('informs_acked') == 2,
          'counters received=9 informs_acked=2: %s' % counters)
    check(counters.get('bad_community') == 1, 'wrong community counted: %s' % counters)
    if failures:
        print('%d check(s) failed' % len(failures))
        return 1
    print('traps: all checks passed')
    return 0


if __name__ == '__main__':
    sys.exit(main())

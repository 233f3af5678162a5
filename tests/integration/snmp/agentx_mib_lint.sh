#!/usr/bin/env bash
# CAMPUSGUARD-MIB passes smilint at its strictest level (-l 6) with no message at all, and
# net-snmp's own parser loads it and names every object. The SMIv2 base modules (SNMPv2-SMI,
# SNMPv2-TC, SNMPv2-CONF) come as MIB text from Debian's erlang-snmp package: Debian main's
# libsmi2-common and libsnmp-base are stripped of them (snmp-mibs-downloader is non-free).
set -euo pipefail
cd "$(dirname "$0")/../../.."
fail() { echo "FAIL: $*" >&2; exit 1; }
MIB=snmp/mibs/CAMPUSGUARD-MIB.txt
command -v smilint >/dev/null || fail "smilint missing (apt package smitools, scripts/deps/snmp.txt)"
command -v snmptranslate >/dev/null || fail "snmptranslate missing (apt package snmp)"
ERL=$(ls -d /usr/lib/erlang/lib/snmp-*/mibs 2>/dev/null | head -1) || true
[ -n "$ERL" ] && [ -f "$ERL/SNMPv2-SMI.mib" ] \
  || fail "SNMPv2-SMI as text missing: apt package erlang-snmp (scripts/deps/snmp.txt)"

out=$(SMIPATH="$ERL:snmp/mibs" smilint -l 6 -s "$MIB" 2>&1) || fail "smilint exited non-zero: $out"
[ -z "$out" ] || fail "smilint -l 6 reports:
$out"
echo "smilint -l 6: clean"

# net-snmp: load with no error, and every OBJECT-TYPE of the file has a name and an OID there.
out=$(snmptranslate -M "$ERL:snmp/mibs" -m CAMPUSGUARD-MIB -Pe -Tz 2>&1 >/dev/null) || true
[ -z "$out" ] || fail "net-snmp's parser reports:
$out"
want=$(grep -cE '^cg[A-Za-z0-9]+ +OBJECT-TYPE' "$MIB")
got=0
for name in $(grep -oE '^cg[A-Za-z0-9]+ +OBJECT-TYPE' "$MIB" | awk '{print $1}'); do
  oid=$(snmptranslate -M "$ERL:snmp/mibs" -m CAMPUSGUARD-MIB -On "CAMPUSGUARD-MIB::$name" 2>&1) \
    || fail "snmptranslate $name: $oid"
  case "$oid" in .1.3.6.1.4.1.32473.1.*) got=$((got + 1)) ;; *) fail "$name -> $oid" ;; esac
done
[ "$got" -eq "$want" ] && [ "$want" -ge 50 ] || fail "translated $got of $want objects"
echo "net-snmp: CAMPUSGUARD-MIB loads cleanly; $got OBJECT-TYPEs under .1.3.6.1.4.1.32473.1"
echo "agentx MIB lint: 2 passed, 0 failed"

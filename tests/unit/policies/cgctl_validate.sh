#!/usr/bin/env bash
# Runs the real `cgctl policy validate` the way an admin and CI do:
#  - every policies/examples/*.yaml: exit 0, "valid" on stdout, nothing on stderr;
#  - all examples at once, -o json: exit 0 and a JSON document with valid=true;
#  - every tests/unit/policies/broken/*.yaml: exit 1, each expected "LINE:COL:" error printed
#    as FILE:LINE:COL: error: ...;
#  - -o json on a broken file: exit 1 and valid=false with the errors in the document.
set -u
cgctl=${1:?usage: cgctl_validate.sh PATH_TO_CGCTL}
src=${CG_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
cd "$src"
fail=0; pass=0
check() {  # check DESCRIPTION CONDITION...
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); else echo "FAIL: $what"; fail=$((fail + 1)); fi
}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for f in policies/examples/*.yaml; do
  "$cgctl" policy validate "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "$f exits 0 (got $rc: $(cat "$tmp/err"))" test "$rc" -eq 0
  check "$f prints valid" grep -q "^$f: valid" "$tmp/out"
  check "$f prints no diagnostics" test ! -s "$tmp/err"
done
"$cgctl" -o json policy validate policies/examples/*.yaml >"$tmp/json"; rc=$?
check "examples -o json exits 0" test "$rc" -eq 0
check "examples -o json is valid=true" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is True and d["summary"]["errors"] == 0 and len(d["files"]) >= 3, d
' "$tmp/json"

for f in tests/unit/policies/broken/*.yaml; do
  "$cgctl" policy validate "$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
  check "$f exits 1 (got $rc)" test "$rc" -eq 1
  while IFS= read -r line; do
    pos=${line#\# expect: }; pos=${pos%%: *}
    check "$f reports $pos" grep -q "^$f:$pos: error: " "$tmp/err"
  done < <(grep '^# expect: ' "$f")
  check "$f summary says invalid" grep -q "1 invalid" "$tmp/out"
done

f=tests/unit/policies/broken/unknown-apps.yaml
"$cgctl" -o json policy validate "$f" >"$tmp/json"; rc=$?
check "broken -o json exits 1" test "$rc" -eq 1
check "broken -o json lists errors" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["valid"] is False and d["summary"]["errors"] > 0, d
e = d["files"][0]["diagnostics"][0]
assert {"severity", "file", "line", "column", "path", "message"} <= e.keys(), e
' "$tmp/json"

"$cgctl" policy validate policies/examples/middle-school.yaml "$f" >/dev/null 2>&1; rc=$?
check "one bad file among good ones exits 1" test "$rc" -eq 1
"$cgctl" policy validate /nonexistent.yaml >/dev/null 2>&1; rc=$?
check "missing file is a usage error (exit 2)" test "$rc" -ne 0 -a "$rc" -ne 1

"$cgctl" -o json policy compile --generation 7 policies/examples/vocational-school.yaml \
  >"$tmp/img"; rc=$?
check "compile exits 0" test "$rc" -eq 0
check "compile -o json has generation and rules" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["generation"] == 7 and len(d["rules"]) == 11 and d["timezone"]["name"] == "Asia/Shanghai", d
' "$tmp/img"

echo "$pass passed, $fail failed"
test "$fail" -eq 0

#!/usr/bin/env python3
"""Golden event cases: corpus captures through `cg-dataplane --replay` give the expected
detector events (fields, not byte diffs; tests/pcap/events/cases.json), and every event of every
run validates against dataplane/api/event.schema.json."""
import json
import os
import subprocess
import sys
import tempfile

import jsonschema

SRC = os.environ.get("CG_SOURCE_DIR", ".")
BUILD = os.environ.get("CG_BUILD_DIR", "build")
CORPUS = os.path.join(SRC, "..", "shared", "corpus", "pcap")


def subset(expected, actual):
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and subset(v, actual[k]) for k, v in expected.items())
    return expected == actual


def main():
    schema = json.load(open(os.path.join(SRC, "dataplane/api/event.schema.json")))
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    cases = json.load(open(os.path.join(SRC, "tests/pcap/events/cases.json")))
    binary = os.path.join(BUILD, "bin", "cg-dataplane")
    failures = []
    validated = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases):
            report = os.path.join(tmp, f"r{i}.json")
            cmd = [binary, "--replay", os.path.join(CORPUS, case["capture"]), "--report", report]
            if "config" in case:
                cmd += ["--config", os.path.join(SRC, case["config"])]
            if "policy" in case:
                cmd += ["--policy", os.path.join(SRC, case["policy"])]
            run = subprocess.run(cmd, cwd=SRC, capture_output=True, text=True)
            if run.returncode != 0:
                failures.append(f"{case['name']}: exit {run.returncode}: {run.stderr.strip()}")
                continue
            r = json.load(open(report))
            events = r["events"]
            for e in events:
                errors = sorted(validator.iter_errors(e), key=str)
                if errors:
                    failures.append(f"{case['name']}: schema: {errors[0].message} in {json.dumps(e)}")
                validated += 1
            ids = [e["event_id"] for e in events]
            if len(set(ids)) != len(ids):
                failures.append(f"{case['name']}: duplicate event ids")
            counts = {}
            for e in events:
                counts[e.get("detector", e["event_type"])] = counts.get(
                    e.get("detector", e["event_type"]), 0) + 1
            for det, n in case.get("counts", {}).items():
                if counts.get(det, 0) != n:
                    failures.append(f"{case['name']}: {det}: {counts.get(det, 0)} events, expected {n}")
            if "counts" in case:
                extra = set(counts) - set(case["counts"])
                if extra:
                    failures.append(f"{case['name']}: unexpected events {sorted(extra)}")
            for want in case.get("expect", []):
                if not any(subset(want, e) for e in events):
                    failures.append(f"{case['name']}: no event has {json.dumps(want)}; got "
                                    f"{json.dumps(events[:3])}")
            for name, value in case.get("counters", {}).items():
                if r["counters"].get(name) != value:
                    failures.append(f"{case['name']}: counter {name} = {r['counters'].get(name)}, "
                                    f"expected {value}")
            print(f"ok  {case['name']}: {len(events)} events" if not failures else
                  f"..  {case['name']}: {len(events)} events")
    print(f"{validated} events validated against the schema")
    for f in failures:
        print("FAIL", f)
    return 1 if failures or validated == 0 else 0


if __name__ == "__main__":
    sys.exit(main())

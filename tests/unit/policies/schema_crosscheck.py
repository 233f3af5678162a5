#!/usr/bin/env python3
"""Cross-checks policies/schema/policy.schema.json with an independent validator.

Every example must be accepted; every broken policy marked `# schema: invalid` must be rejected
(those whose problems are structural: unknown keys, wrong types, out-of-range numbers).
"""
import glob
import json
import os
import sys

import jsonschema
import yaml

src = os.environ.get("CG_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "../../..")
schema = json.load(open(os.path.join(src, "policies/schema/policy.schema.json")))
validator = jsonschema.Draft202012Validator(schema)
jsonschema.Draft202012Validator.check_schema(schema)

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


for f in sorted(glob.glob(os.path.join(src, "policies/examples/*.yaml"))):
    errs = list(validator.iter_errors(yaml.safe_load(open(f, encoding="utf-8"))))
    check(not errs, f"{f} accepted by the schema: {[e.message for e in errs]}")

marked = 0
for f in sorted(glob.glob(os.path.join(src, "tests/unit/policies/broken/*.yaml"))):
    text = open(f, "rb").read().decode("utf-8", errors="replace")
    if "# schema: invalid" not in text:
        continue
    marked += 1
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        check(True, f)
        continue
    check(not validator.is_valid(doc), f"{f} rejected by the schema")

check(marked >= 2, "at least two broken policies are marked '# schema: invalid'")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)

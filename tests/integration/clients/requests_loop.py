#!/usr/bin/python3
"""requests.get() without a Session: a new pool, so a new connection, per call.

usage: requests_loop.py URL N EXPECTED_BODY_FILE
"""
import sys

import requests

url, count, expected_file = sys.argv[1:4]
expected = open(expected_file, "rb").read()
errors = 0
for _ in range(int(count)):
    try:
        r = requests.get(url, timeout=10)
        if r.status_code != 200 or r.content != expected:
            errors += 1
            print("bad response", r.status_code, len(r.content), file=sys.stderr)
    except requests.RequestException as e:
        errors += 1
        print("error:", e, file=sys.stderr)
print("requests=%s ok=%d errors=%d" % (count, int(count) - errors, errors))
sys.exit(1 if errors else 0)

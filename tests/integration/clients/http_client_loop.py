#!/usr/bin/python3
"""One new http.client connection per request, as legacy scripts do.

usage: http_client_loop.py HOST PORT PATH N EXPECTED_BODY_FILE
Prints "requests=N ok=N errors=E"; exits 1 on any error or wrong body.
"""
import http.client
import sys

host, port, path, count, expected_file = sys.argv[1:6]
expected = open(expected_file, "rb").read()
errors = 0
for _ in range(int(count)):
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=None)
        conn.request("GET", path)
        body = conn.getresponse().read()
        conn.close()
        if body != expected:
            errors += 1
            print("wrong body: %d bytes" % len(body), file=sys.stderr)
    except OSError as e:
        errors += 1
        print("error:", e, file=sys.stderr)
print("requests=%s ok=%d errors=%d" % (count, int(count) - errors, errors))
sys.exit(1 if errors else 0)

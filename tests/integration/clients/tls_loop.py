#!/usr/bin/python3
"""HTTPS with a new connection per request (TLS must pass through untouched).

usage: tls_loop.py HOST PORT PATH N EXPECTED_BODY_FILE
"""
import http.client
import ssl
import sys

host, port, path, count, expected_file = sys.argv[1:6]
expected = open(expected_file, "rb").read()
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
errors = 0
for _ in range(int(count)):
    try:
        conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)
        conn.request("GET", path)
        if conn.getresponse().read() != expected:
            errors += 1
        conn.close()
    except OSError as e:
        errors += 1
        print("error:", e, file=sys.stderr)
print("requests=%s ok=%d errors=%d" % (count, int(count) - errors, errors))
sys.exit(1 if errors else 0)

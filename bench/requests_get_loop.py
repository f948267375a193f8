#!/usr/bin/python3
"""bench/requests_get_loop.py: python requests without a Session, timed.

usage: requests_get_loop.py URL N EXPECTED_BODY_FILE

N calls of requests.get(URL), one after the other: each call makes a new
Session, so a new connection, as scripts that never heard of Sessions do.
Each body must equal EXPECTED_BODY_FILE.  Prints the summary line of
examples/naive_client -l (without its connect figures):
  requests=N ok=N errors=N seconds=S rps=R p50_us=N p99_us=N
and exits 1 when any call failed.
"""
import math
import sys
import time

import requests


def quantile_us(sorted_ns, q):
    """The value below which a share q of the values lie, in us."""
    if not sorted_ns:
        return 0
    return sorted_ns[max(0, math.ceil(q * len(sorted_ns)) - 1)] // 1000


def main():
    url, count, expected_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(expected_file, "rb") as f:
        expected = f.read()
    errors = 0
    times = []
    start = time.monotonic_ns()
    for _ in range(count):
        t = time.monotonic_ns()
        try:
            r = requests.get(url, timeout=10)
            if r.status_code != 200 or r.content != expected:
                errors += 1
                print("bad response", r.status_code, len(r.content), file=sys.stderr)
                continue
        except requests.RequestException as e:
            errors += 1
            print("error:", e, file=sys.stderr)
            continue
        times.append(time.monotonic_ns() - t)
    seconds = (time.monotonic_ns() - start) / 1e9
    times.sort()
    print("requests=%d ok=%d errors=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d" % (
        count, len(times), errors, seconds, len(times) / seconds if seconds else 0,
        quantile_us(times, 0.5), quantile_us(times, 0.99)))
    sys.exit(1 if errors else 0)


main()

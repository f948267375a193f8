#!/usr/bin/python3
"""A long-running client that watches its own descriptors and memory.

usage: soak_client.py PORT PATH BODY_FILE SECONDS SAMPLES_FILE

Makes GET requests, each on a new http.client connection, for SECONDS,
with a few threads, checking every body.  After a warm-up (a fifth of the
time) and at the end it writes a line "fds=N rss_kb=N requests=N" to
SAMPLES_FILE, so that a test can compare them: a leak of descriptors or
memory in the shim shows as growth between the two.  Exits 1 on any wrong
body or failed request.
"""
import http.client
import os
import sys
import threading
import time

port, path, body_file, seconds, samples = (int(sys.argv[1]), sys.argv[2], sys.argv[3],
                                           float(sys.argv[4]), sys.argv[5])
expected = open(body_file, "rb").read()
done = 0
errors = []
lock = threading.Lock()
stop_at = time.monotonic() + seconds
# Samples are taken with every worker between requests, so that they count
# only what stays open (the pool), not connections in flight.
quiet = threading.Condition(lock)
pausing = False
active = 0


def sample(out):
    global pausing
    with quiet:
        pausing = True
        quiet.wait_for(lambda: active == 0)
    fds = len(os.listdir("/proc/self/fd"))
    rss = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    with quiet:
        out.write("fds=%d rss_kb=%d requests=%d\n" % (fds, rss, done))
        out.flush()
        pausing = False
        quiet.notify_all()


def worker():
    global done, active
    while time.monotonic() < stop_at and not errors:
        with quiet:
            quiet.wait_for(lambda: not pausing)
            active += 1
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port)
            conn.request("GET", path)
            body = conn.getresponse().read()
            conn.close()
            if body != expected:
                raise RuntimeError("wrong body")
        except Exception as e:
            errors.append(e)
        with quiet:
            active -= 1
            done += 1
            quiet.notify_all()


with open(samples, "w") as out:
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(seconds / 5)
    sample(out)
    for t in threads:
        t.join()
    sample(out)
print("requests=%d errors=%d" % (done, len(errors)))
sys.exit(1 if errors else 0)

#!/usr/bin/python3
"""Rounds of requests.get() (no Session: a new connection asked for each
time) and a subprocess.run(), which Python 3.10+ makes with vfork: its child
closes every descriptor above 2 (close_range) in our memory.

usage: subprocess_rounds.py URL ROUNDS GETS EXPECTED_BODY_FILE

Checks every body and the child's exit status.  Then prints one line,
"sockets N pid P", N the sockets open in this process (/proc/self/fd), and
waits for a line on stdin before it exits, so that the test can look at
the process from outside (ss) while it still holds them.
"""
import os
import subprocess
import sys

import requests

url, rounds, gets, expected_file = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
expected = open(expected_file, "rb").read()
for _ in range(rounds):
    for _ in range(gets):
        r = requests.get(url, timeout=10)
        if r.status_code != 200 or r.content != expected:
            sys.exit("bad response: %d, %d bytes" % (r.status_code, len(r.content)))
    done = subprocess.run(["/bin/true"])
    if done.returncode != 0:
        sys.exit("the child failed: %d" % done.returncode)

sockets = 0
for name in os.listdir("/proc/self/fd"):
    try:
        if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
            sockets += 1
    except OSError:
        pass
print("sockets %d pid %d" % (sockets, os.getpid()), flush=True)
sys.stdin.readline()

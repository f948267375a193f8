#!/usr/bin/python3
"""Requests, then a pause: what happens to the idle pooled sockets.

usage: idle_then_quiet.py PORT_A PAUSE_S [b PORT_B | fork]

Makes 3 GETs to 127.0.0.1:PORT_A on 3 connections open at once (so that
a pool keeps 3 sockets), closes them and prints "held A=<n>": the TCP
sockets this process holds to PORT_A right after, in any state, read
from the kernel (/proc/self/fd and /proc/net/tcp), not from sockpool.

Without PORT_B it then sleeps PAUSE_S seconds (no call sockpool sees),
printing "sleeping" first, and exits.

With "b PORT_B" it sleeps PAUSE_S seconds, makes one GET to PORT_B,
closes it and prints "held A=<n> B=<m>" the same way, then exits.

With "fork" it first makes one GET to PORT_A (so that the parent's pool
and whatever watches it are set up), then forks; the child does the
above (3 GETs, "held A=<n>", "sleeping", the pause) and the parent waits
for it.  The child prints "child <pid>" first.
"""
import http.client
import os
import sys
import time


def held_sockets():
    """Remote ports of the TCP sockets this process holds, one per fd."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    fields = line.split()
                    if fields[9] in inodes:
                        ports.append(int(fields[2].split(":")[1], 16))
        except OSError:
            pass
    return ports


def get(port, count):
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(count)]
    for c in conns:
        c.request("GET", "/index.html")
    for c in conns:
        r = c.getresponse()
        r.read()
        if r.status != 200:
            sys.exit("GET on port %d: status %d" % (port, r.status))
    for c in conns:
        c.close()


port_a, pause = int(sys.argv[1]), float(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else None
port_b = int(sys.argv[4]) if mode == "b" else None

if mode == "fork":
    get(port_a, 1)
    child = os.fork()
    if child != 0:
        _, status = os.waitpid(child, 0)
        sys.exit(os.waitstatus_to_exitcode(status))
    print("child %d" % os.getpid(), flush=True)

get(port_a, 3)
print("held A=%d" % held_sockets().count(port_a), flush=True)
if port_b is None:
    print("sleeping", flush=True)
    time.sleep(pause)
else:
    time.sleep(pause)
    get(port_b, 1)
    ports = held_sockets()
    print("held A=%d B=%d" % (ports.count(port_a), ports.count(port_b)), flush=True)

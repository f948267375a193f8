#!/usr/bin/python3
"""Short-lived processes that end without exit handlers, as real programs
make them: a multiprocessing Pool whose workers each serve one task (a
worker ends with os._exit()), then forked children that kill themselves
with SIGKILL.  Each makes requests on new connections, so each has a
statistics segment of its own; each checks that its segment exists in
STATS_DIR (else the run would prove nothing).

usage: litter_workers.py PORT STATS_DIR TASKS KILLED
Prints "workers=N killed=N"; exits 1 on any failure.
"""
import http.client
import multiprocessing
import os
import signal
import sys

port, stats_dir, tasks, killed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
own_segment = lambda: "sockpool.%d.%d" % (os.getuid(), os.getpid())


def fetch(_):
    for _ in range(3):
        c = http.client.HTTPConnection("127.0.0.1", int(port))
        c.request("GET", "/index.html")
        body = c.getresponse().read()
        c.close()
        if b"Hello from nginx" not in body:
            return "wrong body"
    if own_segment() not in os.listdir(stats_dir):
        return "no segment of my own"
    return os.getpid()


ctx = multiprocessing.get_context("fork")
with ctx.Pool(4, maxtasksperchild=1) as pool:
    results = pool.map(fetch, range(tasks), chunksize=1)
bad = [r for r in results if not isinstance(r, int)]
if bad:
    sys.exit("workers failed: %s" % bad[:3])

for _ in range(killed):
    pid = os.fork()
    if pid == 0:
        if fetch(0) != os.getpid():
            os._exit(3)
        os.kill(os.getpid(), signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not os.WIFSIGNALED(status) or os.WTERMSIG(status) != signal.SIGKILL:
        sys.exit("a child did not die of SIGKILL: status %d" % status)
print("workers=%d killed=%d" % (len(set(results)), killed))

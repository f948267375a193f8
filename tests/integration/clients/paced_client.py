#!/usr/bin/python3
"""Requests at a chosen pace, each on a new connection, each answer checked.

usage: paced_client.py --port N --count N --results FILE [--threads T]
           [--method GET|POST] [--pace-ms LO-HI] [--connect-early-ms MS]
           [--id-prefix P]

The client the retry tests run under sockpool: a plain http.client
program of the kind sockpool exists for.  Every request gets a new
http.client.HTTPConnection without a timeout (so a blocking socket), is
closed after its response, and carries a unique X-Request-Id
(<prefix><thread>-<n>) that fault_server.py answers with as the body; a
body that is not the request's own id is an error.  POST sends a small
body.  Each thread sleeps a random LO..HI ms between its requests.
--connect-early-ms opens each connection (conn.connect()) that long before
sending its request, as a program does that connects first and then
prepares its request: the time in which a server's idle close can cross
the request on a connection that was alive when it was handed out.

--results gets one line per request, in the order they finished:
  <id> ok
  <id> error <ExceptionClass>: <message>
and stdout one summary line, "requests=N ok=N errors=N".  The exit status
is 0 whenever the run itself worked: errors are for the test to judge.
"""
import argparse
import http.client
import random
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description="paced HTTP requests, one connection each")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--method", choices=("GET", "POST"), default="GET")
    p.add_argument("--pace-ms", default="0-0")
    p.add_argument("--connect-early-ms", type=int, default=0)
    p.add_argument("--id-prefix", default="r")
    p.add_argument("--results", required=True)
    args = p.parse_args()
    lo, _, hi = args.pace_ms.partition("-")
    args.pace = (int(lo) / 1000.0, int(hi or lo) / 1000.0)
    return args


def one_request(args, rid):
    """None when the answer is right, else what went wrong."""
    conn = http.client.HTTPConnection(args.host, args.port)
    try:
        if args.connect_early_ms:
            conn.connect()
            time.sleep(args.connect_early_ms / 1000.0)
        body = None
        if args.method == "POST":
            body = ("payload of %s\n" % rid).encode()
        conn.request(args.method, "/" + rid, body=body, headers={"X-Request-Id": rid})
        got = conn.getresponse().read()
    except Exception as e:      # any failure is a result to record
        return "%s: %s" % (type(e).__name__, e)
    finally:
        conn.close()
    if got != rid.encode():
        return "WrongBody: %r" % got[:80]
    return None


def worker(args, thread_no, share, results, lock, rand):
    for n in range(share):
        if n > 0 and args.pace[1] > 0:
            time.sleep(rand.uniform(*args.pace))
        rid = "%s%d-%d" % (args.id_prefix, thread_no, n)
        error = one_request(args, rid)
        if error is not None:
            error = " ".join(error.split())     # one line per request
        with lock:
            results.write("%s ok\n" % rid if error is None else "%s error %s\n" % (rid, error))


def main():
    args = parse_args()
    lock = threading.Lock()
    threads = []
    with open(args.results, "w", buffering=1) as results:
        for t in range(args.threads):
            share = args.count // args.threads + (t < args.count % args.threads)
            threads.append(threading.Thread(
                target=worker,
                args=(args, t, share, results, lock, random.Random(t))))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    with open(args.results) as f:
        lines = f.read().splitlines()
    ok = sum(1 for line in lines if line.endswith(" ok"))
    print("requests=%d ok=%d errors=%d" % (len(lines), ok, len(lines) - ok))
    return 0


if __name__ == "__main__":
    sys.exit(main())

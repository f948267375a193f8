#!/usr/bin/python3
"""Requests at a chosen pace, each on a new connection, each answer checked.

usage: paced_client.py --port N --count N --results FILE [--threads T]
           [--method GET|POST] [--pace-ms LO-HI] [--connect-early-ms MS]
           [--id-prefix P] [--io blocking|timeout|epoll|epoll-connect]

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

--io chooses how each connection is made and used:
  blocking       http.client without a timeout (the default, above)
  timeout        http.client with a timeout: a non-blocking socket, poll,
                 and SO_ERROR to learn how the connect went
  epoll          a non-blocking socket on epoll, as event loops do: connect,
                 wait for writable, send (EAGAIN waits again), never asking
                 SO_ERROR: a failed connect shows as the send's error
  epoll-connect  the same, but asks connect() again once writable (as APR
                 does): 0 or EISCONN is done, EALREADY waits again
  epoll-close    as epoll, its requests asking the server to close
                 (Connection: close, as Node's agent:false does)

--results gets one line per request, in the order they finished:
  <id> ok
  <id> error <ExceptionClass>: <message>
and stdout one summary line, "requests=N ok=N errors=N".  The exit status
is 0 whenever the run itself worked: errors are for the test to judge.
"""
import argparse
import errno
import http.client
import os
import random
import select
import socket
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
    p.add_argument("--io", choices=("blocking", "timeout", "epoll", "epoll-connect",
                                    "epoll-close"),
                   default="blocking")
    args = p.parse_args()
    lo, _, hi = args.pace_ms.partition("-")
    args.pace = (int(lo) / 1000.0, int(hi or lo) / 1000.0)
    return args


class EpollConnection:
    """One request on a non-blocking socket driven by epoll (--io epoll*)."""

    WAIT_S = 5.0    # a hang is a failure, not a stall

    def __init__(self, args):
        self.args = args
        self.sock = socket.socket()
        self.sock.setblocking(False)
        self.ep = select.epoll()
        self.ep.register(self.sock.fileno(), select.EPOLLOUT)

    def wait(self, mask):
        self.ep.modify(self.sock.fileno(), mask)
        if not self.ep.poll(self.WAIT_S):
            raise TimeoutError("no event in %.0f s" % self.WAIT_S)

    def connect(self):
        addr = (self.args.host, self.args.port)
        rc = self.sock.connect_ex(addr)
        while rc in (errno.EINPROGRESS, errno.EALREADY):
            self.wait(select.EPOLLOUT)
            if self.args.io != "epoll-connect":
                return
            rc = self.sock.connect_ex(addr)
        if rc not in (0, errno.EISCONN):
            raise OSError(rc, os.strerror(rc))    # ConnectionRefusedError for 111

    def send_all(self, data):
        while data:
            try:
                data = data[self.sock.send(data):]
            except BlockingIOError:
                self.wait(select.EPOLLOUT)

    def read_response(self):
        """The body of one response with a Content-Length."""
        data, length = b"", None
        while length is None or len(data) < length:
            try:
                chunk = self.sock.recv(65536)
            except BlockingIOError:
                self.wait(select.EPOLLIN)
                continue
            if not chunk:
                raise http.client.RemoteDisconnected("EOF after %d bytes" % len(data))
            data += chunk
            head, sep, _ = data.partition(b"\r\n\r\n")
            if sep and length is None:
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = len(head) + 4 + int(value)
                if length is None:
                    raise http.client.HTTPException("no Content-Length")
        return data[data.index(b"\r\n\r\n") + 4:]

    def request(self, method, rid, body):
        self.connect()
        head = "%s /%s HTTP/1.1\r\nHost: %s\r\nX-Request-Id: %s\r\n" % (
            method, rid, self.args.host, rid)
        if self.args.io == "epoll-close":
            head += "Connection: close\r\n"
        if body is not None:
            head += "Content-Length: %d\r\n" % len(body)
        self.send_all(head.encode() + b"\r\n" + (body or b""))
        return self.read_response()

    def close(self):
        self.ep.close()
        self.sock.close()


def http_client_request(args, rid, body):
    """The body of the answer, by http.client (--io blocking, timeout)."""
    conn = http.client.HTTPConnection(args.host, args.port,
                                      timeout=5 if args.io == "timeout" else None)
    try:
        if args.connect_early_ms:
            conn.connect()
            time.sleep(args.connect_early_ms / 1000.0)
        conn.request(args.method, "/" + rid, body=body, headers={"X-Request-Id": rid})
        return conn.getresponse().read()
    finally:
        conn.close()


def epoll_request(args, rid, body):
    """The body of the answer, on epoll (--io epoll, epoll-connect)."""
    conn = EpollConnection(args)
    try:
        return conn.request(args.method, rid, body)
    finally:
        conn.close()


def one_request(args, rid):
    """None when the answer is right, else what went wrong."""
    fetch = epoll_request if args.io.startswith("epoll") else http_client_request
    body = ("payload of %s\n" % rid).encode() if args.method == "POST" else None
    try:
        got = fetch(args, rid, body)
    except Exception as e:      # any failure is a result to record
        return "%s: %s" % (type(e).__name__, e)
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

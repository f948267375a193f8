#!/usr/bin/python3
"""Connects that are refused, as programs make them; one case per run.

usage: refusal_answers.py CASE PORT

  blocking     socket.create_connection to 127.0.0.1:PORT (closed), no
               timeout: a blocking connect; must be refused
  timeout      the same with timeout=0.2 (non-blocking connect, poll, then
               SO_ERROR inside python); must be refused
  nonblocking  a non-blocking connect to 127.0.0.1:PORT (closed), poll,
               then SO_ERROR, as event loops do; must read ECONNREFUSED
  fallback     [::1]:PORT, where nothing listens, then 127.0.0.1:PORT,
               where an HTTP server does, each with timeout=0.2, as
               create_connection does for a name with both addresses:
               must be answered via 127.0.0.1
  answered     a listener of our own on 127.0.0.1 accepts one connection
               and closes; then the same address is connected to again
               (PORT is unused): the destination answered before, so under
               sockpool the refusal is a restart to wait out

Prints "ok: ..." / "FAIL: ..." lines; exits 1 if a check failed.  The
test runs each case under a time limit far shorter than one retry pause
of its sockpool settings: a refusal sockpool retried shows as a timeout.
"""
import errno
import select
import socket
import sys

from checks import check, failed

case, port = sys.argv[1], int(sys.argv[2])


def refused(timeout):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
        return False
    except ConnectionRefusedError:
        return True


if case == "blocking":
    check(refused(None), "blocking connect to a closed port is refused")
elif case == "timeout":
    check(refused(0.2), "connect with timeout=0.2 to a closed port is refused")
elif case == "nonblocking":
    s = socket.socket()
    s.setblocking(False)
    rc = s.connect_ex(("127.0.0.1", port))
    if rc == errno.EINPROGRESS:
        p = select.poll()
        p.register(s, select.POLLOUT)
        p.poll(5000)
        rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    s.close()
    check(rc == errno.ECONNREFUSED,
          "poll + SO_ERROR to a closed port: %s" % errno.errorcode.get(rc, rc))
elif case == "fallback":
    used = None
    for family, host in ((socket.AF_INET6, "::1"), (socket.AF_INET, "127.0.0.1")):
        s = socket.socket(family)
        s.settimeout(0.2)
        try:
            s.connect((host, port))
        except ConnectionRefusedError:
            s.close()
            continue
        used = host
        s.settimeout(5)
        s.sendall(b"GET /fallback HTTP/1.1\r\nHost: x\r\nX-Request-Id: fallback\r\n\r\n")
        answer = s.recv(4096)
        s.close()
        check(answer.startswith(b"HTTP/1.1 200"), "fallback: answered: %r" % answer[:20])
        break
    check(used == "127.0.0.1", "fallback: connected via %s (want 127.0.0.1)" % used)
elif case == "answered":
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    addr = listener.getsockname()
    client = socket.create_connection(addr)
    server, _ = listener.accept()
    for s in (server, client, listener):
        s.close()
    try:
        socket.create_connection(addr).close()
        check(False, "answered: the closed listener's port connected")
    except ConnectionRefusedError:
        check(True, "answered: refused once the listener closed")
else:
    sys.exit("unknown case " + case)
sys.exit(1 if failed() else 0)

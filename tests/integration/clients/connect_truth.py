#!/usr/bin/python3
"""What programs build on the outcome of a non-blocking connect.

usage: connect_truth.py OPEN_PORT CLOSED_PORT

OPEN_PORT has an HTTP server on 127.0.0.1 only; nothing listens on
CLOSED_PORT.  Three things must come out as they do without sockpool,
whatever retries it makes underneath:
  probe     socket.create_connection(timeout=2) to CLOSED_PORT is refused
            (a port check must not call a closed port open)
  fallback  the next address is tried when the first is refused: [::1]
            then 127.0.0.1 on OPEN_PORT, as create_connection does for a
            name with both; the request must be answered via 127.0.0.1
  timeout   a refused connect reached with poll + SO_ERROR still reads as
            refused, never as connected

Prints "ok: ..." / "FAIL: ..." lines, "skip: ..." for a part this host
cannot run (no IPv6 loopback); exits 1 if a check failed.
"""
import errno
import select
import socket
import sys

from checks import check, failed

open_port, closed_port = int(sys.argv[1]), int(sys.argv[2])

# probe
try:
    socket.create_connection(("127.0.0.1", closed_port), timeout=2).close()
    check(False, "probe: a closed port connected")
except ConnectionRefusedError:
    check(True, "probe: a closed port is refused")

# fallback
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0))
    have_v6 = True
except OSError:
    have_v6 = False
if not have_v6:
    print("skip: fallback: no IPv6 loopback here")
else:
    used = None
    for family, addr in ((socket.AF_INET6, ("::1", open_port)),
                         (socket.AF_INET, ("127.0.0.1", open_port))):
        s = socket.socket(family)
        s.settimeout(5)
        try:
            s.connect(addr)
        except ConnectionRefusedError:
            s.close()
            continue
        used = addr[0]
        s.sendall(b"GET /fallback HTTP/1.1\r\nHost: x\r\nX-Request-Id: fallback\r\n\r\n")
        answer = s.recv(4096)
        s.close()
        check(answer.startswith(b"HTTP/1.1 200"), "fallback: answered: %r" % answer[:20])
        break
    check(used == "127.0.0.1", "fallback: connected via %s (want 127.0.0.1)" % used)

# timeout: poll, then SO_ERROR
s = socket.socket()
s.setblocking(False)
rc = s.connect_ex(("127.0.0.1", closed_port))
if rc == errno.EINPROGRESS:
    p = select.poll()
    p.register(s, select.POLLOUT)
    p.poll(2000)
    rc = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
check(rc == errno.ECONNREFUSED, "SO_ERROR after poll: %s" % errno.errorcode.get(rc, rc))
s.close()
sys.exit(1 if failed() else 0)

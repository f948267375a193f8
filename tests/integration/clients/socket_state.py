#!/usr/bin/python3
"""What a program sees of its socket after connect(), pooled or not.

usage: socket_state.py HOST PORT PATH
Makes three requests, each on a new socket with different options, and
checks after each connect() that the socket shows exactly the options and
flags this program set (not those of an earlier socket the pool reused).
"""
import socket
import struct
import sys

from raw_http import get

host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TV = "ll"


def check(sock, want_rcvtimeo, want_nodelay, want_keepalive, want_nonblock):
    rcv = struct.unpack(TV, sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16))
    got = (rcv, sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
           sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0,
           not sock.getblocking())
    want = (want_rcvtimeo, want_nodelay, want_keepalive, want_nonblock)
    if got != want:
        print("socket state %r, expected %r" % (got, want), file=sys.stderr)
        sys.exit(1)


# 1: timeout 2 s, Nagle off, keep-alive probes on.
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack(TV, 2, 0))
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.connect((host, port))
check(s, (2, 0), True, True, False)
get(s, path)
s.close()

# 2: timeout 5 s only.
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack(TV, 5, 0))
s.connect((host, port))
check(s, (5, 0), False, False, False)
get(s, path)
s.close()

# 3: nothing set, but non-blocking: connect must look like a real one.
s = socket.socket()
s.setblocking(False)
try:
    s.connect((host, port))
except BlockingIOError:
    pass
import select
select.select([], [s], [], 10)
err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
if err != 0:
    print("SO_ERROR", err, file=sys.stderr)
    sys.exit(1)
check(s, (0, 0), False, False, True)
s.setblocking(True)
get(s, path)
s.close()
print("requests=3 ok=3 errors=0")

#!/usr/bin/python3
"""What the private duplicate sockpool keeps of a pooled socket in use
(its "shadow", a high close-on-exec fd) must never change what the
program sees or holds.

usage: shadow_fds.py PORT PATH; prints one line per step:
  accepts-check   the server's accept count is read by the test between
                  steps, so this only makes requests and says what it did
Steps:
  1. a request, the socket closed (parked);
  2. a new socket that gets the pooled one, a request, then
     os.closerange() over every number above it (its shadow with them),
     then close (parked again, without the shadow);
  3. a new socket: the pooled one again, a request;
  4. that socket duplicated (never pooled now), both closed: no socket of
     this process may stay open.
Exits 0 after printing "sockets open at the end: N".
"""
import os
import socket
import sys

from raw_http import get

port, path = int(sys.argv[1]), sys.argv[2]


def sockets_open():
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            n += os.readlink("/proc/self/fd/" + fd).startswith("socket:")
        except OSError:
            pass
    return n


s = socket.create_connection(("127.0.0.1", port))
assert get(s, path).startswith("HTTP/1.1 200")
s.close()
s = socket.create_connection(("127.0.0.1", port))
assert get(s, path).startswith("HTTP/1.1 200")
os.closerange(s.fileno() + 1, 1 << 20)
s.close()
s = socket.create_connection(("127.0.0.1", port))
assert get(s, path).startswith("HTTP/1.1 200")
t = socket.socket(fileno=os.dup(s.fileno()))
s.close()
t.close()
print("sockets open at the end: %d" % sockets_open())

#!/usr/bin/python3
"""A line protocol client: one connection per "PING n", as a naive client does.

usage: line_client.py PORT N
"""
import socket
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"PING %d\n" % i)
    reply = b""
    while not reply.endswith(b"\n"):
        chunk = s.recv(100)
        if not chunk:
            break
        reply += chunk
    s.close()
    if reply != b"PONG %d\n" % i:
        print("bad reply", reply, file=sys.stderr)
        sys.exit(1)
print("requests=%d ok=%d errors=0" % (count, count))

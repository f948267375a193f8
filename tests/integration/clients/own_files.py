#!/usr/bin/python3
"""A program that takes its descriptors in hand, as daemons do: with
"close", it closes every fd above 2, opens its own file (which gets fd 3)
and puts that file on every number from 11 up to its fd limit too, so
whatever number a preloaded library had its own file on now holds this
program's file.  Then it makes requests on new connections and writes
lines of its own to the file.  With "keep" it opens the file without
closing anything (the control).

usage: own_files.py close|keep PORT FILE N
"""
import http.client
import os
import resource
import sys

mode, port, path, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
if mode == "close":
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    os.closerange(3, limit)
    fd = os.open(path, flags, 0o600)
    for n in range(11, limit):
        os.dup2(fd, n)
else:
    fd = os.open(path, flags, 0o600)
os.write(fd, b"own: before the requests\n")
for _ in range(count):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/index.html")
    if b"Hello from nginx" not in c.getresponse().read():
        sys.exit("wrong body")
    c.close()
os.write(fd, b"own: after the requests\n")

#!/usr/bin/python3
"""A program and its fd limit, as httperf and file-hungry programs treat it.

usage: fd_limit.py lower URL N EXPECTED_BODY_FILE
       fd_limit.py files PORT PATH K EXPECTED_BODY_FILE

lower  lowers its own soft RLIMIT_NOFILE to 1024 (resource.setrlimit, as
       httperf does with FD_SETSIZE), then makes N requests with
       urllib.request.urlopen, each body checked.  Prints "requests N".
files  opens K connections at once with http.client, makes a GET on each,
       closes them all (sockpool may pool them), then opens /dev/null
       until the call fails.  Prints "sockets S files N error NAME": the
       sockets among its descriptors after closing (/proc/self/fd: the
       pool's), how many files it opened, and the error that stopped it
       (EMFILE when the limit did).
"""
import errno
import http.client
import os
import resource
import sys
import urllib.request


def lower(url, n, expected):
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    for _ in range(n):
        with urllib.request.urlopen(url, timeout=10) as r:
            if r.status != 200 or r.read() != expected:
                sys.exit("bad response")
    print("requests %d" % n)


def files(port, path, k, expected):
    conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(k)]
    for c in conns:
        c.connect()
    for c in conns:
        c.request("GET", path)
        if c.getresponse().read() != expected:
            sys.exit("bad response")
    for c in conns:
        c.close()
    sockets = sum(os.readlink("/proc/self/fd/" + f).startswith("socket:")
                  for f in os.listdir("/proc/self/fd") if os.path.exists("/proc/self/fd/" + f))
    opened = []
    while True:
        try:
            opened.append(os.open("/dev/null", os.O_RDONLY))
        except OSError as e:
            print("sockets %d files %d error %s"
                  % (sockets, len(opened), errno.errorcode.get(e.errno, e.errno)))
            break
    for fd in opened:
        os.close(fd)


def main():
    if sys.argv[1] == "lower":
        lower(sys.argv[2], int(sys.argv[3]), open(sys.argv[4], "rb").read())
    else:
        files(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), open(sys.argv[5], "rb").read())


if __name__ == "__main__":
    main()

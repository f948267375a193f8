#!/usr/bin/python3
"""An event-loop client on epoll, with non-blocking sockets.

usage: epoll_client.py PORT PATH ROUNDS

Each round: a new non-blocking socket, registered in one epoll set BEFORE
its connect (as some event loops do), connect (EINPROGRESS), wait for
writable, send a GET, wait for readable, read the whole response (by
Content-Length), close the socket WITHOUT unregistering it (close removes
it from the set).  Then, once: wait 400 ms on the epoll set, which must
report nothing: no event of a closed socket may reach the program, even
when the server closes the idle connection sockpool kept (run it against
a server that closes idle connections after 100 ms).

Prints "ok: ..." / "FAIL: ..." lines; exits 1 if a check failed.
"""
import errno
import select
import socket
import sys

from checks import check, failed

port, path, rounds = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ep = select.epoll()


def wait_for(fd, mask):
    for _ in range(100):            # 100 x 50 ms: a hang is a failure, not a stall
        for got_fd, events in ep.poll(0.05):
            if got_fd == fd and events & mask:
                return True
            if got_fd != fd:
                check(False, "an event for fd %d, which is not open" % got_fd)
    return False


ok = 0
for r in range(rounds):
    s = socket.socket()
    s.setblocking(False)
    fd = s.fileno()
    ep.register(fd, select.EPOLLOUT)
    rc = s.connect_ex(("127.0.0.1", port))
    if rc not in (0, errno.EINPROGRESS):
        check(False, "round %d: connect: %s" % (r, errno.errorcode.get(rc, rc)))
        break
    if not wait_for(fd, select.EPOLLOUT):
        check(False, "round %d: never writable after connect" % r)
        break
    s.send(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    ep.modify(fd, select.EPOLLIN)
    data = b""
    length = None
    while length is None or len(data) < length:
        if not wait_for(fd, select.EPOLLIN):
            break
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
        head, sep, _ = data.partition(b"\r\n\r\n")
        if sep and length is None:
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = len(head) + 4 + int(line.split(b":")[1])
    ok += data.startswith(b"HTTP/1.1 200") and length is not None and len(data) == length
    s.close()
check(ok == rounds, "responses over epoll: %d of %d" % (ok, rounds))
stray = ep.poll(0.4)
check(stray == [], "events after every socket was closed: %s" % stray)
sys.exit(1 if failed() else 0)

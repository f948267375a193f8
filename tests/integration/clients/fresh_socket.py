#!/usr/bin/python3
"""What a program sees of a socket between socket() and connect().

usage: fresh_socket.py PORT PATH CLOSED_PORT

Each scenario makes a new TCP socket, uses it before connecting the way
some program might (getsockname, poll, bind, fork, dup...), and prints
what it saw, one line per scenario.  Run without sockpool, the lines are
what a fresh socket shows; under sockpool they must be the same, even when
socket() handed out a pooled connection (speculate.h).

Between scenarios it makes plain requests to 127.0.0.1:PORT, so that the
pool holds an idle connection, this thread's last connects went there, and
sockpool's back-off after a wrong guess has passed.  On stderr, for each
scenario, "handed out: yes" when the socket's inode was that of the
connection closed just before (a pooled socket, not a new one).
"""
import errno
import os
import select
import socket
import struct
import sys

from raw_http import get

PORT, PATH, CLOSED = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ADDR = ("127.0.0.1", PORT)
last_inode = None


def inode(sock):
    return os.fstat(sock.fileno()).st_ino


def plain_request():
    global last_inode
    s = socket.socket()
    s.connect(ADDR)
    get(s, PATH)
    last_inode = inode(s)
    s.close()


def err_name(e):
    return errno.errorcode.get(e.errno, str(e.errno))


def attempt(fn):
    try:
        r = fn()
        return "ok" if r is None else "ok %s" % (r,)
    except OSError as e:
        return err_name(e)


def connect_and_request(s):
    s.connect(ADDR)
    return get(s, PATH)


SCENARIOS = []


def scenario(fn):
    SCENARIOS.append(fn)
    return fn


@scenario
def getsockname(s):
    return "%s then %s" % (s.getsockname(), connect_and_request(s))


@scenario
def getpeername(s):
    return "%s then %s" % (attempt(s.getpeername), connect_and_request(s))


@scenario
def so_error(s):
    e = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    return "%d then %s" % (e, connect_and_request(s))


@scenario
def tcp_info_state(s):
    state = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]
    return "%d then %s" % (state, connect_and_request(s))


@scenario
def poll(s):
    p = select.poll()
    p.register(s, select.POLLIN | select.POLLOUT)
    events = p.poll(0)
    return "%s then %s" % (events[0][1] if events else 0, connect_and_request(s))


@scenario
def select_(s):
    r, w, x = select.select([s], [s], [s], 0)
    return "%d%d%d then %s" % (len(r), len(w), len(x), connect_and_request(s))


@scenario
def epoll_before_connect(s):
    ep = select.epoll()
    ep.register(s, select.EPOLLIN | select.EPOLLOUT)
    events = ep.poll(0)
    ep.close()
    return "%s then %s" % (events[0][1] if events else 0, connect_and_request(s))


@scenario
def bind_then_connect(s):
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    return "bound %s then %s" % (port != 0, connect_and_request(s))


@scenario
def listen(s):
    s.bind(("127.0.0.1", 0))
    return "%s, accepting %s" % (attempt(lambda: s.listen(1)),
                                 s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))


@scenario
def listen_unbound(s):
    return "%s, port given %s" % (attempt(lambda: s.listen(1)), s.getsockname()[1] != 0)


@scenario
def connect_elsewhere(s):
    return attempt(lambda: s.connect(("127.0.0.1", CLOSED)))


@scenario
def shutdown(s):
    return "%s then %s" % (attempt(lambda: s.shutdown(socket.SHUT_RDWR)),
                           connect_and_request(s))


@scenario
def send_before_connect(s):
    return "%s then %s" % (attempt(lambda: s.send(b"x", socket.MSG_NOSIGNAL)),
                           connect_and_request(s))


@scenario
def recv_before_connect(s):
    return "%s then %s" % (attempt(lambda: s.recv(1, socket.MSG_DONTWAIT)),
                           connect_and_request(s))


@scenario
def dup_before_connect(s):
    d = s.dup()
    seen = attempt(d.getpeername)
    got = connect_and_request(s)
    peer_via_dup = d.getpeername()[1] == PORT
    d.close()
    return "dup sees %s, then %s, dup sees the peer %s" % (seen, got, peer_via_dup)


@scenario
def close_before_connect(s):
    s.close()
    s2 = socket.socket()
    return "next socket %s" % connect_and_request(s2)


@scenario
def fork_before_connect(s):
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os.write(w, attempt(s.getpeername).encode())
        os._exit(0)
    os.close(w)
    seen = os.read(r, 100).decode()
    os.close(r)
    os.waitpid(pid, 0)
    return "child sees %s, then %s" % (seen, connect_and_request(s))


@scenario
def closerange_over_it(s):
    fd = s.detach()
    os.closerange(fd, fd + 1)
    return "then %s, next socket %s" % (
        attempt(lambda: os.fstat(fd)), connect_and_request(socket.socket()))


@scenario
def closerange_over_everything(s):
    fd = s.detach()
    # Every descriptor above the standard ones: sockpool's own too.
    os.closerange(3, 1 << 20)
    return "then %s, next socket %s" % (
        attempt(lambda: os.fstat(fd)), connect_and_request(socket.socket()))


@scenario
def child_inherits_it(s):
    import subprocess
    child = subprocess.run(
        [sys.executable, "-c", "import socket, sys\n"
         "s = socket.socket(fileno=int(sys.argv[1]))\n"
         "try:\n    s.getpeername(); print('connected')\n"
         "except OSError as e: print(e.errno)\n"
         "s.detach()", str(s.fileno())],
        pass_fds=[s.fileno()], capture_output=True, text=True)
    return "child sees %s, then %s" % (child.stdout.strip(), connect_and_request(s))


@scenario
def sent_with_scm_rights(s):
    a, b = socket.socketpair()
    socket.send_fds(a, [b"x"], [s.fileno()])
    _, fds, _, _ = socket.recv_fds(b, 1, 1)
    received = socket.socket(fileno=fds[0])
    seen = attempt(received.getpeername)
    received.close()
    a.close()
    b.close()
    return "receiver sees %s, then %s" % (seen, connect_and_request(s))


@scenario
def option_not_carried(s):
    got = attempt(lambda: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, 1000))
    return "%s then %s" % (got, connect_and_request(s))


@scenario
def options_then_connect(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 3, 0))
    got = connect_and_request(s)
    return "%s, nodelay %d, timeout %s" % (
        got, s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
        struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)))


def options_seen(s):
    return "nodelay %d, timeout %s" % (
        s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY),
        struct.unpack("ll", s.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, 16)))


@scenario
def options_left_alone(s):
    # After a program that set them: a fresh socket has neither.
    got = connect_and_request(s)
    return "%s, %s" % (got, options_seen(s))


@scenario
def options_set_again_through_a_dup(s):
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    got = connect_and_request(s)
    d = s.dup()
    d.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    d.close()
    return "%s, %s" % (got, options_seen(s))


@scenario
def flags(s):
    import fcntl
    fl = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
    fd = fcntl.fcntl(s.fileno(), fcntl.F_GETFD)
    return "F_GETFL %o F_GETFD %d then %s" % (fl, fd, connect_and_request(s))


@scenario
def flags_changed(s):
    import fcntl
    s.setblocking(False)
    fl1 = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
    fcntl.fcntl(s.fileno(), fcntl.F_SETFL, fl1 & ~os.O_NONBLOCK)
    fl2 = fcntl.fcntl(s.fileno(), fcntl.F_GETFL)
    got = connect_and_request(s)
    return "F_GETFL %o then %o, then %s, blocking %s" % (fl1, fl2, got, s.getblocking())


@scenario
def nonblocking_connect(s):
    s.setblocking(False)
    e = s.connect_ex(ADDR)
    select.select([], [s], [], 5)
    err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    s.setblocking(True)
    return "%s, SO_ERROR %d, then %s" % (errno.errorcode.get(e, e), err, get(s, PATH))


@scenario
def plain(s):
    return connect_and_request(s)


def main():
    # Two connects in a row to one place: sockpool's guess starts here.
    plain_request()
    plain_request()
    for fn in SCENARIOS:
        # Enough plain requests that a wrong guess's back-off has passed.
        for _ in range(12):
            plain_request()
        s = socket.socket()
        handed_out = inode(s) == last_inode
        print("%s: handed out: %s" % (fn.__name__, "yes" if handed_out else "no"),
              file=sys.stderr)
        try:
            print("%s: %s" % (fn.__name__, fn(s)))
        except OSError as e:
            print("%s: failed %s" % (fn.__name__, err_name(e)))
        if s.fileno() >= 0:
            s.close()
    sys.stdout.flush()


main()

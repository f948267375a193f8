#!/usr/bin/python3
"""Sockets sockpool must leave alone, used under it.

usage: leave_alone.py SCENARIO [PORT PATH BODY_FILE]

  udp_unix    a UDP and a UNIX-stream echo, 100 messages each, in one process
  tfo         10 GETs to PORT, each sent with the SYN (sendto MSG_FASTOPEN on
              a socket never connect()ed)
  scm         a GET on a connection, which is then sent to another process
              with SCM_RIGHTS; that process makes its own GET on it while
              this one closes its copy and makes another GET

Prints "ok: ..." or "FAIL: ..." lines; exits 1 if any check failed.
"""
import array
import http.client
import os
import socket
import sys
import tempfile
import threading

from checks import check, failed


def read_response(sock):
    f = sock.makefile("rb")
    resp = http.client.HTTPResponse(sock)
    resp.begin()
    body = resp.read()
    f.close()
    return resp.status, body


def udp_unix():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))

    def udp_echo():
        for _ in range(100):
            data, addr = u.recvfrom(2048)
            u.sendto(data, addr)
    threading.Thread(target=udp_echo, daemon=True).start()
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    c.connect(u.getsockname())
    ok = 0
    for i in range(100):
        msg = ("GET /%d HTTP/1.1\r\n\r\n" % i).encode()     # looks like HTTP: still UDP
        c.send(msg)
        ok += c.recv(2048) == msg
    check(ok == 100, "UDP echo: %d of 100" % ok)

    path = os.path.join(tempfile.mkdtemp(), "echo.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(1)

    def unix_echo():
        conn, _ = srv.accept()
        while True:
            data = conn.recv(4096)
            if not data:
                break
            conn.sendall(data)
        conn.close()
    threading.Thread(target=unix_echo, daemon=True).start()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    ok = 0
    for i in range(100):
        msg = ("GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i).encode()
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            got += s.recv(4096)
        ok += got == msg
    s.close()
    check(ok == 100, "UNIX stream echo: %d of 100" % ok)


def tfo(port, path, expected):
    ok = 0
    for _ in range(10):
        s = socket.socket()
        req = ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path).encode()
        s.sendto(req, socket.MSG_FASTOPEN, ("127.0.0.1", port))
        status, body = read_response(s)
        s.close()
        ok += status == 200 and body == expected
    check(ok == 10, "fast-open GETs: %d of 10" % ok)


def scm(port, path, expected):
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:
        # The other process: receives a socket and makes its own request.
        a.close()
        msg, anc, _, _ = b.recvmsg(16, socket.CMSG_SPACE(4))
        fds = array.array("i")
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[:4])
        s = socket.socket(fileno=fds[0])
        s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
        status, body = read_response(s)
        b.sendall(b"1" if status == 200 and body == expected else b"0")
        os._exit(0)
    b.close()
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    check(conn.getresponse().read() == expected, "first GET")
    a.sendmsg([b"x"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                         array.array("i", [conn.sock.fileno()]))])
    conn.close()            # our copy: the socket now lives on elsewhere
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    check(conn.getresponse().read() == expected, "GET after sending the socket away")
    conn.close()
    check(a.recv(1) == b"1", "the other process's GET on the passed socket")
    os.waitpid(pid, 0)


def main():
    scenario = sys.argv[1]
    if scenario == "udp_unix":
        udp_unix()
    else:
        port, path, expected = int(sys.argv[2]), sys.argv[3], open(sys.argv[4], "rb").read()
        {"tfo": tfo, "scm": scm}[scenario](port, path, expected)
    return 1 if failed() else 0


if __name__ == "__main__":
    sys.exit(main())

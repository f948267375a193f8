#!/usr/bin/python3
"""Programs that ask the server to close and then read or write where
sockpool's hooks cannot follow, or that trust the response's Connection
header.  Each must behave under sockpool exactly as without it.

usage: step_back.py CASE PORT [ARGS...]; exit 0 and "ok: ..." when the
program got what it would have got without sockpool, else a message and
exit 1.  Cases:
  upload PORT MIB        a non-blocking POST of MIB MiB with "Connection:
                         close" in one send() to a slow-draining server
                         (slow_sink_server.py), finished with more sends as
                         the socket takes them; the server's md5 must match
  child-stdin PORT PATH  HTTP/1.0 request written, then the socket handed
                         to `cat` as its stdin (subprocess.run), which
                         reads the response until end-of-file
  fork-exec PORT PATH    the same inetd-style: fork, dup2 onto 0, exec cat
  waitall PORT PATH N    N times: HTTP/1.0 request, one recv(MSG_WAITALL)
                         into a 1 MiB buffer, which returns at end-of-file
  low-fd-limit PORT PATH HTTP/1.0 request, then RLIMIT_NOFILE lowered to
                         just above the socket's number, then read to EOF
  read-to-eof PORT PATH  HTTP/1.0 request, read to end-of-file
  response-head PORT PATH  the same, printing the response head
  trust-close PORT PATH N  http.client: N requests with "Connection: close"
                         on one HTTPConnection object, which reconnects
                         when (and only when) the response says close
  sendfile-put PORT MIB  PUT whose head goes by send() and body by
                         sendfile(); the server resets it: the program must
                         see the reset (no replay of a head without body)
"""
import hashlib
import http.client
import os
import resource
import select
import socket
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def http10_request(path):
    return ("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path).encode()


def receive_to_eof(s):
    raw = b""
    while True:
        data = s.recv(65536)
        if not data:
            return raw
        raw += data


def check_response(raw, what):
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        fail("%s: no 200 response: %r" % (what, raw[:80]))
    length = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
              if line.lower().startswith(b"content-length:")]
    if length and len(body) != length[0]:
        fail("%s: body of %d bytes, Content-Length %d" % (what, len(body), length[0]))
    return head, body


def upload(port, mib):
    body = os.urandom(mib << 20)
    req = ("POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: %d\r\n"
           "Connection: close\r\n\r\n" % len(body)).encode() + body
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
    s.setblocking(False)
    view, off, calls = memoryview(req), 0, 0
    while off < len(req):
        select.select([], [s], [], 30)
        try:
            off += s.send(view[off:])
        except BlockingIOError:
            pass
        calls += 1
    s.setblocking(True)
    _, got = check_response(receive_to_eof(s), "upload")
    if got.decode() != hashlib.md5(body).hexdigest():
        fail("upload: the server got a body with md5 %s, sent %s" %
             (got.decode(), hashlib.md5(body).hexdigest()))
    print("ok: upload: %d MiB in %d send() calls, body intact" % (mib, calls))


def child_stdin(port, path, how):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(http10_request(path))
    if how == "subprocess":
        out = subprocess.run(["cat"], stdin=s, stdout=subprocess.PIPE, check=True).stdout
    else:
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.dup2(s.fileno(), 0)
            os.dup2(w, 1)
            os.execvp("cat", ["cat"])
        os.close(w)
        out = b""
        while True:
            data = os.read(r, 65536)
            if not data:
                break
            out += data
        os.waitpid(pid, 0)
    s.close()
    check_response(out, how)
    print("ok: %s: the child read the whole response to end-of-file" % how)


def waitall(port, path, n):
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(http10_request(path))
        raw = s.recv(1 << 20, socket.MSG_WAITALL)
        check_response(raw, "waitall %d" % i)
        if s.recv(100) != b"":
            fail("waitall %d: no end-of-file after the response" % i)
        s.close()
    print("ok: waitall: %d responses, each in one recv(MSG_WAITALL)" % n)


def read_to_eof(port, path, lower_fd_limit, print_head):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(http10_request(path))
    if lower_fd_limit:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (s.fileno() + 1, hard))
    head, _ = check_response(receive_to_eof(s), "read-to-eof")
    if print_head:
        print(head.decode("latin-1"))
    print("ok: response read to end-of-file" + (" with RLIMIT_NOFILE %d" % (
        s.fileno() + 1) if lower_fd_limit else ""))


def trust_close(port, path, n):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    for i in range(n):
        conn.request("GET", path, headers={"Connection": "close"})
        r = conn.getresponse()
        r.read()
        if r.status != 200:
            fail("trust-close %d: status %d" % (i, r.status))
        said = (r.getheader("Connection") or "").strip().lower()
        if said != "close":
            fail("trust-close %d: the response says Connection: %r" % (i, said))
        if (r.getheader("Keep-Alive") or "").strip():
            fail("trust-close %d: the response announces Keep-Alive: %r" %
                 (i, r.getheader("Keep-Alive")))
    conn.close()
    print("ok: trust-close: %d requests on one HTTPConnection, each answered close" % n)


def sendfile_put(port, mib):
    with tempfile.TemporaryFile() as f:
        f.write(os.urandom(mib << 20))
        f.flush()
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(("PUT /thing HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: put-1\r\n"
                   "Content-Length: %d\r\n\r\n" % (mib << 20)).encode())
        sent = 0
        try:
            while sent < mib << 20:
                sent += os.sendfile(s.fileno(), f.fileno(), sent, (mib << 20) - sent)
            data = s.recv(65536)
        except (ConnectionResetError, BrokenPipeError) as e:
            print("ok: sendfile-put: the program saw %s" % type(e).__name__)
            return
        fail("sendfile-put: expected a reset, got %r" % data[:60])


case, port = sys.argv[1], int(sys.argv[2])
args = sys.argv[3:]
if case == "upload":
    upload(port, int(args[0]))
elif case in ("child-stdin", "fork-exec"):
    child_stdin(port, args[0], "subprocess" if case == "child-stdin" else "fork-exec")
elif case == "waitall":
    waitall(port, args[0], int(args[1]))
elif case in ("low-fd-limit", "read-to-eof", "response-head"):
    read_to_eof(port, args[0], case == "low-fd-limit", case == "response-head")
elif case == "trust-close":
    trust_close(port, args[0], int(args[1]))
elif case == "sendfile-put":
    sendfile_put(port, int(args[0]))
else:
    fail("unknown case " + case)

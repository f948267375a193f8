#!/usr/bin/python3
"""Programs that do what the host processes of a preloaded library do to it.

usage: hazards.py SCENARIO PORT PATH EXPECTED_BODY_FILE

Each scenario makes HTTP requests with http.client, one connection per
request (so that sockpool pools them), checks every body against the file,
and does one hazardous thing in the middle.  It prints one line per check
("ok: ..." or "FAIL: ...") and exits 1 if any check failed.  Scenarios:

  fork        a connection is open (used, not closed) when the process
              forks; parent and child each close their copy and then make
              requests at the same time.  Neither may pool the shared
              socket, and they must never be handed the same pooled one.
  exec        with idle connections in the pool, runs programs (fork+exec
              through subprocess, and os.posix_spawn): they must see no
              socket among their descriptors.
  closeall    with idle connections in the pool, closes every descriptor
              above 2 (os.closerange, then close() one by one over what is
              left), opens files onto the freed numbers, including the very
              numbers the pool used, and goes on making requests: the files
              stay intact and every request still works.
  fdopen      wraps a socket in a C stdio FILE (fdopen), closes it with
              fclose (glibc closes the fd internally, unseen by the shim),
              then a pipe gets the number: its bytes must arrive intact.
"""
import http.client
import os
import subprocess
import sys

from checks import check, failed


def get(port, path, expected, keep_open=False):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", path)
    body = conn.getresponse().read()
    if body != expected:
        raise RuntimeError("wrong body: %d bytes" % len(body))
    if keep_open:
        return conn
    conn.close()
    return None


def requests(port, path, expected, n):
    done = 0
    for _ in range(n):
        get(port, path, expected)
        done += 1
    return done


def socket_fds():
    found = []
    for name in os.listdir("/proc/self/fd"):
        try:
            if os.readlink("/proc/self/fd/" + name).startswith("socket:"):
                found.append(int(name))
        except OSError:
            pass
    return found


def scenario_fork(port, path, expected):
    held = get(port, path, expected, keep_open=True)
    pid = os.fork()
    if pid == 0:
        try:
            held.close()
            requests(port, path, expected, 40)
            os._exit(0)
        except Exception as e:      # report, never run the parent's code
            print("FAIL: child: %s" % e, flush=True)
            os._exit(1)
    held.close()
    try:
        done = requests(port, path, expected, 40)
        check(done == 40, "parent: 40 requests after fork")
    except Exception as e:
        check(False, "parent: %s" % e)
    _, status = os.waitpid(pid, 0)
    check(os.waitstatus_to_exitcode(status) == 0, "child: 40 requests after fork")


def scenario_exec(port, path, expected):
    requests(port, path, expected, 5)
    check(len(socket_fds()) > 0, "the pool holds a socket before exec")
    listing = "import os; print(sum(os.readlink('/proc/self/fd/' + f).startswith('socket:') " \
              "for f in os.listdir('/proc/self/fd') if os.path.exists('/proc/self/fd/' + f)))"
    out = subprocess.run([sys.executable, "-c", listing], capture_output=True, text=True)
    check(out.stdout.strip() == "0", "sockets seen by a subprocess: %s" % out.stdout.strip())
    r, w = os.pipe()
    pid = os.posix_spawn(sys.executable, [sys.executable, "-c", listing],
                         os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, w, 1)])
    os.close(w)
    seen = os.read(r, 100).decode().strip()
    os.waitpid(pid, 0)
    os.close(r)
    check(seen == "0", "sockets seen by a posix_spawn child: %s" % seen)
    check(requests(port, path, expected, 5) == 5, "requests after exec")


def put_files_on(fds, files):
    """/dev/null onto each number of fds; files[fd] = its inode."""
    for fd in fds:
        f = os.open("/dev/null", os.O_RDONLY)
        os.dup2(f, fd)
        if f != fd:
            os.close(f)
        files[fd] = os.fstat(fd).st_ino


def check_files(files, when):
    for fd, ino in files.items():
        try:
            same = os.fstat(fd).st_ino == ino
        except OSError:
            same = False
        check(same, "file on former pool fd %d intact %s" % (fd, when))


def scenario_closeall(port, path, expected):
    requests(port, path, expected, 5)
    pooled = [fd for fd in socket_fds() if fd > 2]
    check(len(pooled) > 0, "the pool holds a socket: fds %s" % pooled)
    os.closerange(3, 65536)
    check(socket_fds() == [], "no socket left after closerange")
    # Files onto the numbers the pool had: the pool must neither hand them
    # out as sockets nor close them.
    files = {}
    put_files_on(pooled, files)
    check(requests(port, path, expected, 20) == 20, "requests after closing every fd")
    check_files(files, "after closerange")
    # The same once more with close() one by one, then files put on the
    # numbers the pool had (which it still believes it holds: only its
    # close() hook saw them go), and requests after.
    requests(port, path, expected, 5)
    pooled = [fd for fd in socket_fds() if fd > 2]
    check(len(pooled) > 0, "the pool holds a socket again: fds %s" % pooled)
    for fd in range(3, 4096):
        if fd not in files:
            try:
                os.close(fd)
            except OSError:
                pass
    put_files_on(pooled, files)
    check(requests(port, path, expected, 20) == 20, "requests after close() of every fd")
    check_files(files, "after close() one by one")


def scenario_fdopen(port, path, expected):
    requests(port, path, expected, 3)
    import ctypes
    import socket
    # A placeholder below the socket, so that the pipe made later gets the
    # socket's old number for its write end.
    placeholder = os.open("/dev/null", os.O_RDONLY)
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\n\r\n" % path).encode())
    fd = s.detach()
    # C stdio, as a C program would use it: fclose() closes the fd inside
    # glibc, where no preloaded close() sees it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.fdopen.restype = ctypes.c_void_p
    libc.fgets.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_void_p]
    libc.fclose.argtypes = [ctypes.c_void_p]
    fp = libc.fdopen(fd, b"r")
    line = ctypes.create_string_buffer(100)
    libc.fgets(line, 100, fp)
    check(line.value.startswith(b"HTTP/1.1 200"), "response read through stdio")
    libc.fclose(fp)
    os.close(placeholder)
    r, w = os.pipe()
    check(w == fd, "the pipe's write end took the socket's old number %d" % fd)
    data = b"x" * 1000
    try:
        os.write(w, data)
    except OSError as e:
        check(False, "write to the pipe: %s" % e)
    os.close(w)
    got = b""
    while True:
        chunk = os.read(r, 4096)
        if not chunk:
            break
        got += chunk
    os.close(r)
    check(got == data, "a pipe on the socket's old number works")
    check(requests(port, path, expected, 5) == 5, "requests after fdopen/fclose")


def main():
    scenario, port, path, body_file = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    expected = open(body_file, "rb").read()
    {"fork": scenario_fork, "exec": scenario_exec, "closeall": scenario_closeall,
     "fdopen": scenario_fdopen}[scenario](port, path, expected)
    return 1 if failed() else 0


if __name__ == "__main__":
    sys.exit(main())

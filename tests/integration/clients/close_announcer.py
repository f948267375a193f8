#!/usr/bin/python3
"""A server that says it will close, then doesn't: the witness for "never
reuse a connection the server announced closing".

usage: close_announcer.py PORT_FILE LOG_FILE
Every second response on a connection carries "Connection: close" (or is
HTTP/1.0 without keep-alive, alternating), yet the server keeps the
connection open and reads on.  It logs "accept" per connection, "request"
per request, and "VIOLATION" for any request that arrives on a connection
after it announced the close.  A correct client never causes a violation.
Stops after 60 s.
"""
import os
import socket
import sys
import threading

port_file, log_file = sys.argv[1:3]
log = open(log_file, "a", buffering=1)
lock = threading.Lock()
BODY = b"hello\n"


def say(what):
    with lock:
        log.write(what + "\n")


def serve(conn, conn_no):
    announced = False
    served = 0
    data = b""
    conn.settimeout(30)
    try:
        while True:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                data += chunk
            _, data = data.split(b"\r\n\r\n", 1)
            say("VIOLATION" if announced else "request")
            served += 1
            if served % 2 == 0:
                announced = True
                if conn_no % 2:
                    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n"
                else:
                    head = b"HTTP/1.0 200 OK\r\n"
            else:
                head = b"HTTP/1.1 200 OK\r\n"
            conn.sendall(head + b"Content-Length: %d\r\n\r\n" % len(BODY) + BODY)
    except OSError:
        pass
    finally:
        conn.close()


srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
srv.settimeout(60)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
conn_no = 0
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    conn_no += 1
    say("accept")
    threading.Thread(target=serve, args=(conn, conn_no), daemon=True).start()

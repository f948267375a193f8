#!/usr/bin/python3
"""An HTTP/1.1 server that takes request bodies slowly, like a slow link.

usage: slow_sink_server.py PORT_FILE LOG_FILE
Binds a free loopback port with a small receive buffer, writes the port to
PORT_FILE, and for each request reads its Content-Length body 64 KiB at a
time with a pause between reads (about 4 MB/s), then answers 200 with the
body's md5 (hex) as its own body, keeping the connection unless asked to
close.  LOG_FILE gets "ACCEPT" per connection and "BODY <length> <md5>"
per request: the witness of what the server really received.  Stops after
60 s or on SIGTERM.
"""
import hashlib
import socket
import sys
import threading
import time

port_file, log_file = sys.argv[1:3]
log = open(log_file, "a", buffering=1)
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
srv.bind(("127.0.0.1", 0))
srv.listen(16)
srv.settimeout(60)


def read_head(conn, buf):
    while b"\r\n\r\n" not in buf:
        data = conn.recv(65536)
        if not data:
            return None, buf
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def serve(conn):
    buf = b""
    with conn:
        while True:
            head, buf = read_head(conn, buf)
            if head is None:
                return
            lines = head.split("\r\n")
            fields = {k.strip().lower(): v.strip() for k, _, v in
                      (line.partition(":") for line in lines[1:])}
            length = int(fields.get("content-length", "0"))
            md5 = hashlib.md5()
            got = 0
            while got < length:
                if not buf:
                    time.sleep(0.015)
                    buf = conn.recv(min(65536, length - got))
                    if not buf:
                        return
                take = buf[:length - got]
                md5.update(take)
                got += len(take)
                buf = buf[len(take):]
            log.write("BODY %d %s\n" % (got, md5.hexdigest()))
            body = md5.hexdigest().encode()
            close = fields.get("connection", "").lower() == "close" or \
                lines[0].endswith("HTTP/1.0") and \
                fields.get("connection", "").lower() != "keep-alive"
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (
                len(body), b"Connection: close\r\n" if close else b"", body))
            if close:
                return


with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    log.write("ACCEPT\n")
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

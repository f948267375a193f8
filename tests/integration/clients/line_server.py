#!/usr/bin/python3
"""A line protocol server (not HTTP): answers "PING n" with "PONG n".

usage: line_server.py PORT_FILE LOG_FILE
Binds a free loopback port, writes it to PORT_FILE, and appends one line
"accept" to LOG_FILE per accepted connection: the witness of how many
connections clients really made.  Stops after 60 s or on SIGTERM.
"""
import socket
import sys
import threading

port_file, log_file = sys.argv[1:3]
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
srv.settimeout(60)
log = open(log_file, "a", buffering=1)


def serve(conn):
    with conn, conn.makefile("rwb", buffering=0) as f:
        for line in f:
            if not line.startswith(b"PING"):
                break
            f.write(b"PONG" + line[4:])


with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)
while True:
    try:
        conn, _ = srv.accept()
    except socket.timeout:
        break
    log.write("accept\n")
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

#!/usr/bin/python3
"""An HTTP/1.1 keep-alive server that misbehaves on purpose, and says so.

usage: fault_server.py --port-file FILE --log FILE [--port N] [--seed S]
           [--idle-close-ms T] [--reset-unprocessed P]
           [--reset-after-process Q] [--close-after N] [--reset-on-accept]
           [--refuse-window-ms W] [--lifetime-s S]

The witness of the retry tests: whatever a client (or sockpool, on its
behalf) sends, the log says what this server did with it, so a test can
prove that a request was never applied twice and that an error the
program saw was one the server caused.

Faults, chosen per run (random draws from --seed, one per decision):
  --idle-close-ms T        close (FIN) a connection that waited T ms for its
                           next request; the count starts when a response
                           is sent or the connection accepted
  --reset-unprocessed P    with probability P, reset (RST: SO_LINGER {1,0},
                           close) on a request without processing it
  --reset-after-process Q  with probability Q, process a request (log it),
                           then reset without answering
  --close-after N          after answering N requests on a connection,
                           close it without having said "Connection: close"
  --reset-on-accept        reset every connection right after accepting it
  --refuse-window-ms W     on SIGUSR1, close the listening socket for W ms
                           (connects are refused), then listen again on
                           the same port; the log says REFUSING and
                           LISTENING when each happens
A request that is not reset gets "200", Content-Length, and its request id
(the X-Request-Id header) as the body (none for HEAD), so a client can
tell its own answer from anyone else's.  Request bodies are read by Content-Length.  The
client's "Connection: close" (or HTTP/1.0 without keep-alive) is honoured.

Log, one line per event, flushed as written:
  ACCEPT <conn>                         a connection accepted (numbered)
  PROCESSED <method> <request-id> <conn>
  RESET-UNPROCESSED <request-id>        reset instead of processing it
  RESET-AFTER <request-id>              processed, then reset unanswered
  REFUSING / LISTENING                  the refusal window opens / closes
The port goes to --port-file (written whole, then renamed into place) once
the server listens.  One thread per connection; a client that vanishes
costs only its own thread.  Exits on SIGTERM or after --lifetime-s
(default 600) so that a forgotten server does not stay.
"""
import argparse
import os
import random
import select
import signal
import socket
import struct
import sys
import threading
import time

HEAD_MAX = 65536


def parse_args():
    p = argparse.ArgumentParser(description="HTTP/1.1 server with chosen faults")
    p.add_argument("--port-file", required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--idle-close-ms", type=int, default=0)
    p.add_argument("--reset-unprocessed", type=float, default=0.0)
    p.add_argument("--reset-after-process", type=float, default=0.0)
    p.add_argument("--close-after", type=int, default=0)
    p.add_argument("--reset-on-accept", action="store_true")
    p.add_argument("--refuse-window-ms", type=int, default=0)
    p.add_argument("--lifetime-s", type=float, default=600)
    return p.parse_args()


class Server:
    def __init__(self, args):
        self.args = args
        self.log_file = open(args.log, "a", buffering=1)
        self.lock = threading.Lock()
        self.rand = random.Random(args.seed)
        self.conn_count = 0
        self.refuse_requested = False
        self.stopping = False

    def say(self, line):
        with self.lock:
            self.log_file.write(line + "\n")

    def draw(self, probability):
        """One decision: True with the given probability."""
        if probability <= 0:
            return False
        with self.lock:
            return self.rand.random() < probability

    # ---- one connection ----------------------------------------------

    def serve(self, conn, conn_no):
        try:
            if self.args.reset_on_accept:
                reset(conn)
                return
            self.serve_requests(conn, conn_no)
        except OSError:
            pass            # the client went away: its business, not ours
        finally:
            conn.close()

    def serve_requests(self, conn, conn_no):
        buf = b""
        answered = 0
        while True:
            request = self.read_request(conn, buf)
            if request is None:
                return      # idle close, EOF or garbage: close (FIN)
            method, headers, keep_alive, buf = request
            rid = headers.get("x-request-id", "-")
            if self.draw(self.args.reset_unprocessed):
                self.say("RESET-UNPROCESSED %s" % rid)
                reset(conn)
                return
            self.say("PROCESSED %s %s %d" % (method, rid, conn_no))
            if self.draw(self.args.reset_after_process):
                self.say("RESET-AFTER %s" % rid)
                reset(conn)
                return
            body = rid.encode()
            head = "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n" % len(body)
            if not keep_alive:
                head += "Connection: close\r\n"
            conn.sendall(head.encode() + b"\r\n" + (b"" if method == "HEAD" else body))
            answered += 1
            if not keep_alive:
                return
            if self.args.close_after and answered >= self.args.close_after:
                return

    def read_request(self, conn, buf):
        """(method, headers, keep_alive, rest of buf), or None to close."""
        idle_limit = self.args.idle_close_ms / 1000.0
        idle_since = time.monotonic()
        while b"\r\n\r\n" not in buf:
            if len(buf) > HEAD_MAX:
                return None
            if idle_limit and not buf:
                left = idle_since + idle_limit - time.monotonic()
                if left <= 0:
                    return None
                conn.settimeout(left)
            else:
                conn.settimeout(None)
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                return None
            if not chunk:
                return None
            buf += chunk
        conn.settimeout(None)
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return None
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length", "0") or "0")
        except ValueError:
            return None
        while len(buf) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            buf += chunk
        buf = buf[length:]
        connection = headers.get("connection", "").lower()
        if parts[2] == "HTTP/1.0":
            keep_alive = "keep-alive" in connection
        else:
            keep_alive = "close" not in connection
        return parts[0], headers, keep_alive, buf

    # ---- listening -----------------------------------------------------

    def listen(self, port):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("127.0.0.1", port))
        srv.listen(128)
        return srv

    def listen_again(self, port):
        """The same port after a refusal window; bounded, loud if it fails."""
        for _ in range(200):
            try:
                return self.listen(port)
            except OSError as e:
                error = e
                time.sleep(0.01)
        print("fault_server: cannot listen on %d again: %s" % (port, error), file=sys.stderr)
        raise SystemExit(1)

    def run(self):
        srv = self.listen(self.args.port)
        port = srv.getsockname()[1]
        tmp = self.args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, self.args.port_file)
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        end = time.monotonic() + self.args.lifetime_s
        while not self.stopping and time.monotonic() < end:
            ready, _, _ = select.select([srv, wake_r], [], [], 1.0)
            if wake_r in ready:
                os.read(wake_r, 512)
            if self.refuse_requested:
                self.refuse_requested = False
                srv.close()
                self.say("REFUSING")
                time.sleep(self.args.refuse_window_ms / 1000.0)
                srv = self.listen_again(port)
                self.say("LISTENING")
                continue
            if srv not in ready:
                continue
            try:
                conn, _ = srv.accept()
            except OSError:
                continue    # the connection was reset while queued
            self.conn_count += 1
            self.say("ACCEPT %d" % self.conn_count)
            threading.Thread(target=self.serve, args=(conn, self.conn_count),
                             daemon=True).start()
        srv.close()


def reset(conn):
    """Close with RST instead of FIN: linger on, timeout zero."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def main():
    args = parse_args()
    server = Server(args)

    def on_usr1(signo, frame):
        server.refuse_requested = True

    def on_term(signo, frame):
        server.stopping = True

    signal.signal(signal.SIGUSR1, on_usr1)
    signal.signal(signal.SIGTERM, on_term)
    server.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())

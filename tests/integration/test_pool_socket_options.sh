#!/usr/bin/env bash
# Socket options real runtimes set before connect do not keep a socket out
# of the pool, and those that do are named and counted.
#
# Java (and .NET) make every client socket dual-stack: AF_INET6 with
# IPV6_V6ONLY cleared, connected to ::ffff:a.b.c.d for an IPv4 server.
# Here a python client does the same, with the keep-alive knobs, address
# reuse, a traffic class and linger that runtimes set too, the values
# changing from one request to the next so that each checkout has to set
# them: nginx must see one connection, and the kernel must report the
# program's values on every socket.  Then a client that sets an option
# sockpool cannot carry (TCP_NOTSENT_LOWAT) is not pooled (nginx sees every
# connection), sockpool says so once at info level naming the option, and
# sockpool-stat and the launcher's summary count it.
source "$(dirname "$0")/lib.sh"

nginx_start
body="$DOCROOT/index.html"
/usr/bin/python3 -c 'import socket; socket.socket(socket.AF_INET6).close()' 2> /dev/null ||
	skip "no IPv6 sockets here"

cat > "$WORK/dual_stack.py" <<'PY'
import http.client, socket, struct, sys
port, n, body = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
class DualStack(http.client.HTTPConnection):
    def connect(self):
        s = socket.socket(socket.AF_INET6)
        want = {
            (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY): 0,
            (socket.SOL_SOCKET, socket.SO_REUSEADDR): 1,
            (socket.SOL_SOCKET, socket.SO_KEEPALIVE): 1,
            (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE): 30 + self.round % 2,
            (socket.IPPROTO_TCP, socket.TCP_KEEPINTVL): 5 + self.round % 3,
            (socket.IPPROTO_TCP, socket.TCP_KEEPCNT): 3,
            (socket.IPPROTO_IPV6, socket.IPV6_TCLASS): 0x20 if self.round % 2 else 0,
        }
        for (level, name), value in want.items():
            s.setsockopt(level, name, value)
        linger = struct.pack("ii", 1, 5 + self.round % 2)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.connect(("::ffff:127.0.0.1", self.port))
        for (level, name), value in want.items():
            got = s.getsockopt(level, name)
            assert got == value, ("round", self.round, level, name, got, value)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_LINGER, 8) == linger, self.round
        self.sock = s
for i in range(n):
    c = DualStack("127.0.0.1", port)
    c.round = i
    c.request("GET", "/index.html")
    assert c.getresponse().read() == body, i
    c.close()
PY

before=$(nginx_accepts)
/usr/bin/python3 "$WORK/dual_stack.py" "$NGINX_PORT" 20 "$body" || fail "dual-stack client, plain"
assert_eq "dual-stack client without sockpool: connections for 20 requests" 20 \
	$(( $(nginx_accepts) - before ))
before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 "$WORK/dual_stack.py" "$NGINX_PORT" 20 "$body" ||
	fail "dual-stack client under sockpool"
assert_eq "dual-stack client under sockpool: connections for 20 requests" 1 \
	$(( $(nginx_accepts) - before ))

# An option sockpool cannot carry: seen, said once, counted.
cat > "$WORK/lowat.py" <<'PY'
import http.client, socket, sys
port, n, body = int(sys.argv[1]), int(sys.argv[2]), open(sys.argv[3], "rb").read()
class LowWater(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.IPPROTO_TCP, 25, 16384)   # TCP_NOTSENT_LOWAT
        self.sock.connect((self.host, self.port))
for i in range(n):
    c = LowWater("127.0.0.1", port)
    c.request("GET", "/index.html")
    assert c.getresponse().read() == body, i
    c.close()
PY
mkdir "$WORK/stats"
before=$(nginx_accepts)
SOCKPOOL_LOG=info SOCKPOOL_STATS_DIR="$WORK/stats" SOCKPOOL_STATS_KEEP=1 \
	LD_PRELOAD="$SHIM_PRELOAD" /usr/bin/python3 "$WORK/lowat.py" "$NGINX_PORT" 10 "$body" \
	2> "$WORK/lowat.err" || fail "TCP_NOTSENT_LOWAT client: $(cat "$WORK/lowat.err")"
assert_eq "TCP_NOTSENT_LOWAT client: connections for 10 requests (not pooled)" 10 \
	$(( $(nginx_accepts) - before ))
cat "$WORK/lowat.err"
assert_eq "info lines naming TCP_NOTSENT_LOWAT" 1 \
	"$(count_lines 'info: .*not pooled: the program set socket option IPPROTO_TCP TCP_NOTSENT_LOWAT' "$WORK/lowat.err")"
"$BUILD/sockpool-stat" --dir "$WORK/stats" --json > "$WORK/stats.json"
/usr/bin/python3 - "$WORK/stats.json" "$NGINX_PORT" <<'PY' || fail "sockpool-stat --json does not count it"
import json, sys
doc = json.load(open(sys.argv[1]))
(proc,) = doc["processes"]
(dest,) = [d for d in proc["destinations"] if d["port"] == int(sys.argv[2])]
assert dest["not_pooled_option"] == 10 and proc["totals"]["not_pooled_option"] == 10, dest
assert dest["conns_opened"] == 0 and dest["conns_reused"] == 0, dest
print("sockpool-stat --json: not_pooled_option", dest["not_pooled_option"])
PY
"$BUILD/sockpool-stat" --dir "$WORK/stats" --once > "$WORK/stats.txt"
grep -q '^  10 connections not pooled: the program set a socket option' "$WORK/stats.txt" ||
	fail "the view does not say it: $(cat "$WORK/stats.txt")"
"$BUILD/sockpool" --summary -- /usr/bin/python3 "$WORK/lowat.py" "$NGINX_PORT" 3 "$body" \
	2> "$WORK/summary.err" || fail "under --summary: $(cat "$WORK/summary.err")"
cat "$WORK/summary.err"
grep -q ', 3 not pooled for a socket option' "$WORK/summary.err" ||
	fail "the summary does not say it"
echo "ok: dual-stack sockets with the usual options are pooled; an option that is not carried is named and counted"

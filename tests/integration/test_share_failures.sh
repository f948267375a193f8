#!/usr/bin/env bash
# The shared pool when things go wrong: a child killed while it holds a
# socket, the broker killed mid-run, a peer of another uid, a server that
# closes the sockets the broker holds, a connection that carried
# Authorization.  No error may reach a program; nothing may hang (every
# run is bounded by timeout).
source "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "no curl"
nginx_start "keepalive_timeout 1s;"
url="http://127.0.0.1:$NGINX_PORT/index.html"
sock=$WORK/broker/sock
export SOCKPOOL_BROKER=$sock
"$BUILD/sockpool-broker" --socket "$sock" --daemon --persist 30000
broker_pid() { fuser "$sock.lock" 2>/dev/null | tr -d ' '; }
at_exit sh -c "kill \$(fuser $sock.lock 2>/dev/null) 2>/dev/null; true"
shim() { LD_PRELOAD=$SHIM_PRELOAD timeout 20 "$@"; }
loop() {	# runs: curl processes, errors counted into $WORK/errors
	local errors=0
	for _ in $(seq "$1"); do
		shim curl -s "$url" > "$WORK/body" && cmp -s "$WORK/body" "$DOCROOT/index.html" ||
			errors=$((errors + 1))
	done
	echo "$errors" > "$WORK/errors"
}

# The witness: shared, 20 processes take one connection.
before=$(nginx_accepts)
loop 20
assert_eq "errors, shared" 0 "$(cat "$WORK/errors")"
assert_le "connections for 20 shared runs" 2 $(( $(nginx_accepts) - before ))

# A child killed with the socket in hand: given, not lent, so nothing to
# give back; the next processes go on.
shim curl -s --limit-rate 1k "http://127.0.0.1:$NGINX_PORT/body_16k.bin" -o /dev/null &
pid=$!
sleep 0.3
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
loop 5
assert_eq "errors after a killed child" 0 "$(cat "$WORK/errors")"

# The server closes what the broker holds (keepalive_timeout 1s): the
# broker drops it (EPOLLRDHUP), and no program sees an error.
broker_dropped() {
	"$BUILD/sockpool-stat" --json --dir "$SOCKPOOL_STATS_DIR" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(p["totals"]["broker_dropped"] for p in d["processes"] if p["program"] == "sockpool-broker"))'
}
broker_dropped_some() { [ "$(broker_dropped)" -ge 1 ]; }
loop 3
# Waited for, not slept: the broker drops what nginx closed after 1 s.
wait_for "the broker to drop the socket nginx closed" broker_dropped_some
before=$(nginx_accepts)
loop 5
assert_eq "errors after the server closed the held sockets" 0 "$(cat "$WORK/errors")"
assert_ge "a new connection once the held one was closed" 1 $(( $(nginx_accepts) - before ))

# A request with Authorization: its connection never reaches the broker.
# (Without that rule the next process would take it: 0 connections.)
loop 1
shim curl -s -H 'Authorization: NTLM TlRMTVNTUAABAAAA' "$url" -o /dev/null
before=$(nginx_accepts)
loop 1
assert_eq "connections after one that carried Authorization" 1 $(( $(nginx_accepts) - before ))

# Another uid: refused, and gets no socket.  Effective uid nobody with
# fs uid kept (so the path is reachable and SO_PEERCRED is what stops it).
if [ "$(id -u)" -eq 0 ]; then
	loop 1
	python3 - "$sock" <<'PY' || fail "a peer of another uid was given a socket"
import ctypes, os, socket, struct, sys
key = struct.pack("=HHI16s", socket.AF_INET, int(os.environ["NGINX_PORT"]), 0,
                  socket.inet_aton("127.0.0.1"))
msg = struct.pack("=II", 0x31425053, 2) + key + struct.pack("=IIQII", 0, 0, 0, 0, 0)
def ask(as_nobody):
    if as_nobody:
        os.setresuid(65534, 65534, 0)
        ctypes.CDLL(None).setfsuid(0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    s.connect(sys.argv[1])
    try:
        s.send(msg)
        data, fds, _, _ = socket.recv_fds(s, 256, 4)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        return 0	# refused: the broker closed on us
    return len(fds)
pid = os.fork()
if pid == 0:
    os._exit(10 + ask(True))
_, status = os.waitpid(pid, 0)
got_nobody = os.waitstatus_to_exitcode(status) - 10
got_self = ask(False)
print(f"ok: same uid got {got_self} socket(s), uid 65534 got {got_nobody}")
sys.exit(0 if got_nobody == 0 and got_self == 1 else 1)
PY
else
	echo "SKIP part: another uid needs root"
fi

# The broker killed mid-run: every process falls back to its own pool,
# says so once, and no request fails.
kill -9 "$(broker_pid)"
before=$(nginx_accepts)
loop 10
assert_eq "errors with the broker killed" 0 "$(cat "$WORK/errors")"
assert_eq "connections with the broker killed (a pool per process again)" 10 \
	$(( $(nginx_accepts) - before ))
shim curl -s "$url" -o /dev/null 2> "$WORK/stderr"
assert_eq "lines said by a process that found no broker" 1 "$(wc -l < "$WORK/stderr")"
echo "ok: shared pool failures: $(cat "$WORK/stderr")"

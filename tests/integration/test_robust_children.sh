#!/usr/bin/env bash
# Children that share the program's memory or inherit its sockets.
#
# Python 3.10+ makes subprocess.run's child with vfork: it runs in the
# parent's memory and closes every fd above 2 (close_range) there.  That
# must not touch the parent's pool or connections: rounds of requests with
# a subprocess.run between them stay pooled (nginx's accepts), and nothing
# leaks (the sockets in /proc/PID/fd, the CLOSE_WAIT sockets ss finds once
# nginx has closed its side).  The same from C, with vfork + close_range +
# _exit or execve.  A child made with posix_spawn that gets a managed socket
# (dup2'd onto its stdin by a file action, or inherited without
# FD_CLOEXEC) holds that socket: the parent must not pool it, and a new
# connection is made for the next request; with FD_CLOEXEC (the control)
# the child gets nothing and the socket is pooled.
source "$(dirname "$0")/lib.sh"

nginx_start
body=$DOCROOT/index.html
len=$(stat -c %s "$body")
rounds=5

# ---- Python: requests.get x4 + subprocess.run, 5 rounds ----
# One idle socket per destination at most: the program may hold one more
# (requests closes its last connection only when it is collected).
before=$(nginx_accepts)
coproc CLIENT { SOCKPOOL_MAX_IDLE_PER_DEST=1 "$BUILD/sockpool" -- /usr/bin/python3 \
	"$LIB_DIR/clients/subprocess_rounds.py" "http://127.0.0.1:$NGINX_PORT/index.html" \
	"$rounds" 4 "$body" 2>&1; }
bg_track "$CLIENT_PID"
client_pid=$CLIENT_PID
read -r -t 60 report <&"${CLIENT[0]}" || fail "the python client said nothing"
echo "python client: $report"
[[ $report =~ ^sockets\ ([0-9]+)\ pid\ ([0-9]+)$ ]] || fail "python client: $report"
sockets=${BASH_REMATCH[1]} pid=${BASH_REMATCH[2]}
accepts=$(( $(nginx_accepts) - before ))
assert_le "python: connections for $rounds rounds of 4 GETs and a subprocess.run" \
	$(( rounds - 1 )) "$accepts"
assert_le "python: sockets open in the process (/proc/$pid/fd)" 2 "$sockets"
# nginx closes every idle connection when it stops: what the process still
# holds goes to CLOSE_WAIT, leaked or not.
nginx_stop
owned() {	# state: the process's TCP sockets in that state
	ss -Htanp state "$1" | grep -c "pid=$pid," || true
}
no_established() { [ "$(owned established)" -eq 0 ]; }
wait_for "nginx to close the python client's connections" no_established
assert_le "python: sockets in CLOSE_WAIT (ss)" 2 "$(owned close-wait)"
echo done >&"${CLIENT[1]}"
bg_wait "$client_pid" || fail "the python client failed"

# ---- C: vfork children, and posix_spawn ----
nginx_start
run() {	# mode rounds: prints the client's output; fails when it did
	local out
	out=$("$BUILD/sockpool" -- "$BUILD/clients/children_client" "$1" "$NGINX_PORT" \
		/index.html "$len" "$2" 2>&1) || fail "$1: the client failed: $out"
	echo "$out" | sed "s/^/$1: /" >&2
	echo "$out"
}
for mode in vfork-exit vfork-exec; do
	before=$(nginx_accepts)
	out=$(run "$mode" "$rounds")
	assert_le "$mode: connections for $rounds rounds of 4 requests and a vfork" \
		1 $(( $(nginx_accepts) - before ))
	assert_le "$mode: sockets left open (/proc/self/fd)" 1 "$(sed -n 's/^sockets //p' <<< "$out")"
done
for mode in spawn-dup2 spawn-inherit spawn-cloexec; do
	before=$(nginx_accepts)
	run "$mode" 5 > /dev/null
	accepts=$(( $(nginx_accepts) - before ))
	if [ "$mode" = spawn-cloexec ]; then
		assert_eq "$mode: connections (the child gets no socket: pooled)" 1 "$accepts"
	else
		assert_eq "$mode: connections (the child holds the first: not pooled)" 2 "$accepts"
	fi
done

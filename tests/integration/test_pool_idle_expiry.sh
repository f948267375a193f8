#!/usr/bin/env bash
# SOCKPOOL_IDLE_TIMEOUT_MS holds whatever the program does next.  Before,
# it was enforced only when the program next used the same destination:
# a program that moved on to another server, or went quiet, kept its idle
# sockets (in CLOSE_WAIT once the server gave up on them) for as long as
# it lived.  Now any pool activity expires them, and a program that makes
# no call at all has them closed by sockpool's reaper (src/core/reaper.h).
#
# The witness is the kernel: the sockets a process holds, from
# /proc/PID/fd and `ss -p` (any state, CLOSE_WAIT included), and nginx's
# side of the connections.  nginx closes idle connections after 1 s here,
# so a socket the program still held after that would sit in CLOSE_WAIT.
source "$(dirname "$0")/lib.sh"

client=$LIB_DIR/clients/idle_then_quiet.py
timeout_300=(env SOCKPOOL_IDLE_TIMEOUT_MS=300 "$BUILD/sockpool" --)

nginx_start "keepalive_timeout 1s;"
fault_server_start b

# Sockets pid holds to port, in any state (TIME_WAIT has no owner).
sockets_of_to() {	# pid port
	ss -Htanp "( dport = :$2 )" | grep -c "pid=$1," || true
}

socket_fds_of() {	# pid
	find "/proc/$1/fd" -lname 'socket:*' 2> /dev/null | wc -l
}

# The client still runs (in its pause) and holds no socket at all.
quiet_and_closed() {	# pid port
	_lib_alive "$1" && [ "$(sockets_of_to "$1" "$2")" -eq 0 ] &&
		[ "$(socket_fds_of "$1")" -eq 0 ]
}

# 1. Requests to A, then to B after A's sockets expired.
out=$("${timeout_300[@]}" /usr/bin/python3 "$client" "$NGINX_PORT" 0.6 b "$FAULT_PORT")
assert_eq "A's sockets pooled after the requests to A" "held A=3" "$(sed -n 1p <<< "$out")"
assert_eq "after the requests to B, 0.6 s later" "held A=0 B=1" "$(sed -n 2p <<< "$out")"
# Control: the same with a long timeout keeps A's sockets (the witness sees them).
out=$(env SOCKPOOL_IDLE_TIMEOUT_MS=60000 "$BUILD/sockpool" -- \
	/usr/bin/python3 "$client" "$NGINX_PORT" 0.6 b "$FAULT_PORT")
assert_eq "control, idle timeout 60 s: after the requests to B" "held A=3 B=1" \
	"$(sed -n 2p <<< "$out")"

# 2. Requests, then 3 s of sleep: the idle sockets go within the sleep.
quiet_run() {	# label, client args after the port...
	local label=$1 pid
	shift
	"${timeout_300[@]}" /usr/bin/python3 "$client" "$NGINX_PORT" 3 "$@" > "$WORK/$label.out" &
	bg_track $!
	wait_for "$label: the client to make its requests" grep -q '^sleeping$' "$WORK/$label.out"
	pid=$(sed -n 's/^child //p' "$WORK/$label.out")
	if [ -n "$pid" ]; then
		bg_track "$pid"	# a fork child: stopped at cleanup too
	else
		pid=$!
	fi
	assert_eq "$label: sockets pooled after the requests" "held A=3" \
		"$(grep '^held' "$WORK/$label.out")"
	wait_for "$label: no socket held by the sleeping client (pid $pid)" \
		quiet_and_closed "$pid" "$NGINX_PORT"
	echo "ok: $label: the sleeping client holds no socket, in any state"
	wait_for "$label: nginx's side of the connections closed" \
		test "$(ss -Htn state established "( sport = :$NGINX_PORT )" | wc -l)" -eq 0
	echo "ok: $label: nginx holds no connection from it"
	bg_wait $! || fail "$label: the client failed: $(cat "$WORK/$label.out")"
}
quiet_run quiet
# The same in a child after fork(): its pool has its own reaper.
quiet_run fork-child fork
echo "ok: idle sockets expire on any activity, and while the program sleeps"

#!/usr/bin/env bash
# A refused connect to a destination that never accepted a connection in
# the process is an answer (nothing listens there), not a restart: it
# reaches the program at once, so a port probe is not slowed down and a
# client with a second address falls back to it at once.  Before, every
# such refusal was retried for the whole retry schedule (curl to a closed
# port took 0.9 s instead of 30 ms; [::1] then 127.0.0.1 cost 0.8 s more).
#
# No timing is measured: sockpool runs with settings under which a single
# retry pauses 30 to 60 s, and every case must end within 10 s.  A
# refusal that sockpool retried shows as a timeout.  The control case
# "answered" proves those settings do make a retry that slow: a
# destination that accepted a connection before and then refuses is
# still retried (the restart case), and must hit the time limit.
# The same cases without sockpool show what the program expects.
source "$(dirname "$0")/lib.sh"

client=$LIB_DIR/clients/refusal_answers.py
slow_retries=(env SOCKPOOL_STATS=0 SOCKPOOL_RETRIES=100 SOCKPOOL_RETRY_DEADLINE_MS=600000
	SOCKPOOL_BACKOFF_BASE_MS=60000 SOCKPOOL_BACKOFF_MAX_MS=60000)
under_sockpool=("${slow_retries[@]}" "$BUILD/sockpool" --)

fault_server_start http	# 127.0.0.1 only
closed=$(free_port)

v6=$(python3 -c 'import socket
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0)); print(1)
except OSError:
    print(0)')
cases=(blocking timeout nonblocking)
[ "$v6" = 1 ] && cases+=(fallback) || echo "note: no IPv6 loopback here: fallback not tried"

# curl hangs with a sanitizer runtime preloaded, even without sockpool
# (see the Makefile's integration-sanitize): left out of that pass.
with_curl=1
[ -z "$PRELOAD_FIRST" ] || { with_curl=0; echo "note: sanitizer build: curl not run"; }

port_for() {	# case
	if [ "$1" = fallback ]; then echo "$FAULT_PORT"; else echo "$closed"; fi
}

for how in plain sockpool; do
	launcher=()
	[ "$how" = sockpool ] && launcher=("${under_sockpool[@]}")
	for c in "${cases[@]}"; do
		status=0
		timeout 10 "${launcher[@]}" /usr/bin/python3 "$client" "$c" "$(port_for "$c")" ||
			status=$?
		[ "$status" -ne 124 ] || fail "$how: $c: still running after 10 s: the refusal was retried"
		assert_eq "$how: $c: exit status" 0 "$status"
	done

	[ "$with_curl" = 1 ] || continue
	# curl: a closed port (libcurl's non-blocking connect, poll, SO_ERROR).
	status=0
	timeout 10 "${launcher[@]}" curl -sS -o /dev/null "http://127.0.0.1:$closed/" 2> "$WORK/curl.err" ||
		status=$?
	[ "$status" -ne 124 ] || fail "$how: curl to a closed port: still running after 10 s"
	assert_eq "$how: curl to a closed port: exit status (7: could not connect)" 7 "$status"

	# curl: a name with [::1] and 127.0.0.1, only IPv4 listening.
	if [ "$v6" = 1 ]; then
		status=0
		timeout 10 "${launcher[@]}" curl -sS -o "$WORK/both.body" \
			--resolve "both.test:$FAULT_PORT:[::1],127.0.0.1" "http://both.test:$FAULT_PORT/both" ||
			status=$?
		[ "$status" -ne 124 ] || fail "$how: curl via [::1] then 127.0.0.1: still running after 10 s"
		assert_eq "$how: curl via [::1] then 127.0.0.1: exit status" 0 "$status"
	fi
done
assert_ge "requests the server answered (fallbacks of python and curl)" \
	$(( v6 == 1 ? 2 + 2 * with_curl : 0 )) "$(count_lines '^PROCESSED ' "$FAULT_LOG")"

# The control: with these settings a retried refusal outlasts the limit.
status=0
timeout 3 "${under_sockpool[@]}" /usr/bin/python3 "$client" answered "$closed" || status=$?
assert_eq "control: a refusal from a destination that answered before is retried (timeout)" \
	124 "$status"
status=0
timeout 10 /usr/bin/python3 "$client" answered "$closed" || status=$?
assert_eq "control without sockpool: refused at once" 0 "$status"
fault_server_check
echo "ok: refusals from places that never answered reach the program at once"

#!/usr/bin/env bash
# Refused connects of non-blocking programs.  The fault server closes its
# listening socket for 250 ms in the middle of a run (as in
# test_retry_refused_window) and closes every connection after one answer,
# so every request needs a new connect.  The client is an event-loop
# program each time, learning how its connect went in one of the
# ways such programs do (clients/paced_client.py --io):
#   timeout        http.client with a timeout: poll, then SO_ERROR
#   epoll          epoll, then the first send's error (no SO_ERROR)
#   epoll-connect  epoll, then connect() again (APR's way)
#   epoll-close    epoll, then the send's error, the request asking the
#                  server to close (so the send goes through the rewrite)
# Proves that under sockpool each of them gets through the window with
# every GET answered once: the failed connect is retried where the program
# learns of it, and the program is told it is connected only once a new
# connection is.  As in the blocking test, a connect the kernel
# completed into the backlog just before the listening socket closed is
# reset after the request went out; a non-blocking program gets that reset
# (nothing is replayed for it), at most 2 per run.
#
# The controls, without sockpool, show the refusals reach each program.
# Last, clients/connect_truth.py checks that what programs build on a
# connect's outcome (port probes, falling back to the next address, poll
# then SO_ERROR) is unchanged under sockpool.
source "$(dirname "$0")/lib.sh"

client=$LIB_DIR/clients/paced_client.py
# COUNT GETs 10-20 ms apart in the I/O style given, the refusal window
# opened after 30.
run_across_window() {	# io, results file, count, [sockpool --]
	local io=$1 results=$2 count=$3
	shift 3
	run_across_refusal_window 30 "$@" /usr/bin/python3 "$client" --port "$FAULT_PORT" \
		--io "$io" --count "$count" --pace-ms 10-20 --results "$results"
}

requests=80
for io in timeout epoll epoll-connect epoll-close; do
	fault_server_start "$io" --refuse-window-ms 250 --close-after 1
	run_across_window "$io" "$WORK/$io.results" "$requests" "$BUILD/sockpool" --
	assert_eq "$io: requests made" "$requests" "$(wc -l < "$WORK/$io.results")"
	errors=0
	while read -r id _ kind _; do
		errors=$(( errors + 1 ))
		[ "$kind" = "ConnectionResetError:" ] ||
			fail "$io: $id: an error other than a backlog reset: $kind"
	done < <(grep ' error ' "$WORK/$io.results" || true)
	assert_le "$io: requests reset in the listen backlog as the window opened" 2 "$errors"
	processed=$(grep '^PROCESSED ' "$FAULT_LOG" | awk '{ print $3 }' | sort | uniq -c)
	assert_eq "$io: requests the server processed" $(( requests - errors )) \
		"$(wc -l <<< "$processed")"
	assert_eq "$io: requests the server processed more than once" 0 \
		"$(awk '$1 > 1' <<< "$processed" | wc -l)"
	assert_ge "$io: requests processed after the window" 1 \
		"$(sed -n '/^LISTENING$/,$p' "$FAULT_LOG" | grep -c '^PROCESSED ' || true)"

	fault_server_start "$io-control" --refuse-window-ms 250 --close-after 1
	run_across_window "$io" "$WORK/$io.control" 60
	assert_ge "$io control: requests refused without sockpool" 1 \
		"$(count_lines ' error ConnectionRefusedError' "$WORK/$io.control")"
done

# What programs build on a connect's outcome stays true: retries happen
# underneath, and a connect that finally failed is still reported as
# failed (a closed port stays closed, the next address is tried).
fault_server_start truth
"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/connect_truth.py" \
	"$FAULT_PORT" "$(free_port)" || fail "a connect's outcome changed under sockpool"
echo "ok: event-loop programs get through a refusal window, each GET answered once"

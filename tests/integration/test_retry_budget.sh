#!/usr/bin/env bash
# The retry budget: a server that resets every request without processing
# it is not hammered.  100 GETs, one thread, under sockpool: every one ends
# in an error for the program, promptly, and the requests the server
# received stay within the budget.  Proves the budget by what the server
# counted, not by sockpool's counters.
#
# The budget allows a retry while the retries of the last ~10 s number
# fewer than a floor of 10 (BUDGET_FLOOR in src/core/budget.h) plus
# SOCKPOOL_RETRY_BUDGET_PERCENT % of its requests.  The run takes well
# under 10 s, so one window holds it all: 100 requests allow 10 + 20 = 30
# retries, and the server receives at most 100 + 30.  The bound below
# also covers the other reading of "requests" the rule allows: if the
# retries counted among the requests, r < 10 + 0.2 (100 + r) gives
# r <= 37; plus 1 for a limit checked before or after counting the retry.
# With a budget of 0 % only the floor is left: 100 + 10, slack 1.
#
# Each request of this run is on a fresh connection (the server never
# leaves one to pool), and sockpool replays an idempotent request that
# failed before its answer on fresh connections too: at least one retry
# must show, or the test proves nothing about the budget.
source "$(dirname "$0")/lib.sh"

requests=100
floor=10	# BUDGET_FLOOR
# With P %: r < floor + P/100 (requests + r), so r < (floor + P/100
# requests) / (1 - P/100); plus 1 for the order of check and count.
most_received() {	# percent
	echo $(( requests + (floor + requests * $1 / 100) * 100 / (100 - $1) + 1 ))
}

# Runs the 100 GETs against a new server that resets everything; sets
# RECEIVED to the requests that server received.
run_all_reset() {	# name, [environment settings...]
	local name=$1 start took
	shift
	fault_server_start "$name" --reset-unprocessed 1
	start=$(date +%s%N)
	env "$@" "$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/paced_client.py" \
		--port "$FAULT_PORT" --count "$requests" --results "$WORK/$name.results"
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	fault_server_check
	RECEIVED=$(count_lines '^RESET-UNPROCESSED ' "$FAULT_LOG")
	echo "$name: took $took ms, the server received $RECEIVED requests"
	assert_eq "$name: requests that ended in an error" "$requests" \
		"$(count_lines '^[^ ]+ error ' "$WORK/$name.results")"
	assert_eq "$name: requests the server processed" 0 "$(count_lines '^PROCESSED ' "$FAULT_LOG")"
	# Promptly: once the budget is spent a request costs one attempt, and
	# before that at most 38 retries wait at most 250 ms each: 10 s.  20 s
	# is no speed target, it says that errors are not held back.
	assert_le "$name: milliseconds until the program had all its errors" 20000 "$took"
}

run_all_reset budget20
received20=$RECEIVED
assert_ge "requests the server received, budget 20 % (some were retried)" \
	$(( requests + 1 )) "$received20"
assert_le "requests the server received, budget 20 %" "$(most_received 20)" "$received20"

run_all_reset budget0 SOCKPOOL_RETRY_BUDGET_PERCENT=0
assert_ge "requests the server received, budget 0 % (the floor was used)" \
	$(( requests + 1 )) "$RECEIVED"
assert_le "requests the server received, budget 0 %" "$(most_received 0)" "$RECEIVED"
assert_ge "requests the server received, budget 20 % against 0 % (the share was used)" \
	$(( RECEIVED + 1 )) "$received20"
echo "ok: a server that resets everything gets its errors back promptly, within the budget"

#!/usr/bin/env bash
# A socket idle for less than 250 ms goes back to a blocking program
# without the pool's liveness look (one system call less per request).
# What a server may have done meanwhile must still cost the program
# nothing: here it closes every connection idle for 100 ms, and the client
# waits 150-200 ms between requests, so every pooled socket it gets back
# was closed by the server.  GETs are replayed on a new connection; a
# POST is never sent on such a socket: sockpool looks at it before the
# first non-idempotent request.  Judged by the fault server's log: every
# request processed exactly once, no error reached the program.
source "$(dirname "$0")/lib.sh"

requests=12
for method in GET POST; do
	fault_server_start "idle-$method" --seed 1 --idle-close-ms 100
	"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/paced_client.py" \
		--port "$FAULT_PORT" --count "$requests" --pace-ms 150-200 --method "$method" \
		--id-prefix "$method" --results "$WORK/results-$method"
	fault_server_check
	assert_results_ok "$method, every pooled socket closed by the server" "$requests" \
		"$WORK/results-$method"
	assert_eq "$method: requests the server processed (each once)" "$requests" \
		"$(grep "^PROCESSED $method " "$FAULT_LOG" | awk '{ print $3 }' | sort | uniq | wc -l)"
	assert_eq "$method: requests processed more than once" 0 \
		"$(grep "^PROCESSED $method " "$FAULT_LOG" | awk '{ print $3 }' | sort | uniq -d | wc -l)"
done

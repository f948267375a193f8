#!/usr/bin/env bash
# The idle race: the server closes a connection that has been idle 100 ms,
# and the client pauses 80-120 ms between requests, so the server often
# closes a pooled connection just as it is used.  The client connects 5 ms
# before it sends (as a program that connects, then prepares its request),
# so the close can fall between sockpool's check of the pooled socket and
# the request: about one request in eight meets a connection the server
# closed.  Proves that under sockpool no GET fails (such a request is
# replayed on a fresh connection, and the pool learns the server's idle
# timeout), while connections are still reused when the gap allows: the
# server accepts fewer connections than requests.
#
# Without sockpool each request has its own connection (no error, but no
# reuse: 60 connections); pooling without replay loses about 8 of the 60.
source "$(dirname "$0")/lib.sh"

requests=60
fault_server_start idle --seed 1 --idle-close-ms 100
"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/paced_client.py" \
	--port "$FAULT_PORT" --count "$requests" --pace-ms 80-120 --connect-early-ms 5 \
	--results "$WORK/results"

fault_server_check
accepted=$(count_lines '^ACCEPT ' "$FAULT_LOG")
processed=$(grep '^PROCESSED ' "$FAULT_LOG" | awk '{ print $3 }' | sort -u | wc -l)
echo "requests=$requests connections=$accepted reused=$(( requests - accepted ))"
assert_results_ok "GETs paced 80-120 ms, server idle timeout 100 ms" "$requests" "$WORK/results"
assert_eq "requests the server processed" "$requests" "$processed"
assert_le "connections the server accepted (fewer than the requests: reuse)" \
	$(( requests - 1 )) "$accepted"
echo "ok: the idle race costs no GET, and reuse goes on"

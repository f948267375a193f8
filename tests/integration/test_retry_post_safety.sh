#!/usr/bin/env bash
# POSTs are never applied twice.  The server closes connections idle for
# 100 ms (the client pauses 80-120 ms, and connects 5 ms before sending, so
# the close can cross a request) and, with probability 0.05, processes a
# request and then resets the connection without answering.  Proves that
# under sockpool:
#   - no request id is processed twice (a POST that was written is never
#     replayed, whatever happened to its connection);
#   - every request the server processed and reset reaches the program as
#     an error (nothing hides it);
#   - the program sees no other error, but for at most 2 while the pool
#     learns the server's idle timeout (after that a POST goes on a reused
#     connection only if it is young, otherwise on a fresh one).
# Pooling POSTs like GETs, without that rule, fails here: about one POST
# in eight meets a connection the server closed, an error the server
# never caused.
source "$(dirname "$0")/lib.sh"

requests=100
fault_server_start post --seed 3 --idle-close-ms 100 --reset-after-process 0.05
"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/paced_client.py" \
	--port "$FAULT_PORT" --method POST --count "$requests" --pace-ms 80-120 \
	--connect-early-ms 5 --results "$WORK/results"
fault_server_check

grep -E '^[^ ]+ error ' "$WORK/results" | awk '{ print $1 }' | sort > "$WORK/error_ids"
grep '^RESET-AFTER ' "$FAULT_LOG" | awk '{ print $2 }' | sort > "$WORK/reset_ids"
grep '^PROCESSED ' "$FAULT_LOG" | awk '{ print $3 }' | sort | uniq -d > "$WORK/twice_ids"
echo "requests=$requests errors=$(wc -l < "$WORK/error_ids")" \
	"processed-then-reset=$(wc -l < "$WORK/reset_ids")" \
	"connections=$(count_lines '^ACCEPT ' "$FAULT_LOG")"
assert_eq "requests made" "$requests" "$(wc -l < "$WORK/results")"
assert_ge "requests the server processed and then reset (the fault happened)" 1 \
	"$(wc -l < "$WORK/reset_ids")"
if [ -s "$WORK/twice_ids" ]; then
	fail "requests processed twice: $(tr '\n' ' ' < "$WORK/twice_ids")"
fi
echo "ok: no request was processed twice"
hidden=$(comm -23 "$WORK/reset_ids" "$WORK/error_ids")
[ -z "$hidden" ] || fail "processed and reset, yet no error for the program: $hidden"
echo "ok: every request the server processed and reset is an error for the program"
other=$(comm -13 "$WORK/reset_ids" "$WORK/error_ids")
[ -z "$other" ] || grep -F -f <(echo "$other" | sed 's/$/ /') "$WORK/results" >&2
assert_le "errors the server did not cause" 2 "$(grep -c . <<< "$other" || true)"
echo "ok: POSTs are never applied twice, and fail only when the server made them"

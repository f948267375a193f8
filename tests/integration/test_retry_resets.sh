#!/usr/bin/env bash
# A server that resets one request in ten without processing it (RST, no
# answer).  Proves that under sockpool GETs never fail, from two threads
# at once: each reset request is replayed on a fresh connection, and the
# server processed every request (it never saw one of them twice, as it
# never processes a request it resets).
#
# The control, without sockpool, shows the faults reach a program that
# has no shim: exactly the requests the server reset fail.
source "$(dirname "$0")/lib.sh"

client=$LIB_DIR/clients/paced_client.py

requests=300
fault_server_start resets --seed 2 --reset-unprocessed 0.1
"$BUILD/sockpool" -- /usr/bin/python3 "$client" --port "$FAULT_PORT" \
	--count "$requests" --threads 2 --results "$WORK/results"
fault_server_check
resets=$(count_lines '^RESET-UNPROCESSED ' "$FAULT_LOG")
processed=$(grep '^PROCESSED ' "$FAULT_LOG" | awk '{ print $3 }' | sort | uniq -c)
echo "requests=$requests resets=$resets connections=$(count_lines '^ACCEPT ' "$FAULT_LOG")"
assert_ge "requests the server reset (the fault happened)" 10 "$resets"
assert_results_ok "GETs against 10 % resets, 2 threads" "$requests" "$WORK/results"
assert_eq "requests the server processed" "$requests" "$(wc -l <<< "$processed")"
assert_eq "requests the server processed more than once" 0 \
	"$(awk '$1 > 1' <<< "$processed" | wc -l)"

# Control: the same faults, 100 requests, no sockpool.
fault_server_start control --seed 2 --reset-unprocessed 0.1
/usr/bin/python3 "$client" --port "$FAULT_PORT" --count 100 --results "$WORK/control"
fault_server_check
control_resets=$(count_lines '^RESET-UNPROCESSED ' "$FAULT_LOG")
assert_ge "control: requests the server reset" 1 "$control_resets"
assert_eq "control: errors without sockpool (one per reset)" "$control_resets" \
	"$(count_lines '^[^ ]+ error ' "$WORK/control")"
echo "ok: resets before processing cost no GET under sockpool"

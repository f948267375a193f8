#!/usr/bin/env bash
# Connects refused for a while, POSTs in flight.  The fault server closes
# its listening socket for 250 ms in the middle of a run (then listens on
# the same port again) and closes every connection after one answer, so
# each request needs a new connect.  Proves that under sockpool a refused
# connect is retried with backoff until the server listens again, for
# POSTs too (nothing of a request was sent when its connect failed, so
# retrying it cannot apply it twice), and every request processed at most
# once.  One race is the server's own doing: a connect the kernel completed
# into the listen backlog just before the listening socket closed is reset
# after the POST went out.  sockpool cannot know the server never read it,
# so the program gets that reset (a POST is never sent twice).  At most 2
# such errors are allowed, each for a request the server never processed.
#
# The control, without sockpool, shows the refusals reach the program
# (ConnectionRefusedError) while the window is open.
source "$(dirname "$0")/lib.sh"

client=$LIB_DIR/clients/paced_client.py
# COUNT POSTs 10-20 ms apart, the refusal window opened after 50.
run_across_window() {	# results file, count, [sockpool --]
	local results=$1 count=$2
	shift 2
	run_across_refusal_window 50 "$@" /usr/bin/python3 "$client" --port "$FAULT_PORT" \
		--method POST --count "$count" --pace-ms 10-20 --results "$results"
}

requests=150
fault_server_start refuse --refuse-window-ms 250 --close-after 1
run_across_window "$WORK/results" "$requests" "$BUILD/sockpool" --
assert_eq "POSTs across a 250 ms refusal window: requests made" "$requests" \
	"$(wc -l < "$WORK/results")"
processed=$(grep '^PROCESSED ' "$FAULT_LOG" | awk '{ print $3 }' | sort | uniq -c)
errors=0
while read -r id _ kind _; do
	errors=$(( errors + 1 ))
	[ "$kind" = "ConnectionResetError:" ] || fail "$id: an error other than a backlog reset: $kind"
	! grep -q "^PROCESSED POST $id " "$FAULT_LOG" ||
		fail "$id: the server processed it, yet the program got an error"
done < <(grep ' error ' "$WORK/results" || true)
assert_le "POSTs reset in the listen backlog as the window opened" 2 "$errors"
assert_eq "requests the server processed" $(( requests - errors )) "$(wc -l <<< "$processed")"
assert_eq "requests the server processed more than once" 0 \
	"$(awk '$1 > 1' <<< "$processed" | wc -l)"
assert_ge "requests processed after the window (the run went on across it)" 1 \
	"$(sed -n '/^LISTENING$/,$p' "$FAULT_LOG" | grep -c '^PROCESSED ' || true)"

fault_server_start control --refuse-window-ms 250 --close-after 1
run_across_window "$WORK/control" 100
refused=$(count_lines ' error ConnectionRefusedError' "$WORK/control")
assert_ge "control: requests refused without sockpool" 1 "$refused"
echo "ok: a refusal window costs no request, and no POST is applied twice"

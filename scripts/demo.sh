#!/usr/bin/env bash
# demo.sh: what `make demo` shows.  First the naive client (examples/naive_client:
# a new TCP connection for every request, every body checked) makes 5000
# requests with 4 threads to a private nginx, first as it is, then under
# sockpool, and a table compares what nginx and the kernel saw: errors,
# connections nginx accepted (its stub_status), TIME_WAIT sockets left
# towards nginx's port, requests per second.  Each run gets an nginx of its
# own on a fresh loopback port, so the TIME_WAIT counts are each run's own.
# Then curl in a shell loop (a new process per request: DEMO_LOOP_RUNS runs,
# default 100) as it is, under sockpool (a pool per process: no gain), and
# under `sockpool --share` (one pool for all of them).
#
#   BUILD=/abs/build scripts/demo.sh      (make demo sets BUILD)
#   DEMO_REQUESTS=N DEMO_THREADS=T        to change the load
set -euo pipefail

source "$(dirname "$0")/../tests/integration/lib.sh"

requests=${DEMO_REQUESTS:-5000}
threads=${DEMO_THREADS:-4}
client=$BUILD/examples/naive_client
for f in "$client" "$BUILD/sockpool" "$BUILD/libsockpool.so"; do
	[ -e "$f" ] || fail "$f is missing: run make first"
done
export NGINX_ACCESS_LOG=off

# run_case NAME [LAUNCHER...]: one run against a new nginx; sets
# r_requests_NAME, r_errors_NAME, r_accepted_NAME, r_timewait_NAME, r_rps_NAME.
run_case() {
	local name=$1 summary status=0 tw_before tw_after accepted_before value key
	shift
	nginx_start
	accepted_before=$(nginx_accepts)
	tw_before=$(time_wait_count "$NGINX_PORT")
	"$@" "$client" -q -n "$requests" -t "$threads" -e "$DOCROOT/index.html" \
		127.0.0.1 "$NGINX_PORT" /index.html > "$WORK/$name.out" 2> "$WORK/$name.err" || status=$?
	# Counted before asking nginx anything: the query would add its own.
	tw_after=$(time_wait_count "$NGINX_PORT")
	printf -v "r_timewait_$name" %s $(( tw_after - tw_before ))
	printf -v "r_accepted_$name" %s $(( $(nginx_accepts) - accepted_before ))
	nginx_stop
	summary=$(tail -n 1 "$WORK/$name.out")
	for key in requests errors rps; do
		value=$(sed -n "s/.*\\b$key=\\([0-9.]*\\).*/\\1/p" <<< "$summary")
		printf -v "r_${key}_$name" %s "${value:-?}"
	done
	if [ "$status" -ne 0 ]; then
		echo "  ($name: the client exited with status $status$(
			[ -s "$WORK/$name.err" ] && printf ': %s' "$(head -n 3 "$WORK/$name.err")"))"
	fi
}

echo "naive_client: $requests requests, $threads threads, one new connection per request, against nginx on 127.0.0.1"
# Past net.ipv4.tcp_max_tw_buckets the kernel skips TIME_WAIT: say so when
# earlier runs have filled the table, or the count below would mislead.
tw_limit=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets 2>/dev/null || echo 0)
tw_now=$(ss -Htan state time-wait | wc -l)
if [ "$tw_limit" -gt 0 ] && [ $(( tw_now + requests )) -gt "$tw_limit" ]; then
	echo "  (note: $tw_now sockets are in TIME_WAIT already and the kernel keeps at most $tw_limit;"
	echo "   the TIME_WAIT counts below may be capped: wait a minute and run again for the full picture)"
fi
echo "  running without sockpool..."
run_case plain env
echo "  running with sockpool..."
run_case pooled "$BUILD/sockpool" --

echo
printf '%-22s %12s %15s\n' "" "without" "with sockpool"
row() {	# label key
	local plain="r_$2_plain" pooled="r_$2_pooled"
	printf '%-22s %12s %15s\n' "$1" "${!plain}" "${!pooled}"
}
row "requests" requests
row "errors" errors
row "connections accepted" accepted
row "TIME_WAIT left" timewait
r_rps_plain=${r_rps_plain%.*} r_rps_pooled=${r_rps_pooled%.*}
row "requests/s" rps
echo

# shellcheck disable=SC2154 # the r_* are set by run_case (printf -v)
if [ "$r_errors_pooled" != 0 ] || [ "$r_errors_plain" != 0 ] || [ "$r_rps_plain" = "?" ] ||
	[ "$r_rps_pooled" = "?" ]; then
	echo "A run did not complete cleanly (see above): no comparison."
	exit 1
elif [ "$r_accepted_pooled" -ge "$r_accepted_plain" ]; then
	echo "With sockpool nginx still accepted $r_accepted_pooled connections: pooling did not take effect."
	exit 1
else
	awk -v n="$r_requests_pooled" -v ca="$r_accepted_plain" -v cb="$r_accepted_pooled" \
		-v ta="$r_timewait_plain" -v tb="$r_timewait_pooled" \
		-v ra="$r_rps_plain" -v rb="$r_rps_pooled" 'BEGIN {
		printf "With sockpool the same unmodified client made its %d requests (every body checked) over %d connections instead of %d, left %d sockets in TIME_WAIT instead of %d, and served %d requests/s instead of %d.\n",
			n, cb, ca, tb, ta, rb, ra
	}'
fi

# ---- curl in a shell loop: processes that make one request each ----
loop_runs=${DEMO_LOOP_RUNS:-100}
command -v curl > /dev/null || { echo "(curl is not installed: the shell loop is not shown)"; exit 0; }
loop_case() {	# name launcher...: sets l_accepted_NAME, l_timewait_NAME, l_seconds_NAME
	local name=$1 start accepted_before tw_before status=0
	shift
	nginx_start
	accepted_before=$(nginx_accepts)
	tw_before=$(time_wait_count "$NGINX_PORT")
	start=$(date +%s%N)
	"$@" /bin/sh -c 'i=0; while [ "$i" -lt "$1" ]; do
		curl -sf -o /dev/null "$2" || exit 1; i=$((i + 1)); done' sh "$loop_runs" \
		"http://127.0.0.1:$NGINX_PORT/index.html" || status=$?
	printf -v "l_seconds_$name" %s "$(awk -v ns=$(( $(date +%s%N) - start )) 'BEGIN { printf "%.2f", ns / 1e9 }')"
	printf -v "l_timewait_$name" %s $(( $(time_wait_count "$NGINX_PORT") - tw_before ))
	printf -v "l_accepted_$name" %s $(( $(nginx_accepts) - accepted_before ))
	nginx_stop
	[ "$status" -eq 0 ] || fail "the shell loop ($name) failed with status $status"
}
echo
echo "curl in a shell loop: $loop_runs runs, a new process for each request"
echo "  running without sockpool, under sockpool, and under sockpool --share..."
loop_case plain env
loop_case pooled "$BUILD/sockpool" --
loop_case shared "$BUILD/sockpool" --share --
echo
printf '%-22s %12s %15s %15s
' "" "without" "with sockpool" "with --share"
loop_row() {	# label key
	local a="l_$2_plain" b="l_$2_pooled" c="l_$2_shared"
	printf '%-22s %12s %15s %15s
' "$1" "${!a}" "${!b}" "${!c}"
}
loop_row "connections accepted" accepted
loop_row "TIME_WAIT left" timewait
loop_row "seconds" seconds
echo
echo "Each curl process has a pool of its own under plain sockpool, so it gains nothing; with --share the processes pass their idle connection on through a broker: $l_accepted_shared connection(s) for $loop_runs processes."


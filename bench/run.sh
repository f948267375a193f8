#!/usr/bin/env bash
# bench/run.sh: the benchmarks behind `make bench` (not part of make check).
#
#   BUILD=/abs/build bench/run.sh        (make bench builds and sets BUILD)
#
# 1. Requests per second of examples/naive_client against a private nginx
#    (static index.html, access log off), with 1 and 4 threads, in three
#    ways: as it is (a new connection per request), under sockpool, and in
#    its keep-alive mode (-k, one connection per thread: the limit that
#    pooling can approach).  Each measured run gets an nginx of its own on
#    a fresh port: 20000 new connections leave 20000 TIME_WAIT sockets,
#    and a fresh destination port keeps every run's 4-tuples new, so
#    ephemeral ports never run out however many runs there are.
# 2. The pass-through cost: bench/pipe_roundtrip (1-byte write()+read()
#    round trips on a pipe) plain and with the shim in LD_PRELOAD.
#
# Every case runs BENCH_REPS times (default 3); the report gives median,
# min and max as a Markdown table, on stdout and in bench/results/latest.md.
# BENCH_REQUESTS (default 20000) and BENCH_ROUNDTRIPS (default 1000000)
# change the sizes.  A run with errors is reported as failed, not hidden.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/integration/lib.sh"

reps=${BENCH_REPS:-3}
requests=${BENCH_REQUESTS:-20000}
roundtrips=${BENCH_ROUNDTRIPS:-1000000}
client=$BUILD/examples/naive_client
pipe_bench=$BUILD/bench/pipe_roundtrip
for f in "$client" "$pipe_bench" "$BUILD/sockpool" "$BUILD/libsockpool.so"; do
	[ -e "$f" ] || fail "$f is missing: run make first"
done
export NGINX_ACCESS_LOG=off
results_dir=$here/results
mkdir -p "$results_dir"

# field NAME LINE: the value of NAME=... in a summary line.
field() {
	sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<< "$2"
}

# stats V...: "median min max" of numbers (median of an even count: the
# mean of the middle two).
stats() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.1f %.1f %.1f\n", m, v[1], v[NR] }'
}

# One client run against a new nginx: sets run_rps and run_accepted, or
# run_rps=failed.  (Not in a subshell: nginx_start must run in this shell.)
client_run() {	# threads, launcher words...
	local threads=$1 out status=0 before
	shift
	nginx_start
	before=$(nginx_accepts)
	out=$("$@" "$client" -q -n "$requests" -t "$threads" -e "$DOCROOT/index.html" \
		127.0.0.1 "$NGINX_PORT" /index.html 2> "$WORK/client.err") || status=$?
	run_accepted=$(( $(nginx_accepts) - before ))
	nginx_stop
	run_rps=$(field rps "$out")
	if [ "$status" -ne 0 ] || [ "$(field errors "$out")" != 0 ]; then
		echo "  run failed (status $status): $out $(head -c 300 "$WORK/client.err")" >&2
		run_rps=failed
	fi
}

declare -A median minimum maximum conns rates accepts failed

# A launcher that adds -k to the client's options.
keepalive() {
	local client_path=$1
	shift
	"$client_path" -k "$@"
}

# The cases: key, threads, launcher words.
cases=("plain_1 1 env" "shim_1 1 $BUILD/sockpool --" "keep_1 1 keepalive"
	"plain_4 4 env" "shim_4 4 $BUILD/sockpool --" "keep_4 4 keepalive")

tw_limit=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets 2>/dev/null || echo "?")
tw_start=$(ss -Htan state time-wait | wc -l)
echo "bench: naive_client, $requests requests per run, $reps runs per case, against nginx on 127.0.0.1" >&2
# Round robin (every case once, then again): each case sees the machine in
# each state, the TIME_WAIT table filling up included.
for (( rep = 1; rep <= reps; rep++ )); do
	for c in "${cases[@]}"; do
		read -r key threads launcher <<< "$c"
		# shellcheck disable=SC2086 # launcher is words
		client_run "$threads" $launcher
		echo "  run $rep $key: $run_rps requests/s, $run_accepted connections" >&2
		if [ "$run_rps" = failed ]; then
			failed[$key]=1
		else
			rates[$key]="${rates[$key]:-} $run_rps"
			accepts[$key]="${accepts[$key]:-} $run_accepted"
		fi
	done
done
tw_end=$(ss -Htan state time-wait | wc -l)
for c in "${cases[@]}"; do
	key=${c%% *}
	if [ -n "${failed[$key]:-}" ] || [ -z "${rates[$key]:-}" ]; then
		median[$key]=failed minimum[$key]=- maximum[$key]=- conns[$key]=-
		continue
	fi
	# shellcheck disable=SC2086 # lists of numbers
	read -r "median[$key]" "minimum[$key]" "maximum[$key]" < <(stats ${rates[$key]})
	# shellcheck disable=SC2086
	conns[$key]=$(stats ${accepts[$key]} | awk '{ printf "%d", $1 }')
done

echo "bench: pipe_roundtrip, $roundtrips round trips per run" >&2
pipe_measure() {	# key, then env words
	local key=$1 rep out values=()
	shift
	for (( rep = 1; rep <= reps; rep++ )); do
		out=$("$@" "$pipe_bench" -n "$roundtrips") || fail "pipe_roundtrip failed: $out"
		values+=("$(field ns_per_roundtrip "$out")")
	done
	echo "  $key: ${values[*]} ns" >&2
	read -r "median[$key]" "minimum[$key]" "maximum[$key]" < <(stats "${values[@]}")
}
pipe_measure pipe_plain env
pipe_measure pipe_shim env LD_PRELOAD="$BUILD/libsockpool.so"

ratio() {	# a b: a / b as a percentage, or "-"
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a + 0 > 0 && b + 0 > 0) printf "%.0f %%", 100 * a / b; else printf "-" }'
}

report() {
	local threads label key
	echo "## sockpool benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs, nginx $(nginx -v 2>&1 | sed 's/.*\///'), sockpool $("$BUILD/sockpool" --version | cut -d' ' -f2)."
	echo "naive_client fetching a small static file, $requests requests per run, $reps runs per case; median (min - max)."
	echo
	echo "| client | threads | requests/s | min | max | connections nginx accepted |"
	echo "|---|---:|---:|---:|---:|---:|"
	for threads in 1 4; do
		for label in "new connection per request:plain" "the same under sockpool:shim" "keep-alive (-k), the limit:keep"; do
			key=${label##*:}_$threads
			printf '| %s | %s | %s | %s | %s | %s |\n' "${label%:*}" "$threads" \
				"${median[$key]}" "${minimum[$key]}" "${maximum[$key]}" "${conns[$key]}"
		done
	done
	echo
	echo "TIME_WAIT sockets on this host: $tw_start before, $tw_end after (the kernel keeps at most $tw_limit, net.ipv4.tcp_max_tw_buckets; past that, closed connections skip TIME_WAIT and new ones get cheaper, so the unpooled runs speed up as the table fills)."
	echo
	for threads in 1 4; do
		echo "- $threads thread(s): sockpool reaches $(ratio "${median[shim_$threads]}" "${median[keep_$threads]}") of the keep-alive limit and runs at $(ratio "${median[shim_$threads]}" "${median[plain_$threads]}") of the unpooled rate."
	done
	echo
	echo "| pass-through (1-byte pipe write+read) | ns per round trip | min | max |"
	echo "|---|---:|---:|---:|"
	echo "| plain | ${median[pipe_plain]} | ${minimum[pipe_plain]} | ${maximum[pipe_plain]} |"
	echo "| LD_PRELOAD=libsockpool.so | ${median[pipe_shim]} | ${minimum[pipe_shim]} | ${maximum[pipe_shim]} |"
	echo
	awk -v a="${median[pipe_plain]}" -v b="${median[pipe_shim]}" 'BEGIN {
		printf "Pass-through overhead: %+.1f %% (%+.1f ns per round trip of two calls).\n", 100 * (b - a) / a, b - a }'
}

report > "$results_dir/latest.md"
cat "$results_dir/latest.md"

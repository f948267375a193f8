#!/usr/bin/env bash
# bench/net.sh: what sockpool gains on a real network (`make bench-net`, as
# root; not part of make check).
#
#   BUILD=/abs/build bench/net.sh        (make bench-net builds and sets BUILD)
#
# Loopback hides what a connection costs: a handshake there takes 17 us,
# on a network a round trip.  So this puts a round trip of 0.2 ms (one
# datacenter), 2 ms (across zones) and 20 ms (across regions) between a
# client namespace and a server namespace (netpath.sh: netem on a veth
# pair where the kernel has netem, else our delay line, delay_line.c), runs
# nginx behind it, and times, from the client's side:
#
#   - examples/naive_client (a new connection per request), with 1 and 8
#     threads: as it is, under sockpool, and in its keep-alive mode (-k,
#     one connection per thread: the limit pooling can approach);
#   - python requests without a Session (requests_get_loop.py), as it is
#     and under sockpool;
#   - curl in a shell loop (curl_loop.sh), a process per request, as it
#     is and under `sockpool --share` (one pool for every process: under
#     plain sockpool each curl would start with an empty pool).
#
# For every run: requests/s, the client's latency per request (p50, p99),
# the connections nginx accepted, and the delay line's CPU use and how late
# it let packets go (a saturated delay line would otherwise pass for a slow
# network).  For every round trip: the one asked for next to the ones
# measured, by ping (idle path) and by the TCP handshake (the naive
# client's connect(), 1 thread, as it runs).
#
# Each case runs BENCH_NET_REPS times (default 3), the cases in turn; the
# report gives the run with the median requests/s (and the min - max).
# BENCH_NET_RTTS (microseconds, default "200 2000 20000") and
# BENCH_NET_SCALE (a factor on every request count, default 1) change the
# sizes.  Every run uses a port of its own on the one nginx of its round
# trip, so no run meets another's TIME_WAIT sockets.  The whole takes
# about 3.5 minutes.  Output: bench/results/net.md (also on stdout),
# net.dat and net.png (net.gp, with gnuplot).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/integration/lib.sh"
source "$here/netpath.sh"

[ "$(id -u)" -eq 0 ] || fail "bench-net makes network namespaces: run it as root"
for tool in ip gnuplot curl; do
	command -v "$tool" > /dev/null || fail "$tool is missing: run scripts/deps.sh as root"
done
client=$BUILD/examples/naive_client
for f in "$client" "$BUILD/sockpool" "$BUILD/libsockpool.so" "$BUILD/bench/delay_line"; do
	[ -e "$f" ] || fail "$f is missing: run make first"
done
reps=${BENCH_NET_REPS:-3}
read -r -a rtts <<< "${BENCH_NET_RTTS:-200 2000 20000}"
scale=${BENCH_NET_SCALE:-1}
results_dir=$here/results
mkdir -p "$results_dir"
export NGINX_ACCESS_LOG=off
port_base=8001

# The cases, in the order they run and are reported.
cases=(naive1_plain naive1_pool naive1_keep naive8_plain naive8_pool naive8_keep
	py_plain py_pool curl_plain curl_share)
declare -A label=(
	[naive1_plain]="naive_client, new connection per request"
	[naive1_pool]="the same under sockpool"
	[naive1_keep]="naive_client -k (keep-alive, the limit)"
	[naive8_plain]="naive_client, new connection per request"
	[naive8_pool]="the same under sockpool"
	[naive8_keep]="naive_client -k (keep-alive, the limit)"
	[py_plain]="python requests.get, no Session"
	[py_pool]="the same under sockpool"
	[curl_plain]="curl in a shell loop"
	[curl_share]="the same under sockpool --share"
)
declare -A threads=([naive8_plain]=8 [naive8_pool]=8 [naive8_keep]=8)
# Which run each is compared with.
declare -A plain_of=([naive1_pool]=naive1_plain [naive1_keep]=naive1_plain
	[naive8_pool]=naive8_plain [naive8_keep]=naive8_plain [py_pool]=py_plain
	[curl_share]=curl_plain)

# Requests per run: about 1 to 3 s each at every round trip on 2 CPUs,
# fewer the longer the round trip; never fewer than 30 (p99 of fewer
# would be the slowest request, no more).
requests_for() {	# case rtt_us
	local n
	case $1 in
	naive1_*) n=$(( 600 * 2000 / ($2 + 1000) )) ;;	# 1000, 400, 57 requests
	naive8_*) n=$(( 4000 * 2000 / ($2 + 1000) )) ;;	# 6666, 2666, 380
	py_*) n=$(( 200 * 2000 / ($2 + 2000) )) ;;		# 181, 100, 18
	curl_*) n=$(( 100 * 2000 / ($2 + 2000) )) ;;	# 90, 50, 9
	esac
	n=$(awk -v n="$n" -v s="$scale" 'BEGIN { printf "%d", n * s }')
	echo $(( n < 30 ? 30 : n ))
}

# field NAME LINE: the value of NAME=... in a summary line ("" if none).
field() {
	sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<< "$2"
}

# One run of a case through the path: writes its figures to
# $WORK/runs/RTT.CASE.REP as "name=value" words.
run_case() {	# case rtt rep port
	local key=$1 rtt=$2 rep=$3 port=$4 n before out status=0 dl url
	local in_client=(ip netns exec "$NETPATH_CLIENT_NS")
	n=$(requests_for "$key" "$rtt")
	url=http://$NETPATH_SERVER_ADDR:$port/index.html
	before=$(nginx_accepts)
	: > "$WORK/client.err"
	delay_line_report > /dev/null
	case $key in
	naive*_plain) out=$("${in_client[@]}" "$client" -q -l -n "$n" -t "${threads[$key]:-1}" \
		-e "$DOCROOT/index.html" "$NETPATH_SERVER_ADDR" "$port" /index.html 2> "$WORK/client.err") || status=$? ;;
	naive*_pool) out=$("${in_client[@]}" "$BUILD/sockpool" -- "$client" -q -l -n "$n" \
		-t "${threads[$key]:-1}" -e "$DOCROOT/index.html" "$NETPATH_SERVER_ADDR" "$port" \
		/index.html 2> "$WORK/client.err") || status=$? ;;
	naive*_keep) out=$("${in_client[@]}" "$client" -k -q -l -n "$n" -t "${threads[$key]:-1}" \
		-e "$DOCROOT/index.html" "$NETPATH_SERVER_ADDR" "$port" /index.html 2> "$WORK/client.err") || status=$? ;;
	py_plain) out=$("${in_client[@]}" /usr/bin/python3 "$here/requests_get_loop.py" "$url" "$n" \
		"$DOCROOT/index.html" 2> "$WORK/client.err") || status=$? ;;
	py_pool) out=$("${in_client[@]}" "$BUILD/sockpool" -- /usr/bin/python3 \
		"$here/requests_get_loop.py" "$url" "$n" "$DOCROOT/index.html" 2> "$WORK/client.err") ||
		status=$? ;;
	curl_plain) out=$("${in_client[@]}" "$here/curl_loop.sh" "$url" "$n" "$DOCROOT/index.html" \
		2> "$WORK/client.err") || status=$? ;;
	curl_share) out=$("${in_client[@]}" "$BUILD/sockpool" --share -- "$here/curl_loop.sh" "$url" \
		"$n" "$DOCROOT/index.html" 2> "$WORK/client.err") || status=$? ;;
	esac
	dl=$(delay_line_report)
	[ "$status" -eq 0 ] || echo "  $key: exit status $status: $out $(head -c 300 "$WORK/client.err" 2>/dev/null)" >&2
	echo "$out accepted=$(( $(nginx_accepts) - before )) dl_cpu_percent=$(field cpu_percent "$dl") dl_late_p99_us=$(field late_p99_us "$dl") dl_late_p50_us=$(field late_p50_us "$dl") dl_dropped=$(field dropped "$dl") status=$status" \
		> "$WORK/runs/$rtt.$key.$rep"
	echo "  $key rep $rep: $(field rps "$out") req/s, p50 $(field p50_us "$out") us, accepted $(( $(nginx_accepts) - before )), delay line $(field cpu_percent "$dl") % CPU" >&2
}

# ping's round trips across the idle path, median min max (ms).
ping_rtt() {
	ip netns exec "$NETPATH_CLIENT_NS" ping -n -c 20 -i 0.05 -W 2 "$NETPATH_SERVER_ADDR" 2> /dev/null |
		sed -n 's/.*time=\([0-9.]*\) ms.*/\1/p' | sort -g |
		awk '{ v[NR] = $1 } END { if (NR) printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR]; else print "- - -" }'
}

mkdir -p "$WORK/runs"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
started=$(date +%s)
declare -A ping_of path_total
for rtt in "${rtts[@]}"; do
	echo "bench-net: round trip $rtt us, $reps runs per case" >&2
	netpath_up "$rtt"
	listen=""
	for (( p = port_base; p < port_base + ${#cases[@]} * reps; p++ )); do
		listen+="listen $NETPATH_SERVER_ADDR:$p; "
	done
	NGINX_NETNS=$NETPATH_SERVER_NS NGINX_FIXED_PORT=8000
	export NGINX_NETNS NGINX_FIXED_PORT
	nginx_start "" "$listen"
	ping_of[$rtt]=$(ping_rtt)
	echo "  ping: ${ping_of[$rtt]} ms (median min max)" >&2
	port=$port_base
	for (( rep = 1; rep <= reps; rep++ )); do
		for key in "${cases[@]}"; do
			run_case "$key" "$rtt" "$rep" "$port"
			port=$(( port + 1 ))
		done
	done
	nginx_stop
	netpath_down
	path_total[$rtt]="-"
	[ "$NETPATH_USED" = delay_line ] && path_total[$rtt]=$(tail -n 1 "$DELAY_LINE_OUT")
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
took=$(( $(date +%s) - started ))

# ---- report ---------------------------------------------------------------

# The run of a case with the median requests/s: its file.
median_run() {	# rtt case
	local rep
	local rps
	for (( rep = 1; rep <= reps; rep++ )); do
		rps=$(field rps "$(cat "$WORK/runs/$1.$2.$rep")")
		echo "${rps:-0} $WORK/runs/$1.$2.$rep"
	done | sort -g | awk '{ f[NR] = $2 } END { print f[int((NR + 1) / 2)] }'
}

rps_range() {	# rtt case: "min - max"
	local rep
	for (( rep = 1; rep <= reps; rep++ )); do
		field rps "$(cat "$WORK/runs/$1.$2.$rep")"
	done | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f - %.0f", v[1], v[NR] }'
}

ms() {	# us -> ms, 2 significant decimals
	awk -v u="$1" 'BEGIN { if (u == "") print "-"; else printf "%.2f", u / 1000 }'
}

ratio() {	# a b
	awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f×", a / b; else print "-" }'
}

rtt_label() {
	awk -v u="$1" 'BEGIN { printf "%g ms", u / 1000 }'
}

report_rtts() {
	local rtt line c50
	echo "| round trip asked | path | ping, idle: median (min - max) | TCP handshake (naive_client connect(), 1 thread): median | delay line over the whole round trip's runs: CPU | packets late, p50 / p99 |"
	echo "|---|---|---:|---:|---:|---:|"
	for rtt in "${rtts[@]}"; do
		read -r p50 pmin pmax <<< "${ping_of[$rtt]}"
		c50=$(field connect_p50_us "$(cat "$(median_run "$rtt" naive1_plain)")")
		line=${path_total[$rtt]}
		printf '| %s | %s | %s ms (%s - %s) | %s ms | %s | %s |\n' "$(rtt_label "$rtt")" \
			"$NETPATH_USED" "$p50" "$pmin" "$pmax" "$(ms "$c50")" \
			"$( [ "$line" = - ] && echo - || echo "$(field cpu_percent "$line") % of one CPU")" \
			"$( [ "$line" = - ] && echo - || echo "$(field late_p50_us "$line") / $(field late_p99_us "$line") µs")"
	done
}

report_runs() {
	local rtt key f line base n
	echo "| round trip | client | threads | requests | req/s (min - max) | vs plain | p50 ms | p99 ms | connections accepted | errors | delay line CPU | late p99 µs |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for rtt in "${rtts[@]}"; do
		for key in "${cases[@]}"; do
			f=$(median_run "$rtt" "$key")
			line=$(cat "$f")
			base=$(field rps "$(cat "$(median_run "$rtt" "${plain_of[$key]:-$key}")")")
			n=$(field requests "$line")
			printf '| %s | %s | %s | %s | %.0f (%s) | %s | %s | %s | %s | %s | %s | %s |\n' \
				"$(rtt_label "$rtt")" "${label[$key]}" "${threads[$key]:-1}" "$n" \
				"$(field rps "$line")" "$(rps_range "$rtt" "$key")" \
				"$(ratio "$(field rps "$line")" "$base")" \
				"$(ms "$(field p50_us "$line")")" "$(ms "$(field p99_us "$line")")" \
				"$(field accepted "$line")" "$(field errors "$line")" \
				"$( [ -n "$(field dl_cpu_percent "$line")" ] && echo "$(field dl_cpu_percent "$line") %" || echo -)" \
				"$(field dl_late_p99_us "$line")"
		done
	done
}

report() {
	echo "## sockpool across a network: requests/s and latency by round trip"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs, nginx $(nginx -v 2>&1 | sed 's/.*\///'), sockpool $("$BUILD/sockpool" --version | cut -d' ' -f2); \`make bench-net\` (bench/net.sh), $reps runs per case, the run with the median requests/s shown (min - max of all). Load average before: $load_before; after: $load_after; the bench took $took s."
	echo
	echo "### The path"
	echo
	report_rtts
	echo
	echo "### The clients"
	echo
	echo "A small static file from nginx (one worker) in the server namespace; the client in the client namespace. p50 and p99: the time of one request as the client saw it (for curl, the whole curl process). Connections accepted: nginx's own count (stub_status). \"Delay line CPU\": its CPU over the run, in % of one CPU; \"late p99\": 99 % of packets left the delay line at most this long after their due time."
	echo
	report_runs
	echo
	echo "![requests per second by round trip](net.png)"
}

plot_data() {
	local rtt key
	{
		echo "# rtt_ms, then req/s of: ${cases[*]}"
		for rtt in "${rtts[@]}"; do
			printf '%s' "$(awk -v u="$rtt" 'BEGIN { print u / 1000 }')"
			for key in "${cases[@]}"; do
				printf ' %s' "$(field rps "$(cat "$(median_run "$rtt" "$key")")")"
			done
			echo
		done
	} > "$results_dir/net.dat"
	gnuplot -e "dir='$results_dir'" "$here/net.gp" || fail "gnuplot failed"
}

plot_data
report > "$results_dir/net.md"
cat "$results_dir/net.md"

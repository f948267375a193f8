#!/usr/bin/env bash
# bench/run.sh: the benchmarks behind `make bench` (not part of make check).
#
#   BUILD=/abs/build bench/run.sh        (make bench builds and sets BUILD)
#
# 1. Requests per second of examples/naive_client against a private nginx
#    (static index.html, access log off), with 1 and 4 threads, five ways:
#    as it is (a new connection per request), under sockpool, in its
#    keep-alive mode (-k, one connection per thread: the limit pooling can
#    approach), the same with the socket(), 2 setsockopt() and close() the
#    program makes per request (-k -s: the ceiling for sockpool, which
#    leaves the program's calls to it), through an HAProxy sidecar
#    (`http-reuse always`) and
#    through an nginx sidecar (upstream `keepalive`); see sidecars.sh.
#    For each, the connections the origin nginx accepted and the TIME_WAIT
#    sockets left, per 10,000 requests.  Each measured run gets servers of
#    its own on fresh ports: a connect-per-request run leaves a TIME_WAIT
#    socket per request, and fresh ports keep every run's 4-tuples new, so
#    ephemeral ports never run out however many runs there are.
# 2. The pass-through cost, plain and with the shim in LD_PRELOAD: 1-byte
#    pipe write()+read() round trips (pipe_roundtrip.c) and 64-byte read()s
#    of a cached file (file_read.c), in wall time and in instructions
#    (callgrind's total for N and for 2N iterations: the difference is the
#    cost of N, free of start-up; what is left is the start-up).
# 3. The pool at size (pool_checkout.c): RSS and open fds of a process
#    holding 1,000 idle connections (to one destination, and one to each of
#    1,000 destinations: the ports of one nginx), and the time of a
#    connect() served from the pool as the pool grows from 1 to 1,000 idle
#    sockets per destination and from 1 to 1,000 destinations, in wall
#    time and (callgrind) in instructions per request cycle.
#
# Every case runs BENCH_REPS times (default 3); the report gives median,
# min and max.  Output: bench/results/latest.md (also on stdout), the data
# behind the plots (rps.dat, checkout.dat) and the plots (rps.png,
# checkout.png, by plots.gp with gnuplot).  BENCH_REQUESTS (default 20000),
# BENCH_ROUNDTRIPS (default 1000000, also the file reads), BENCH_CG_ITERS
# (default 100000, the N of the callgrind runs) and BENCH_CHECKOUTS
# (default 5000 per pool size) change the sizes.  A run with errors is
# reported as failed, not hidden.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/integration/lib.sh"
source "$here/sidecars.sh"

reps=${BENCH_REPS:-3}
requests=${BENCH_REQUESTS:-20000}
roundtrips=${BENCH_ROUNDTRIPS:-1000000}
cg_iters=${BENCH_CG_ITERS:-100000}
checkouts=${BENCH_CHECKOUTS:-5000}
client=$BUILD/examples/naive_client
pipe_bench=$BUILD/bench/pipe_roundtrip
file_bench=$BUILD/bench/file_read
pool_bench=$BUILD/bench/pool_checkout
for f in "$client" "$pipe_bench" "$file_bench" "$pool_bench" "$BUILD/sockpool" \
	"$BUILD/libsockpool.so"; do
	[ -e "$f" ] || fail "$f is missing: run make first"
done
for tool in haproxy valgrind gnuplot; do
	command -v "$tool" > /dev/null || fail "$tool is missing: run scripts/deps.sh bench as root"
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

median_of() {
	stats "$@" | cut -d' ' -f1
}

# calc EXPR: awk arithmetic, printed with the format in FMT (default %.0f).
calc() {
	awk "BEGIN { printf \"${FMT:-%.0f}\", $1 }"
}

declare -A median minimum maximum conns tw_left failed rates accepts tws

# ---- 1. requests per second -------------------------------------------

tw_limit=$(cat /proc/sys/net/ipv4/tcp_max_tw_buckets 2>/dev/null || echo 0)
host_time_wait() {
	ss -Htan state time-wait | wc -l
}

# One client run against new servers: sets run_rps (or "failed"),
# run_accepted (by the origin) and run_tw (TIME_WAIT sockets on the
# run's ports once everything stopped).  Not in a subshell: nginx_start
# must run in this shell.
client_run() {	# kind threads
	local kind=$1 threads=$2 out status=0 before port own launcher=() options=()
	nginx_start
	before=$(nginx_accepts)
	port=$NGINX_PORT
	case $kind in
	shim) launcher=("$BUILD/sockpool" --) ;;
	nospec) launcher=("$BUILD/sockpool" --no-speculate --) ;;
	keep) options=(-k) ;;
	ceiling) options=(-k -s) ;;
	haproxy) haproxy_start "$NGINX_PORT"; port=$HAPROXY_PORT ;;
	nginxsc) nginx_sidecar_start "$NGINX_PORT"; port=$SIDECAR_PORT ;;
	esac
	out=$("${launcher[@]}" "$client" "${options[@]}" -q -n "$requests" -t "$threads" \
		-e "$DOCROOT/index.html" 127.0.0.1 "$port" /index.html 2> "$WORK/client.err") ||
		status=$?
	run_accepted=$(( $(nginx_accepts) - before ))
	# lib.sh's own stub_status queries (counted in its own_connections
	# file) leave a TIME_WAIT socket each on the port they asked: not ours.
	own=$(cat "$NGINX_DIR/own_connections")
	case $kind in
	haproxy) haproxy_stop ;;
	nginxsc) nginx_sidecar_stop; own=$(( own + $(cat "$SIDECAR_DIR/own_connections") )) ;;
	esac
	nginx_stop
	run_tw=$(time_wait_count "$NGINX_PORT")
	[ "$port" = "$NGINX_PORT" ] || run_tw=$(( run_tw + $(time_wait_count "$port") ))
	run_tw=$(( run_tw > own ? run_tw - own : 0 ))
	run_rps=$(field rps "$out")
	if [ "$status" -ne 0 ] || [ "$(field errors "$out")" != 0 ]; then
		echo "  run failed (status $status): $out $(head -c 300 "$WORK/client.err")" >&2
		run_rps=failed
	fi
}

kinds=(plain shim nospec keep ceiling haproxy nginxsc)
declare -A kind_label=(
	[plain]="new connection per request"
	[shim]="the same under sockpool"
	[nospec]="under sockpool --no-speculate"
	[keep]="keep-alive (-k), the limit"
	[ceiling]="keep-alive plus the program's socket(), setsockopt() x2, close() (-k -s)"
	[haproxy]="via HAProxy sidecar (http-reuse always)"
	[nginxsc]="via nginx sidecar (upstream keepalive)"
)
declare -A kind_short=([plain]="unpooled" [shim]="sockpool" [nospec]="sockpool --no-speculate"
	[keep]="keep-alive (limit)" [ceiling]="-k + own calls"
	[haproxy]="HAProxy sidecar" [nginxsc]="nginx sidecar")

tw_start=$(host_time_wait)
echo "bench: naive_client, $requests requests per run, $reps runs per case, against nginx on 127.0.0.1" >&2
# Round robin (every case once, then again): each case sees the machine in
# each state, the TIME_WAIT table filling up included.
for (( rep = 1; rep <= reps; rep++ )); do
	for threads in 1 4; do
		for kind in "${kinds[@]}"; do
			key=${kind}_$threads
			client_run "$kind" "$threads"
			echo "  run $rep $key: $run_rps requests/s, $run_accepted connections, $run_tw TIME_WAIT" >&2
			if [ "$run_rps" = failed ]; then
				failed[$key]=1
				continue
			fi
			rates[$key]="${rates[$key]:-} $run_rps"
			accepts[$key]="${accepts[$key]:-} $run_accepted"
			tws[$key]="${tws[$key]:-} $run_tw"
		done
	done
done
tw_end=$(host_time_wait)
per_10k() {	# count
	FMT=%.1f calc "$1 * 10000 / $requests"
}
for threads in 1 4; do
	for kind in "${kinds[@]}"; do
		key=${kind}_$threads
		if [ -n "${failed[$key]:-}" ] || [ -z "${rates[$key]:-}" ]; then
			median[$key]=failed minimum[$key]=- maximum[$key]=- conns[$key]=- tw_left[$key]=-
			continue
		fi
		# shellcheck disable=SC2086 # lists of numbers
		read -r "median[$key]" "minimum[$key]" "maximum[$key]" < <(stats ${rates[$key]})
		# shellcheck disable=SC2086
		conns[$key]=$(per_10k "$(median_of ${accepts[$key]})")
		# The most any run left: a full TIME_WAIT table (and the reuse of
		# TIME_WAIT ports on loopback) only ever makes a run leave fewer.
		# shellcheck disable=SC2086
		tw_left[$key]=$(per_10k "$(stats ${tws[$key]} | cut -d' ' -f3)")
	done
done

# ---- 2. pass-through ----------------------------------------------------

# wall_pair KEY COMMAND...: COMMAND plain and with the shim, alternately,
# reps times each; sets median/minimum/maximum of KEY_plain and KEY_shim
# from the ns_per_* figure it prints.
wall_pair() {
	local key=$1 rep out plain=() shim=()
	shift
	# One run of each first, not counted: caches, page cache, CPU clock.
	"$@" > /dev/null || fail "$* failed"
	LD_PRELOAD=$SHIM_PRELOAD "$@" > /dev/null || fail "$* (shimmed) failed"
	for (( rep = 1; rep <= reps; rep++ )); do
		out=$("$@") || fail "$* failed: $out"
		plain+=("$(sed -n 's/.*ns_per_[a-z]*=\([0-9.]*\).*/\1/p' <<< "$out")")
		out=$(LD_PRELOAD=$SHIM_PRELOAD "$@") || fail "$* (shimmed) failed: $out"
		shim+=("$(sed -n 's/.*ns_per_[a-z]*=\([0-9.]*\).*/\1/p' <<< "$out")")
	done
	echo "  $key: plain ${plain[*]} ns, shimmed ${shim[*]} ns" >&2
	read -r "median[${key}_plain]" "minimum[${key}_plain]" "maximum[${key}_plain]" < <(stats "${plain[@]}")
	read -r "median[${key}_shim]" "minimum[${key}_shim]" "maximum[${key}_shim]" < <(stats "${shim[@]}")
}

# Total instructions callgrind counts for a command (user space only:
# the system calls themselves are not in it, for either run).
instructions() {	# env words... command...
	env "$@" > /dev/null 2> "$WORK/cg.err" ||
		fail "$* failed under valgrind: $(tail -n 5 "$WORK/cg.err")"
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/cg.err"
}

# cg_pair KEY CALLS_PER_ITERATION COMMAND (taking -n ITERATIONS last):
# sets ir[KEY_plain], ir[KEY_shim] (instructions per call, start-up
# excluded) and ir[KEY_startup] (what the shim adds once per process).
declare -A ir
cg_pair() {
	local key=$1 calls=$2 mode pre n1 n2
	shift 2
	for mode in plain shim; do
		pre=LD_PRELOAD=
		[ "$mode" = shim ] && pre=LD_PRELOAD=$SHIM_PRELOAD
		n1=$(instructions "$pre" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$@" -n "$cg_iters")
		n2=$(instructions "$pre" valgrind --tool=callgrind --callgrind-out-file=/dev/null \
			"$@" -n $(( 2 * cg_iters )))
		ir[${key}_$mode]=$(FMT=%.1f calc "($n2 - $n1) / ($cg_iters * $calls)")
		ir[${key}_${mode}_n1]=$n1
	done
	ir[${key}_startup]=$(calc "${ir[${key}_shim_n1]} - ${ir[${key}_plain_n1]} - \
		($cg_iters * $calls) * (${ir[${key}_shim]} - ${ir[${key}_plain]})")
	echo "  $key: ${ir[${key}_plain]} and ${ir[${key}_shim]} instructions per call, start-up ${ir[${key}_startup]}" >&2
}

echo "bench: pass-through, $roundtrips iterations per timed run, $cg_iters and $(( 2 * cg_iters )) under callgrind" >&2
data_file=$WORK/file_read.bin
head -c 65536 /dev/zero > "$data_file"
wall_pair pipe "$pipe_bench" -n "$roundtrips"
wall_pair file "$file_bench" -n "$roundtrips" "$data_file"
cg_pair pipe 2 "$pipe_bench"
cg_pair file 1 "$file_bench" -c 64 "$data_file"

# ---- 3. the pool at size ------------------------------------------------

# checkout_run IDLE DESTS [plain]: one pool_checkout process (under the
# shim unless "plain") against the first DESTS of pool_ports; sets
# run_out and run_new (connections the nginx accepted beyond the ones
# filling the pool: 0 when every measured connect() came from the pool).
checkout_run() {	# idle dests [plain]
	local idle=$1 dests=$2 before
	local measure=$checkouts total=$(( idle * dests ))
	before=$(nginx_accepts)
	if [ "${3:-}" = plain ]; then
		run_out=$("$pool_bench" -i "$idle" -m "$measure" 127.0.0.1 "${pool_ports[@]:0:dests}") ||
			fail "pool_checkout failed: $run_out"
	else
		run_out=$(SOCKPOOL_MAX_IDLE_PER_DEST=$idle SOCKPOOL_MAX_IDLE=$total \
			SOCKPOOL_IDLE_TIMEOUT_MS=600000 LD_PRELOAD=$SHIM_PRELOAD \
			"$pool_bench" -i "$idle" -m "$measure" 127.0.0.1 "${pool_ports[@]:0:dests}") ||
			fail "pool_checkout failed under sockpool: $run_out"
	fi
	run_new=$(( $(nginx_accepts) - before - total ))
}

# The pool may hold at most a quarter of the fd limit.
[ "$(ulimit -n)" -ge 8192 ] || ulimit -n 8192 || fail "cannot raise the fd limit to 8192"
sizes=(1 3 10 30 100 300 1000)
pool_ports=()
# 1,000 ports for one nginx: python holds them all bound, then lets go.
mapfile -t extra_ports < <(python3 -I -S -c 'import socket
socks = []
for _ in range(999):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
for s in socks:
    print(s.getsockname()[1])')
listen_lines=""
for p in "${extra_ports[@]}"; do
	listen_lines+="listen 127.0.0.1:$p; "
done
echo "bench: pool at size, $checkouts checkouts per run, against one nginx on 1000 ports" >&2
nginx_start "" "$listen_lines"
pool_ports=("$NGINX_PORT" "${extra_ports[@]}")

declare -A co_ns co_p90 co_new co_rss co_rss0 co_fds
# measure_pool KEY IDLE DESTS [plain]: reps runs, medians kept.
measure_pool() {
	local key=$1 idle=$2 dests=$3 rep ns=() p90=() new=() rss=() rss0=() fds=()
	for (( rep = 1; rep <= reps; rep++ )); do
		checkout_run "$idle" "$dests" "${4:-}"
		ns+=("$(field connect_ns_median "$run_out")")
		p90+=("$(field connect_ns_p90 "$run_out")")
		rss+=("$(field rss_held_kb "$run_out")")
		rss0+=("$(field rss_start_kb "$run_out")")
		fds+=("$(field fds_held "$run_out")")
		new+=("$run_new")
	done
	co_ns[$key]=$(median_of "${ns[@]}")
	co_p90[$key]=$(median_of "${p90[@]}")
	co_rss[$key]=$(median_of "${rss[@]}")
	co_rss0[$key]=$(median_of "${rss0[@]}")
	co_fds[$key]=$(median_of "${fds[@]}")
	co_new[$key]=$(stats "${new[@]}" | awk '{ printf "%d", $3 }')	# the worst run
	echo "  $key: connect ${ns[*]} ns, RSS ${rss[*]} KiB, fds ${fds[*]}, new connections ${new[*]}" >&2
}
measure_pool real_connect 1 1 plain
measure_pool plain_1000 1000 1 plain
for n in "${sizes[@]}"; do
	measure_pool "idle_$n" "$n" 1
	[ "$n" = 1 ] || measure_pool "dests_$n" 1 "$n"
done
co_ns[dests_1]=${co_ns[idle_1]} co_p90[dests_1]=${co_p90[idle_1]} co_new[dests_1]=${co_new[idle_1]}

# The same cycle in instructions (user space: program, libc and shim),
# which the machine's noise does not blur: callgrind's totals for
# cg_cycles and twice as many cycles, differenced (the fill cancels out).
cg_cycles=${BENCH_CG_CYCLES:-1000}
checkout_instructions() {	# idle dests [plain]
	local idle=$1 dests=$2 m totals=() env_words=(LD_PRELOAD=)
	[ "${3:-}" = plain ] || env_words=(SOCKPOOL_MAX_IDLE_PER_DEST="$idle"
		SOCKPOOL_MAX_IDLE=$(( idle * dests )) SOCKPOOL_IDLE_TIMEOUT_MS=600000
		LD_PRELOAD="$SHIM_PRELOAD")
	for m in "$cg_cycles" $(( 2 * cg_cycles )); do
		totals+=("$(instructions "${env_words[@]}" valgrind --tool=callgrind \
			--callgrind-out-file=/dev/null "$pool_bench" -i "$idle" -m "$m" \
			127.0.0.1 "${pool_ports[@]:0:dests}")")
	done
	echo $(( (totals[1] - totals[0]) / cg_cycles ))
}
echo "bench: checkout cycles under callgrind, $cg_cycles and $(( 2 * cg_cycles )) per run" >&2
declare -A co_ir
co_ir[real_connect]=$(checkout_instructions 1 1 plain)
for n in "${sizes[@]}"; do
	co_ir[idle_$n]=$(checkout_instructions "$n" 1)
	if [ "$n" = 1 ]; then
		co_ir[dests_1]=${co_ir[idle_1]}
	else
		co_ir[dests_$n]=$(checkout_instructions 1 "$n")
	fi
	echo "  $n: ${co_ir[idle_$n]} instructions per cycle with $n idle, ${co_ir[dests_$n]} with $n destinations" >&2
done
nginx_stop

# ---- report ---------------------------------------------------------------

ratio() {	# a b: a / b as a percentage, or "-"
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a + 0 > 0 && b + 0 > 0) printf "%.0f %%", 100 * a / b; else printf "-" }'
}

# verdict A B TARGET: "met" or "missed" for A / B >= TARGET.
verdict() {
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN {
		if (!(a + 0 > 0 && b + 0 > 0)) print "not measured"
		else if (a / b >= t) print "met"
		else print "missed" }'
}

round() {
	FMT=%.0f calc "$1"
}

report_rps() {
	local threads kind key
	echo "| client | threads | requests/s | min | max | vs keep-alive | origin connections per 10k requests | TIME_WAIT left per 10k requests |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for threads in 1 4; do
		for kind in "${kinds[@]}"; do
			key=${kind}_$threads
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "${kind_label[$kind]}" \
				"$threads" "$(round "${median[$key]/failed/0}")" \
				"$(round "${minimum[$key]/-/0}")" "$(round "${maximum[$key]/-/0}")" \
				"$(ratio "${median[$key]}" "${median[keep_$threads]}")" \
				"${conns[$key]}" "${tw_left[$key]}"
		done
	done
}

report_targets() {
	local threads
	echo "- Speculative checkout (issue 14): sockpool reaches $(ratio "${median[shim_1]}" "${median[keep_1]}") of keep-alive with 1 thread (target ≥ 90 %: $(verdict "${median[shim_1]}" "${median[keep_1]}" 0.9)) and $(ratio "${median[shim_4]}" "${median[keep_4]}") with 4 (target ≥ 85 %: $(verdict "${median[shim_4]}" "${median[keep_4]}" 0.85)); $(ratio "${median[shim_1]}" "${median[ceiling_1]}") and $(ratio "${median[shim_4]}" "${median[ceiling_4]}") of the -k -s ceiling (target ≥ 110 %: $(verdict "${median[shim_1]}" "${median[ceiling_1]}" 1.1), $(verdict "${median[shim_4]}" "${median[ceiling_4]}" 1.1)); with --no-speculate $(ratio "${median[nospec_1]}" "${median[keep_1]}") and $(ratio "${median[nospec_4]}" "${median[keep_4]}") of keep-alive."
	for threads in 1 4; do
		echo "- $threads thread(s): sockpool reaches $(ratio "${median[shim_$threads]}" "${median[keep_$threads]}") of the keep-alive limit (target ≥ 90 %: $(verdict "${median[shim_$threads]}" "${median[keep_$threads]}" 0.9)), $(ratio "${median[shim_$threads]}" "${median[haproxy_$threads]}") of the HAProxy sidecar (target ≥ 130 %: $(verdict "${median[shim_$threads]}" "${median[haproxy_$threads]}" 1.3)), $(ratio "${median[shim_$threads]}" "${median[nginxsc_$threads]}") of the nginx sidecar and $(ratio "${median[shim_$threads]}" "${median[plain_$threads]}") of the unpooled rate; the ceiling (keep-alive with the per-request calls sockpool leaves to the program) is $(ratio "${median[ceiling_$threads]}" "${median[keep_$threads]}") of the limit, and sockpool reaches $(ratio "${median[shim_$threads]}" "${median[ceiling_$threads]}") of it."
	done
}

report_passthrough() {
	local key what
	echo "| pass-through | plain ns | with the shim ns | wall overhead | instructions per call, plain | with the shim | added per call |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
	for key in pipe file; do
		what="1-byte pipe write()+read(), per round trip"
		[ "$key" = file ] && what="64-byte read() of a cached file, per call"
		printf '| %s | %s (%s - %s) | %s (%s - %s) | %s | %s | %s | %s |\n' "$what" \
			"${median[${key}_plain]}" "${minimum[${key}_plain]}" "${maximum[${key}_plain]}" \
			"${median[${key}_shim]}" "${minimum[${key}_shim]}" "${maximum[${key}_shim]}" \
			"$(FMT=%+.1f calc "100 * (${median[${key}_shim]} - ${median[${key}_plain]}) / ${median[${key}_plain]}") %" \
			"${ir[${key}_plain]}" "${ir[${key}_shim]}" \
			"$(FMT=%+.1f calc "${ir[${key}_shim]} - ${ir[${key}_plain]}")"
	done
}

report_memory() {
	local key what
	echo "| process (pool_checkout) | idle connections held | RSS at start KiB | RSS holding them KiB | open fds holding them |"
	echo "|---|---:|---:|---:|---:|"
	for key in plain_1000 idle_1000 dests_1000; do
		case $key in
		plain_1000) what="no sockpool: 1,000 connections made, used, closed" ;;
		idle_1000) what="sockpool: 1,000 idle to one destination" ;;
		dests_1000) what="sockpool: 1 idle to each of 1,000 destinations" ;;
		esac
		printf '| %s | %s | %s | %s | %s |\n' "$what" "$([ "$key" = plain_1000 ] && echo 0 || echo 1000)" \
			"$(round "${co_rss0[$key]}")" "$(round "${co_rss[$key]}")" "$(round "${co_fds[$key]}")"
	done
}

report_checkout() {
	local n
	echo "| N | N idle to one destination: connect() ns (median) | p90 | instructions per cycle | new connections | 1 idle to each of N destinations: connect() ns (median) | p90 | instructions per cycle | new connections |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	for n in "${sizes[@]}"; do
		printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$n" \
			"$(round "${co_ns[idle_$n]}")" "$(round "${co_p90[idle_$n]}")" \
			"${co_ir[idle_$n]}" "${co_new[idle_$n]}" \
			"$(round "${co_ns[dests_$n]}")" "$(round "${co_p90[dests_$n]}")" \
			"${co_ir[dests_$n]}" "${co_new[dests_$n]}"
	done
}

report() {
	echo "## sockpool benchmark"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sr), $(nproc) CPUs, nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(haproxy -v | head -n 1 | cut -d' ' -f1-3), sockpool $("$BUILD/sockpool" --version | cut -d' ' -f2); \`make bench\` (bench/run.sh), $reps runs per case, median (min - max)."
	echo
	echo "### Requests per second"
	echo
	echo "naive_client fetching a small static file from nginx on loopback, $requests requests per run; the sidecars and the origin run one worker each."
	echo
	report_rps
	echo
	report_targets
	echo
	echo "TIME_WAIT sockets on this host: $tw_start before, $tw_end after (the kernel keeps at most $tw_limit, net.ipv4.tcp_max_tw_buckets; past that, closed connections skip TIME_WAIT and new ones get cheaper, so the unpooled runs speed up as the table fills). TIME_WAIT left is the most any run of the case left on its ports; it is below one per connection because the table fills and because Linux reuses TIME_WAIT ports for new connections on loopback (net.ipv4.tcp_tw_reuse = $(cat /proc/sys/net/ipv4/tcp_tw_reuse 2>/dev/null || echo '?'))."
	echo
	echo "![requests per second](rps.png)"
	echo
	echo "### Pass-through"
	echo
	echo "Wall time: $roundtrips iterations per run. Instructions: callgrind's totals for $cg_iters and $(( 2 * cg_iters )) iterations, differenced (user space only; start-up excluded)."
	echo
	report_passthrough
	echo
	echo "The shim's start-up, once per process: about ${ir[pipe_startup]} instructions (callgrind, pipe_roundtrip)."
	echo
	echo "### Memory and fds of a big pool"
	echo
	report_memory
	echo
	echo "### Checkout cost as the pool grows"
	echo
	echo "$checkouts cycles of socket(), connect() (timed alone), GET, close() per run, after filling the pool. Instructions: a whole cycle in user space (program, libc, shim; callgrind, $cg_cycles and $(( 2 * cg_cycles )) cycles differenced). \"New connections\" is what nginx accepted during the timed cycles (0: every connect() came from the pool). Without sockpool a real loopback connect() takes $(round "${co_ns[real_connect]}") ns (median) and the cycle ${co_ir[real_connect]} instructions."
	echo
	report_checkout
	echo
	echo "![checkout cost](checkout.png)"
}

plot_data() {
	local kind threads key
	for kind in "${kinds[@]}"; do
		printf '"%s"' "${kind_short[$kind]}"
		for threads in 1 4; do
			key=${kind}_$threads
			printf ' %s %s %s' "${median[$key]/failed/0}" "${minimum[$key]/-/0}" "${maximum[$key]/-/0}"
		done
		echo
	done > "$results_dir/rps.dat"
	{
		echo "# idle sockets per destination (one destination), ns per connect() from the pool"
		for n in "${sizes[@]}"; do echo "$n ${co_ns[idle_$n]} ${co_ir[idle_$n]}"; done
		printf '\n\n'
		echo "# destinations (one idle socket each), the same"
		for n in "${sizes[@]}"; do echo "$n ${co_ns[dests_$n]} ${co_ir[dests_$n]}"; done
	} > "$results_dir/checkout.dat"
	gnuplot -e "dir='$results_dir'; real_connect_ns=${co_ns[real_connect]}; plain_cycle_ir=${co_ir[real_connect]}" \
		"$here/plots.gp" ||
		fail "gnuplot failed"
}

plot_data
report > "$results_dir/latest.md"
cat "$results_dir/latest.md"

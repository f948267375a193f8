#!/usr/bin/env bash
# bench/share.sh: the shared pool (sockpool --share), part of `make bench`.
#
# 1. Hand-off cost (broker_handoff.c): p50/p99 of a give and of a take
#    through a standalone broker, against a loopback connect.
# 2. A shell loop of BENCH_SHARE_RUNS (default 200) `curl -s URL`
#    processes against a private nginx, plain, under sockpool (a pool per
#    process) and under sockpool --share: connections nginx accepted,
#    TIME_WAIT left (ss), wall time.
# Output: bench/results/share.md (also on stdout).
set -euo pipefail
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
source "$(dirname "$0")/../tests/integration/lib.sh"
runs=${BENCH_SHARE_RUNS:-200}
out=$(cd "$(dirname "$0")" && pwd)/results/share.md
mkdir -p "$(dirname "$out")"

sock=$WORK/broker/sock
"$BUILD/sockpool-broker" --socket "$sock" --daemon --persist 60000
at_exit sh -c "kill \$(fuser $sock.lock 2>/dev/null) 2>/dev/null; true"
read -r _ c50 c99 < <("$BUILD/bench/broker_handoff" "$sock" 5000 | grep connect)
read -r _ g50 g99 < <("$BUILD/bench/broker_handoff" "$sock" 5000 | grep give)
read -r _ t50 t99 < <("$BUILD/bench/broker_handoff" "$sock" 5000 | grep take)

nginx_start
url="http://127.0.0.1:$NGINX_PORT/index.html"
declare -A conns tw wall
for mode in plain sockpool shared; do
	case $mode in
	plain) pre=() ;;
	sockpool) pre=("$BUILD/sockpool" --) ;;
	shared) pre=("$BUILD/sockpool" --share --) ;;
	esac
	before=$(nginx_accepts)
	tw_before=$(time_wait_count "$NGINX_PORT")
	start=$(date +%s%N)
	"${pre[@]}" bash -c 'for _ in $(seq "$1"); do curl -s -o /dev/null "$2"; done' _ "$runs" "$url"
	wall[$mode]=$(( ($(date +%s%N) - start) / 1000000 ))
	tw[$mode]=$(( $(time_wait_count "$NGINX_PORT") - tw_before ))
	conns[$mode]=$(( $(nginx_accepts) - before ))
	echo "  $mode: ${conns[$mode]} connections, ${tw[$mode]} TIME_WAIT, ${wall[$mode]} ms" >&2
done

{
	echo "## Shared pool ($(nproc) CPUs, $(uname -r))"
	echo
	echo "| hand-off | p50 us | p99 us |"
	echo "|---|---:|---:|"
	echo "| loopback connect | $c50 | $c99 |"
	echo "| give to the broker | $g50 | $g99 |"
	echo "| take from the broker | $t50 | $t99 |"
	echo
	echo "| $runs x curl -s URL in a shell loop | connections | TIME_WAIT | wall ms |"
	echo "|---|---:|---:|---:|"
	for mode in plain sockpool shared; do
		echo "| $mode | ${conns[$mode]} | ${tw[$mode]} | ${wall[$mode]} |"
	done
} | tee "$out"

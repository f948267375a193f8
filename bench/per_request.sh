#!/usr/bin/env bash
# bench/per_request.sh: what one request costs each client, in system calls
# (strace -f -c) and in user-space instructions (callgrind), without
# sockpool, under sockpool with SOCKPOOL_SPECULATE=0 (a pooled socket is
# handed out at connect()), and under sockpool as it ships (socket() may
# hand one out: speculate.h).  With BENCH_BEFORE_LIB=/abs/libsockpool.so,
# an older build is measured too ("before").
#
#   BUILD=/abs/build bench/per_request.sh     (make bench runs it)
#
# Each client makes N and then 2N requests, each on a new connection of
# its own, to a private nginx; the difference of the two totals, over N,
# is the cost of one request with the process's start-up taken out.  Each
# is measured once: sockpool's part does not move between runs, but event
# loops do (curl polls more or less as responses come sooner or later: a
# few calls per request either way), and so do interpreters' instruction
# counts (garbage collection, JIT).  BENCH_PR_REQUESTS (default
# 200) is N.  Output: bench/results/per_request.md (also on stdout).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../tests/integration/lib.sh"

n=${BENCH_PR_REQUESTS:-200}
lib=$BUILD/libsockpool.so
before_lib=${BENCH_BEFORE_LIB:-}
for tool in strace valgrind; do
	command -v "$tool" > /dev/null || fail "$tool is missing: run scripts/deps.sh bench as root"
done

# A second port of the same nginx: the clients that alternate.
second_port=$(free_port)
NGINX_ACCESS_LOG=off nginx_start "" "listen 127.0.0.1:$second_port;"
url="http://127.0.0.1:$NGINX_PORT/index.html"

# client NAME: the command making $1 requests, one connection each.
client() {	# name count
	local count=$2
	case $1 in
	naive) echo "$BUILD/examples/naive_client -q -n $count 127.0.0.1 $NGINX_PORT /index.html" ;;
	requests) echo "python3 -c 'import requests
for i in range($count): requests.get(\"$url\").content'" ;;
	urllib) echo "python3 -c 'import urllib.request
for i in range($count): urllib.request.urlopen(\"$url\").read()'" ;;
	http.client) echo "python3 -c 'import http.client
for i in range($count):
    c = http.client.HTTPConnection(\"127.0.0.1\", $NGINX_PORT, timeout=5)
    c.request(\"GET\", \"/index.html\"); c.getresponse().read(); c.close()'" ;;
	curl) echo "curl -s -o /dev/null -H Connection:close $(printf "$url %.0s" $(seq "$count"))" ;;
	node) echo "node -e 'const http = require(\"http\"); let left = $count;
function next() { if (left-- == 0) return;
  http.get(\"$url\", { agent: false }, r => { r.resume(); r.on(\"end\", next); }); }
next();'" ;;
	ab) echo "ab -q -n $count -c 1 $url" ;;
	# Two destinations in turn, and two requests to each in turn: the
	# patterns a guess at socket() gets wrong.
	alternating | pairs) echo "python3 -c 'import http.client
ports = [$NGINX_PORT, $second_port]
for i in range($count):
    port = ports[i % 2] if \"$1\" == \"alternating\" else ports[i // 2 % 2]
    c = http.client.HTTPConnection(\"127.0.0.1\", port, timeout=5)
    c.request(\"GET\", \"/index.html\"); c.getresponse().read(); c.close()'" ;;
	esac
}
clients=(${BENCH_PR_CLIENTS:-naive requests urllib http.client curl node ab alternating pairs})
declare -A label=([naive]="examples/naive_client" [requests]="python3 requests.get"
	[urllib]="python3 urllib.request" [http.client]="python3 http.client"
	[curl]="curl, N URLs, Connection: close" [node]="node http.get, agent:false"
	[ab]="ab -c 1 (HTTP/1.0)"
	[alternating]="python3 http.client, two ports in turn"
	[pairs]="python3 http.client, two requests per port in turn")

# preload VARIANT: the environment words for a variant.
preload() {
	case $1 in
	plain) echo "LD_PRELOAD=" ;;
	before) echo "LD_PRELOAD=$before_lib SOCKPOOL_STATS=0" ;;
	nospec) echo "LD_PRELOAD=$lib SOCKPOOL_STATS=0 SOCKPOOL_SPECULATE=0" ;;
	spec) echo "LD_PRELOAD=$lib SOCKPOOL_STATS=0" ;;
	esac
}
variants=(plain nospec spec)
[ -n "$before_lib" ] && variants=(plain before nospec spec)

syscalls() {	# variant name count
	# shellcheck disable=SC2046 # the environment words
	env $(preload "$1") strace -f -c -o "$WORK/strace.out" \
		bash -c "$(client "$2" "$3")" > /dev/null 2> "$WORK/client.err" ||
		fail "$2 ($1) failed: $(tail -n 3 "$WORK/client.err")"
	awk '$NF == "total" { print ($4 ~ /^[0-9]+$/ ? $4 : $3) }' "$WORK/strace.out"
}

instructions() {	# variant name count
	# shellcheck disable=SC2046
	env $(preload "$1") valgrind --tool=callgrind --callgrind-out-file=/dev/null \
		--trace-children=yes bash -c "exec $(client "$2" "$3")" > /dev/null 2> "$WORK/cg.err" ||
		fail "$2 ($1) failed under valgrind: $(tail -n 3 "$WORK/cg.err")"
	sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$WORK/cg.err" | tail -n 1
}

per_request() {	# measure variant name
	local a b
	a=$("$1" "$2" "$3" "$n")
	b=$("$1" "$2" "$3" $(( 2 * n )))
	awk -v a="$a" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (b - a) / n }'
}

declare -A calls instr accepts
for name in "${clients[@]}"; do
	for v in "${variants[@]}"; do
		before=$(nginx_accepts)
		calls[$name,$v]=$(per_request syscalls "$v" "$name")
		accepts[$name,$v]=$(( $(nginx_accepts) - before ))
		instr[$name,$v]=$(per_request instructions "$v" "$name")
		echo "  $name $v: ${calls[$name,$v]} system calls, ${instr[$name,$v]} instructions per request; ${accepts[$name,$v]} connections for $(( 3 * n )) requests" >&2
	done
done
nginx_stop

{
	echo "# Per request: system calls and user-space instructions"
	echo
	echo "$(date -u +%Y-%m-%d), $(uname -r), $(nproc) CPUs; N = $n and $(( 2 * n )) requests, the difference over N (start-up taken out)."
	echo
	head="| client |"
	rule="|---|"
	for v in "${variants[@]}"; do
		head+=" syscalls $v |"
		rule+="---:|"
	done
	for v in "${variants[@]}"; do
		head+=" instructions $v |"
		rule+="---:|"
	done
	echo "$head"
	echo "$rule"
	for name in "${clients[@]}"; do
		line="| ${label[$name]} |"
		for v in "${variants[@]}"; do
			line+=" ${calls[$name,$v]} |"
		done
		for v in "${variants[@]}"; do
			line+=" ${instr[$name,$v]} |"
		done
		echo "$line"
	done
	echo
	echo "plain: without sockpool; nospec: SOCKPOOL_SPECULATE=0; spec: sockpool as it ships."
	if [ -n "$before_lib" ]; then
		echo "before: $before_lib."
	fi
} | tee "$here/results/per_request.md"

#!/usr/bin/env bash
# bench/curl_loop.sh: curl in a shell loop, timed, as scripts call an API.
#
#   curl_loop.sh URL N EXPECTED_BODY_FILE
#
# N runs of `curl -sS URL`, one after the other, each a new process and so
# a new connection; each body must equal EXPECTED_BODY_FILE.  A request's
# time is the whole curl run as the script sees it (start-up included),
# taken with bash's own clock ($EPOCHREALTIME: no process to read it).
# Prints the summary line of examples/naive_client -l, connect figures
# from curl's own time_connect:
#   requests=N ok=N errors=N seconds=S rps=R p50_us=N p99_us=N connects=N connect_p50_us=N
# and exits 1 when any run failed.
set -uo pipefail

url=$1 count=$2 expected=$3
body=$(mktemp "${TMPDIR:-/tmp}/curl_loop.XXXXXX")
trap 'rm -f "$body"' EXIT
us() {	# $EPOCHREALTIME in microseconds
	local s=${1%.*} f=${1#*.}
	echo $(( s * 1000000 + 10#$f ))
}
errors=0 times=() connects=()
start=$(us "$EPOCHREALTIME")
for (( i = 0; i < count; i++ )); do
	t=$(us "$EPOCHREALTIME")
	if connect=$(curl -sS --max-time 10 -o "$body" -w '%{time_connect}' "$url") &&
		cmp -s "$body" "$expected"; then
		times+=($(( $(us "$EPOCHREALTIME") - t )))
		connects+=("$connect")
	else
		errors=$(( errors + 1 ))
	fi
done
end=$(us "$EPOCHREALTIME")
# quantile Q: of the numbers on stdin, the value below which a share Q lie.
quantile() {
	sort -g | awk -v q="$1" '{ v[NR] = $1 } END {
		if (NR == 0) { print 0; exit }
		i = int(q * NR + 0.999999); if (i < 1) i = 1; printf "%d\n", v[i] }'
}
ok=${#times[@]}
awk -v n="$count" -v ok="$ok" -v e="$errors" -v us=$(( end - start )) \
	-v p50="$(printf '%s\n' "${times[@]}" | quantile 0.5)" \
	-v p99="$(printf '%s\n' "${times[@]}" | quantile 0.99)" \
	-v c50="$(printf '%s\n' "${connects[@]}" | awk '{ printf "%d\n", $1 * 1e6 }' | quantile 0.5)" \
	'BEGIN {
		f = "requests=%d ok=%d errors=%d seconds=%.3f rps=%.1f p50_us=%d p99_us=%d connects=%d connect_p50_us=%d\n"
		printf f, n, ok, e, us / 1e6, (us > 0 ? ok * 1e6 / us : 0), p50, p99, ok, c50 }'
[ "$errors" -eq 0 ]

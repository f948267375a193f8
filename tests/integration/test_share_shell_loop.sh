#!/usr/bin/env bash
# One pool for many processes (sockpool --share): 200 runs of curl in a
# shell loop, each process making one request, share a handful of
# connections through the broker.  Judged by nginx's accepts and by ss
# (TIME_WAIT); the control runs (plain, and sockpool without --share,
# whose pool dies with each process) show the witness counts 200.
source "$(dirname "$0")/lib.sh"

command -v curl >/dev/null || skip "no curl"
nginx_start
url="http://127.0.0.1:$NGINX_PORT/index.html"
runs=200

# The loop: every body checked against the file; errors counted.
loop='errors=0
for i in $(seq "$1"); do
	curl -s "$2" > "$4/body" && cmp -s "$4/body" "$3" || errors=$((errors + 1))
done
echo "$errors" > "$4/errors"
"$5" --once > "$4/stat" 2>&1 || true'

# Shared first: the control runs leave hundreds of TIME_WAIT behind.
# TIME_WAIT is counted between the accept counts (each asks nginx on a
# connection of its own).
before=$(nginx_accepts)
tw_before=$(time_wait_count "$NGINX_PORT")
"$BUILD/sockpool" --share -- bash -c "$loop" _ "$runs" "$url" "$DOCROOT/index.html" "$WORK" \
	"$BUILD/sockpool-stat"
tw=$(( $(time_wait_count "$NGINX_PORT") - tw_before ))
# The reader, run while the broker lives, shows its row.
grep -E '^  shared pool: [0-9]+ held, [1-9][0-9]* taken back, [1-9][0-9]* handed out' \
	"$WORK/stat" || fail "sockpool-stat shows no shared pool line: $(cat "$WORK/stat")"
shared=$(( $(nginx_accepts) - before ))
assert_eq "errors under --share" 0 "$(cat "$WORK/errors")"
assert_le "connections for $runs curl runs under --share" 2 "$shared"
assert_le "TIME_WAIT left by $runs curl runs under --share" 2 "$tw"
before=$(nginx_accepts)
bash -c "$loop" _ "$runs" "$url" "$DOCROOT/index.html" "$WORK" true
assert_eq "errors without sockpool" 0 "$(cat "$WORK/errors")"
assert_eq "connections for $runs curl runs without sockpool" "$runs" $(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
"$BUILD/sockpool" -- bash -c "$loop" _ "$runs" "$url" "$DOCROOT/index.html" "$WORK" true
assert_eq "errors under per-process sockpool" 0 "$(cat "$WORK/errors")"
assert_eq "connections for $runs curl runs, a pool per process" "$runs" \
	$(( $(nginx_accepts) - before ))
echo "ok: $runs curl processes shared $shared connection(s); plain and per-process: $runs"

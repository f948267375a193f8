#!/usr/bin/env bash
# A bad setting disables the shim with one line on stderr that names the
# variable and what it accepts; the program runs and exits as it would.
# SOCKPOOL_DISABLE=1 passes everything through.
source "$(dirname "$0")/lib.sh"

nginx_start
client="$BUILD/examples/naive_client"

check_passthrough() {	# description, then VAR=value...
	local what=$1; shift
	local before stderr_lines
	before=$(nginx_accepts)
	env "$@" LD_PRELOAD="$SHIM_PRELOAD" "$client" -q -n 20 \
		-e "$DOCROOT/index.html" 127.0.0.1 "$NGINX_PORT" /index.html \
		> "$WORK/out" 2> "$WORK/err" || fail "$what: the client failed: $(cat "$WORK/err")"
	assert_eq "$what: connections for 20 requests (not pooled)" 20 $(( $(nginx_accepts) - before ))
	echo "$what: stderr: $(cat "$WORK/err")"
}

for setting in SOCKPOOL_MAX_IDLE=abc SOCKPOOL_MAX_IDLE_PER_DEST=-1 \
	SOCKPOOL_IDLE_TIMEOUT_MS=5s SOCKPOOL_DEST=example.com:80 \
	SOCKPOOL_EXCLUDE=127.0.0.1 SOCKPOOL_LOG=loud SOCKPOOL_STATS_DIR=relative \
	SOCKPOOL_REWRITE=maybe SOCKPOOL_RETRIES=1e3 \
	SOCKPOOL_DEST= 'SOCKPOOL_DEST=*,,*' SOCKPOOL_EXCLUDE=,; do
	check_passthrough "$setting" "$setting"
	assert_eq "$setting: lines on stderr" 1 "$(wc -l < "$WORK/err")"
	grep -q "${setting%%=*}" "$WORK/err" || fail "$setting: stderr does not name the variable"
	grep -q "expected" "$WORK/err" || fail "$setting: stderr does not say what is accepted"
done

check_passthrough "kill switch" SOCKPOOL_DISABLE=1
assert_eq "kill switch: lines on stderr" 0 "$(wc -l < "$WORK/err")"

# The exit status is the program's own, shim or no shim.
set +e
LD_PRELOAD="$SHIM_PRELOAD" SOCKPOOL_MAX_IDLE=abc sh -c 'exit 3' 2>/dev/null
status=$?
set -e
assert_eq "exit status under a bad setting" 3 "$status"
echo "ok: bad settings pass through, loudly"

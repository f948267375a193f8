#!/usr/bin/env bash
# One pool for many processes with other short-lived clients: a loop of
# `python3 -c 'urllib.request.urlopen(...)'` (which asks the server to
# close: the rewrite keeps it) and a loop of php-cli, each process one
# request, under sockpool --share: a few connections for dozens of
# processes (nginx's accepts).
source "$(dirname "$0")/lib.sh"

nginx_start
url="http://127.0.0.1:$NGINX_PORT/index.html"
runs=40

py='import sys, urllib.request
body = urllib.request.urlopen(sys.argv[1]).read()
sys.exit(0 if body == open(sys.argv[2], "rb").read() else 1)'
run_loop() {	# runs command...: errors into $WORK/errors
	local n=$1
	shift
	"$BUILD/sockpool" --share -- bash -c 'n=$1; out=$2; shift 2; errors=0
		for _ in $(seq "$n"); do "$@" || errors=$((errors + 1)); done
		echo "$errors" > "$out"' _ "$n" "$WORK/errors" "$@"
}

before=$(nginx_accepts)
run_loop "$runs" python3 -c "$py" "$url" "$DOCROOT/index.html"
assert_eq "errors of python3 urllib processes" 0 "$(cat "$WORK/errors")"
assert_le "connections for $runs python3 urllib processes" 3 $(( $(nginx_accepts) - before ))

if [ -n "$PRELOAD_FIRST" ]; then
	echo "SKIP part: php-cli under a sanitizer runtime (it refuses RTLD_DEEPBIND)"
elif command -v php >/dev/null; then
	before=$(nginx_accepts)
	run_loop "$runs" php -r '$b = file_get_contents($argv[1]); exit($b === file_get_contents($argv[2]) ? 0 : 1);' \
		"$url" "$DOCROOT/index.html"
	assert_eq "errors of php-cli processes" 0 "$(cat "$WORK/errors")"
	assert_le "connections for $runs php-cli processes" 3 $(( $(nginx_accepts) - before ))
else
	echo "SKIP part: no php-cli"
fi
echo "ok: python3 and php-cli processes share the pool"

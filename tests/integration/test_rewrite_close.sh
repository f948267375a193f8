#!/usr/bin/env bash
# Programs that ask the server to close are pooled too: the request is
# sent rewritten to keep the connection, and once the response is complete
# the program reads end-of-file as if the server had closed.  python's
# urllib (Connection: close) and the naive client in HTTP/1.0 (-1) and
# "Connection: close" (-c) modes, every body checked; with
# SOCKPOOL_REWRITE=0 they are correct and unpooled.  ab (non-blocking,
# epoll, HTTP/1.0, reads until close) is not rewritten yet: it must still
# finish with no failed request.
source "$(dirname "$0")/lib.sh"

nginx_start
body="$DOCROOT/index.html"
urllib() {	# launcher words...
	"$@" /usr/bin/python3 -c '
import sys, urllib.request
body = open(sys.argv[2], "rb").read()
for i in range(50):
    got = urllib.request.urlopen("http://127.0.0.1:%s/index.html" % sys.argv[1]).read()
    assert got == body, "request %d: wrong body" % i
' "$NGINX_PORT" "$body"
}
connections_for() {	# description, expected at most, command...
	local what=$1 most=$2 before
	shift 2
	before=$(nginx_accepts)
	"$@" || fail "$what: the program failed"
	assert_le "$what: connections" "$most" $(( $(nginx_accepts) - before ))
}

connections_for "urllib, 50 requests" 2 urllib "$BUILD/sockpool" --
before=$(nginx_accepts)
SOCKPOOL_REWRITE=0 urllib "$BUILD/sockpool" --
assert_eq "urllib with SOCKPOOL_REWRITE=0: connections" 50 $(( $(nginx_accepts) - before ))
for mode in -1 -c; do
	connections_for "naive_client $mode, 500 requests, 2 threads" 4 \
		"$BUILD/sockpool" -- "$BUILD/examples/naive_client" "$mode" -q -n 500 -t 2 \
		-e "$body" 127.0.0.1 "$NGINX_PORT" /index.html
done
out=$("$BUILD/sockpool" -- ab -q -n 300 -c 2 "http://127.0.0.1:$NGINX_PORT/index.html")
grep -q '^Failed requests: *0$' <<< "$out" || fail "ab: $(grep -E 'Complete|Failed' <<< "$out")"
echo "ok: requests asking to close are pooled, and read end-of-file as expected"

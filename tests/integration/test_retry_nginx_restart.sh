#!/usr/bin/env bash
# nginx restarted in the middle of a run: stopped (gracefully, as an
# operator does), its port closed for 250 ms more, started again on the
# same port.  Proves that under sockpool the program sees no error: the
# pooled connection nginx closed is replaced, and the connects nginx
# refused meanwhile are retried with backoff (by default at least about
# 530 ms of it, more than the outage) until nginx listens again.
#
# Without sockpool the naive client fails on every request of the outage
# ("connect failed: Connection refused").
source "$(dirname "$0")/lib.sh"

requests=500
nginx_start
# 10 ms between requests: about 100 a second, so that the retry budget
# (5 plus 20 % of the last 10 s of requests) is well above what one
# outage costs.
"$BUILD/sockpool" -- "$BUILD/examples/naive_client" -n "$requests" -p 10 \
	-e "$DOCROOT/index.html" 127.0.0.1 "$NGINX_PORT" /index.html \
	> "$WORK/client.out" 2> "$WORK/client.err" &
client=$!
bg_track "$client"
served_over() {	# n
	[ "$(nginx_requests)" -gt "$1" ]
}
wait_for "the client to make 150 requests" served_over 150
before=$(nginx_requests)
nginx_restart 250
kill -0 "$client" 2>/dev/null ||
	fail "the client ended before nginx came back: the test proves nothing"
status=0
bg_wait "$client" || status=$?
cat "$WORK/client.out"
sed 's/^/client: /' "$WORK/client.err" | head -n 20 >&2
after=$(nginx_requests)
echo "nginx served $before requests before the restart, $after after it"
assert_ge "requests the restarted nginx served" 1 "$after"
assert_eq "client exit status (0: every response right)" 0 "$status"
grep -q "^requests=$requests ok=$requests errors=0 " "$WORK/client.out" ||
	fail "client did not report $requests good responses"
assert_ge "requests both nginx served in all (access log)" "$requests" \
	"$(count_lines '"GET /index.html HTTP/1.1" 200 ' "$NGINX_DIR/access.log")"
echo "ok: a 250 ms restart of nginx costs no request"

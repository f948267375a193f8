#!/usr/bin/env bash
# Programs that ask the server to close are pooled too: the request is
# sent rewritten to keep the connection, and once the response is complete
# the program reads end-of-file as if the server had closed.  python's
# urllib (Connection: close) and the naive client in HTTP/1.0 (-1) and
# "Connection: close" (-c) modes, every body checked; with
# SOCKPOOL_REWRITE=0 they are correct and unpooled.  Event loops too: ab
# (APR on epoll, HTTP/1.0, reads until close), curl with "Connection:
# close" and 50 URLs (libcurl, poll), and node's http.get with agent:false
# (libuv, epoll) when node is installed.
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
before=$(nginx_accepts)
out=$("$BUILD/sockpool" -- ab -q -n 300 -c 2 "http://127.0.0.1:$NGINX_PORT/index.html")
grep -q '^Failed requests: *0$' <<< "$out" || fail "ab: $(grep -E 'Complete|Failed' <<< "$out")"
grep -q '^Complete requests: *300$' <<< "$out" || fail "ab: $(grep -E 'Complete' <<< "$out")"
assert_le "ab -n 300 -c 2: connections" 4 $(( $(nginx_accepts) - before ))

# curl hangs with a sanitizer runtime preloaded, sockpool or not: it is
# left to the plain pass.
if [ -z "$PRELOAD_FIRST" ]; then
	urls=()
	for i in $(seq 50); do urls+=("http://127.0.0.1:$NGINX_PORT/index.html"); done
	before=$(nginx_accepts)
	"$BUILD/sockpool" -- curl -sf -H 'Connection: close' "${urls[@]}" > "$WORK/curl.out" ||
		fail "curl failed"
	assert_eq "curl: bytes for 50 bodies" $(( 50 * $(stat -c %s "$body") )) \
		"$(stat -c %s "$WORK/curl.out")"
	assert_le "curl -H 'Connection: close', 50 URLs: connections" 2 \
		$(( $(nginx_accepts) - before ))
fi

if command -v node > /dev/null; then
	connections_for "node http.get agent:false, 100 requests" 2 "$BUILD/sockpool" -- node -e '
const http = require("http"), fs = require("fs");
const want = fs.readFileSync(process.argv[2], "utf8");
let n = 0;
function one() {
  http.get({host: "127.0.0.1", port: +process.argv[1], path: "/index.html", agent: false}, res => {
    let body = ""; res.setEncoding("utf8");
    res.on("data", d => body += d);
    res.on("end", () => {
      if (body !== want) { console.error("wrong body"); process.exit(1); }
      if (++n < 100) one();
    });
  }).on("error", e => { console.error(e.message); process.exit(1); });
}
one();' "$NGINX_PORT" "$body"
else
	echo "(node is not installed: not tried)"
fi
echo "ok: requests asking to close are pooled, and read end-of-file as expected"

#!/usr/bin/env bash
# The naive C client (one connection per request) against a real nginx:
# under sockpool it costs nginx at most as many connections as it has
# requests in flight, and every body is still right.  Judged by nginx's
# own count of accepted connections (stub_status).
source "$(dirname "$0")/lib.sh"

nginx_start
client="$BUILD/examples/naive_client"
url_args=(127.0.0.1 "$NGINX_PORT" /index.html)

# The witness works: without the shim every request is a connection.
before=$(nginx_accepts)
"$client" -q -n 50 -e "$DOCROOT/index.html" "${url_args[@]}"
assert_eq "connections for 50 unshimmed requests" 50 $(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" -q -n 2000 -e "$DOCROOT/index.html" "${url_args[@]}"
assert_le "connections for 2000 requests, 1 thread" 2 $(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" -q -n 2000 -t 4 -e "$DOCROOT/body_16k.bin" \
	127.0.0.1 "$NGINX_PORT" /body_16k.bin
assert_le "connections for 2000 requests, 4 threads" 8 $(( $(nginx_accepts) - before ))

# IPv6 loopback, when this machine has it.
if [ -n "${NGINX_PORT6:-}" ]; then
	before=$(nginx_accepts)
	"$BUILD/sockpool" -- "$client" -q -n 200 -e "$DOCROOT/index.html" ::1 "$NGINX_PORT6" /index.html
	assert_le "connections for 200 requests over IPv6" 2 $(( $(nginx_accepts) - before ))
fi
echo "ok: naive client pooled"

#!/usr/bin/env bash
# Unmodified python3 clients that open a connection per request:
# http.client in a loop and requests.get() without a Session.
source "$(dirname "$0")/lib.sh"

nginx_start
clients="$(dirname "$0")/clients"

before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 "$clients/http_client_loop.py" \
	127.0.0.1 "$NGINX_PORT" /index.html 200 "$DOCROOT/index.html"
assert_le "connections for 200 http.client requests" 2 $(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 "$clients/requests_loop.py" \
	"http://127.0.0.1:$NGINX_PORT/body_16k.bin" 200 "$DOCROOT/body_16k.bin"
assert_le "connections for 200 requests.get calls" 2 $(( $(nginx_accepts) - before ))
echo "ok: python clients pooled"

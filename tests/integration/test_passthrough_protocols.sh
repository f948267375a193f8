#!/usr/bin/env bash
# What is not plain HTTP/1.x passes through untouched: TLS (curl and
# python's ssl, one connection per request with and without the shim) and
# a line protocol that is not HTTP.
source "$(dirname "$0")/lib.sh"

nginx_start "" "" tls
clients="$(dirname "$0")/clients"

before=$(nginx_accepts)
for i in 1 2 3 4 5; do
	"$BUILD/sockpool" -- curl -sSk -o "$WORK/curl_$i.out" "https://127.0.0.1:$NGINX_TLS_PORT/index.html"
	cmp "$DOCROOT/index.html" "$WORK/curl_$i.out" || fail "curl over TLS: wrong body"
done
assert_eq "connections for 5 curl TLS requests" 5 $(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 "$clients/tls_loop.py" \
	127.0.0.1 "$NGINX_TLS_PORT" /body_16k.bin 20 "$DOCROOT/body_16k.bin"
assert_eq "connections for 20 python TLS requests" 20 $(( $(nginx_accepts) - before ))

py_server_start line "$clients/line_server.py"
"$BUILD/sockpool" -- /usr/bin/python3 "$clients/line_client.py" "$PY_SERVER_PORT" 20
assert_eq "connections for 20 line-protocol exchanges" 20 "$(grep -c '^accept$' "$PY_SERVER_LOG")"
echo "ok: TLS and non-HTTP pass through"

#!/usr/bin/env bash
# Servers that close connections: an idle timeout shorter than the
# client's pause (the pooled socket is found dead and a new one made, with
# no error) and a limit of requests per connection (the connection the
# server announced closing is never handed out again).
source "$(dirname "$0")/lib.sh"

client="$BUILD/examples/naive_client"

nginx_start "keepalive_timeout 1s;"
before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" -n 3 -p 1500 -e "$DOCROOT/index.html" 127.0.0.1 "$NGINX_PORT" /index.html
assert_eq "connections for 3 requests 1.5 s apart, server idle timeout 1 s" 3 \
	$(( $(nginx_accepts) - before ))
before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" -n 5 -p 100 -e "$DOCROOT/index.html" 127.0.0.1 "$NGINX_PORT" /index.html
assert_eq "connections for 5 requests 0.1 s apart, server idle timeout 1 s" 1 \
	$(( $(nginx_accepts) - before ))
nginx_stop

nginx_start "keepalive_requests 3;"
before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" -n 30 -e "$DOCROOT/index.html" 127.0.0.1 "$NGINX_PORT" /index.html
assert_eq "connections for 30 requests, 3 allowed per connection" 10 \
	$(( $(nginx_accepts) - before ))
echo "ok: closed and closing connections are never reused"

# A server that announces the close but keeps the connection open: any
# request that still reaches it on that connection is a violation it logs.
py_server_start announcer "$(dirname "$0")/clients/close_announcer.py"
"$BUILD/sockpool" -- "$client" -n 40 -e <(printf 'hello\n') 127.0.0.1 "$PY_SERVER_PORT" /
assert_eq "requests the announcing server saw" 40 "$(grep -c '^request$' "$PY_SERVER_LOG")"
assert_eq "requests sent after the server announced the close" 0 \
	"$(grep -c VIOLATION "$PY_SERVER_LOG" || true)"
assert_eq "connections to the announcing server" 20 "$(grep -c '^accept$' "$PY_SERVER_LOG")"
echo "ok: announced closes are honoured"

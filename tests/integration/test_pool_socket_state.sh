#!/usr/bin/env bash
# A reused connection looks to the program exactly like the socket it
# made: its own timeouts, Nagle and keep-alive settings, its blocking mode,
# and a non-blocking connect that completes like a real one.
source "$(dirname "$0")/lib.sh"

nginx_start
before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 "$(dirname "$0")/clients/socket_state.py" \
	127.0.0.1 "$NGINX_PORT" /index.html
# One connection for the three sockets proves the later two were reused.
assert_eq "connections for three sockets" 1 $(( $(nginx_accepts) - before ))
echo "ok: socket options and flags follow the program's socket"

#!/usr/bin/env bash
# A pooled socket in use keeps a private duplicate (its shadow) so that
# parking it again costs no system call.  The program must not be able to
# tell: a closerange() over the shadow leaves the connection poolable
# (parked again with a new duplicate: nginx accepts one connection for
# three requests), and a socket that is not parked (duplicated by the
# program) is closed with its shadow (no socket left open).
source "$(dirname "$0")/lib.sh"

nginx_start
before=$(nginx_accepts)
out=$("$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/shadow_fds.py" "$NGINX_PORT" \
	/index.html) || fail "the client failed: $out"
echo "$out"
assert_eq "three requests, a closerange() over the shadow between: connections" 1 \
	$(( $(nginx_accepts) - before ))
assert_eq "sockets left open after the last (unpooled) socket was closed" 0 \
	"$(sed -n 's/^sockets open at the end: //p' <<< "$out")"

#!/usr/bin/env bash
# A request sockpool rewrote to keep the connection must always reach the
# end the program expects, whatever the program does next (issue 11):
#  - a non-blocking upload larger than the socket takes at once is told
#    exactly how many of its bytes went (slow-draining server: md5);
#  - readers sockpool cannot see (stdio, a child's stdin, fork+exec) make
#    sockpool step back: the server closes after the response, so nothing
#    hangs for the server's keep-alive timeout (nginx: 65 s here);
#  - recv(MSG_WAITALL) is served to the end of the response, still pooled;
#  - where the end-of-file socket cannot be made (fd limit lowered at run
#    time, AF_UNIX forbidden by seccomp), the program still reads EOF;
#  - the response says "Connection: close" (http.client reconnects);
#  - a PUT whose body went by sendfile is never replayed head-only.
# Every run is bounded at 10 s (a hang is 65 s or more) and checked
# against what the server received.
source "$(dirname "$0")/lib.sh"

nginx_start 'keepalive_timeout 65 60;'	# announces Keep-Alive: timeout=60
body="$DOCROOT/index.html"
size=$(stat -c %s "$body")
bounded() {	# what, command...: the command in 10 s, with sockpool
	local what=$1
	shift
	timeout 10 "$BUILD/sockpool" -- "$@" > "$WORK/out" 2>&1 ||
		fail "$what: exit $? (124: hung): $(tail -3 "$WORK/out")"
	grep '^ok' "$WORK/out" || true
}
py=(/usr/bin/python3 "$LIB_DIR/clients/step_back.py")

# The upload: 12 MiB drained at about 4 MB/s takes seconds, far more than
# the socket buffers hold.
py_server_start sink "$LIB_DIR/clients/slow_sink_server.py"
bounded "non-blocking 12 MiB upload" "${py[@]}" upload "$PY_SERVER_PORT" 12
assert_eq "upload: bodies the server received" 1 "$(count_lines '^BODY' "$PY_SERVER_LOG")"
assert_eq "upload: its length" $(( 12 << 20 )) "$(awk '/^BODY/ { print $2 }' "$PY_SERVER_LOG")"

# Readers out of sight.
out=$(timeout 10 "$BUILD/sockpool" -- "$BUILD/clients/stdio_client" "$NGINX_PORT" /index.html) ||
	fail "stdio client (fdopen + fgets): exit $? (124: hung)"
assert_ge "stdio client: bytes read through stdio" "$size" "$out"
bounded "socket as a child's stdin (subprocess.run)" \
	"${py[@]}" child-stdin "$NGINX_PORT" /index.html
bounded "socket dup2'ed onto a forked child's stdin, exec cat" \
	"${py[@]}" fork-exec "$NGINX_PORT" /index.html

# MSG_WAITALL: served by sockpool to the end of each response, so the
# connection is pooled.
before=$(nginx_accepts)
bounded "recv(MSG_WAITALL)" "${py[@]}" waitall "$NGINX_PORT" /index.html 5
assert_eq "recv(MSG_WAITALL), 5 requests: connections" 1 $(( $(nginx_accepts) - before ))

# No end-of-file socket to be had.
bounded "RLIMIT_NOFILE lowered under the socket" "${py[@]}" low-fd-limit "$NGINX_PORT" /index.html
set +e
timeout 10 "$BUILD/clients/no_unix_sockets" /bin/true
seccomp=$?
set -e
if [ "$seccomp" -eq 0 ]; then
	bounded "AF_UNIX forbidden (seccomp)" "$BUILD/clients/no_unix_sockets" \
		"${py[@]}" read-to-eof "$NGINX_PORT" /index.html
else
	echo "(no seccomp filter here: exit $seccomp; the AF_UNIX case not tried)"
fi

# Clients that trust the response's Connection header.
before=$(nginx_accepts)
bounded "http.client, Connection: close on one HTTPConnection" \
	"${py[@]}" trust-close "$NGINX_PORT" /index.html 5
assert_le "http.client, 5 requests: connections" 2 $(( $(nginx_accepts) - before ))
raw=$(timeout 10 "$BUILD/sockpool" -- "${py[@]}" response-head "$NGINX_PORT" /index.html) ||
	fail "raw HTTP/1.0 client: $raw"
grep -qi '^Connection: *close *.$' <<< "$raw" || fail "HTTP/1.0 response head: $raw"
! grep -qiE '^connection:.*keep-alive|timeout=' <<< "$raw" ||
	fail "HTTP/1.0 response head keeps: $raw"
echo "ok: an HTTP/1.0 program reads 'Connection: close' and no Keep-Alive"

# sendfile: the body is out of sight, so nothing may be replayed.
fault_server_start resets --reset-unprocessed 1
bounded "PUT with its body by sendfile, reset" "${py[@]}" sendfile-put "$FAULT_PORT" 1
fault_server_check
assert_eq "sendfile PUT: connections the server accepted" 1 "$(count_lines '^ACCEPT' "$FAULT_LOG")"

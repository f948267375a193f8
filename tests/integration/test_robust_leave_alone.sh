#!/usr/bin/env bash
# Sockets sockpool must leave alone are left alone, under it: a server's
# accepted sockets (python's http.server under sockpool, fetched by curl:
# it never manages a connection, so it makes no statistics segment), UDP
# and UNIX sockets, TCP Fast Open, and a socket sent to another process
# with SCM_RIGHTS (never pooled behind that process's back).
source "$(dirname "$0")/lib.sh"

nginx_start
body="$DOCROOT/index.html"
statsdir="$WORK/stats"
mkdir "$statsdir"

# A server under sockpool.
port=$(free_port)
"$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -m http.server \
	--bind 127.0.0.1 --directory "$DOCROOT" "$port" > "$WORK/server.log" 2>&1 &
server=$!
wait_for "the python server" curl -sf -o /dev/null "http://127.0.0.1:$port/index.html"
for i in $(seq 20); do
	curl -sf -o "$WORK/got" "http://127.0.0.1:$port/index.html" || fail "curl $i failed"
	cmp -s "$body" "$WORK/got" || fail "curl $i: wrong body"
done
[ -z "$(ls "$statsdir")" ] || fail "the server managed a connection: $(ls "$statsdir")"
kill "$server"
wait "$server" 2>/dev/null || true
echo "ok: a server under sockpool serves 20 requests untouched"

"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/leave_alone.py" udp_unix

if [ $(( $(cat /proc/sys/net/ipv4/tcp_fastopen) & 1 )) -eq 1 ]; then
	before=$(nginx_accepts)
	"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/leave_alone.py" tfo \
		"$NGINX_PORT" /index.html "$body"
	assert_eq "connections for 10 fast-open GETs" 10 $(( $(nginx_accepts) - before ))
else
	echo "(client TCP Fast Open is off here: net.ipv4.tcp_fastopen; not tried)"
fi

before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/leave_alone.py" scm \
	"$NGINX_PORT" /index.html "$body"
# The first connection went to the other process: not pooled, so the
# second GET needs a connection of its own.
assert_eq "connections when a socket is passed away" 2 $(( $(nginx_accepts) - before ))
echo "ok: accepted, UDP, UNIX, fast-open and passed-away sockets are left alone"

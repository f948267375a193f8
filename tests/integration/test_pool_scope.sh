#!/usr/bin/env bash
# Only eligible connections are pooled: SOCKPOOL_DEST and SOCKPOOL_EXCLUDE
# choose destinations, and a socket the program bound itself is left alone.
source "$(dirname "$0")/lib.sh"

nginx_start
client="$BUILD/examples/naive_client"
run_20() {	# expected connections, description, launcher options...
	local want=$1 what=$2; shift 2
	local before
	before=$(nginx_accepts)
	"$BUILD/sockpool" "$@" -- "$client" -q -n 20 -e "$DOCROOT/index.html" \
		127.0.0.1 "$NGINX_PORT" /index.html
	assert_eq "$what" "$want" $(( $(nginx_accepts) - before ))
}
run_20 1 "pooled when --dest names it" --dest "127.0.0.1:$NGINX_PORT"
run_20 1 "pooled when a CIDR in --dest covers it" --dest "10.0.0.0/8:80, 127.0.0.0/8:*"
run_20 1 "pooled for --dest localhost:PORT" --dest "localhost:$NGINX_PORT"
run_20 20 "not pooled when --dest names another port" --dest "127.0.0.1:1"
run_20 20 "not pooled when --exclude names it" --exclude "127.0.0.1:$NGINX_PORT"
run_20 20 "not pooled when --exclude names its port" --exclude "*:$NGINX_PORT"
run_20 20 "not pooled with --max-idle 0" --max-idle 0
run_20 20 "not pooled with --disable" --disable

before=$(nginx_accepts)
"$BUILD/sockpool" -- /usr/bin/python3 -c '
import http.client, sys
for i in range(10):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), source_address=("127.0.0.1", 0))
    c.request("GET", "/index.html"); c.getresponse().read(); c.close()
' "$NGINX_PORT"
assert_eq "connections for 10 requests from bound sockets" 10 $(( $(nginx_accepts) - before ))

# An option sockpool cannot carry over to another socket (here the
# congestion control algorithm) keeps the socket out of the pool; options
# it carries (Nagle, keep-alive) do not.
cat > "$WORK/options_client.py" <<'PY'
import http.client, socket, sys
class Conn(http.client.HTTPConnection):
    def connect(self):
        self.sock = s = socket.socket()
        exec(sys.argv[2])
        s.connect((self.host, self.port))
for i in range(10):
    c = Conn("127.0.0.1", int(sys.argv[1]))
    c.request("GET", "/index.html")
    assert c.getresponse().read() == open(sys.argv[3], "rb").read()
    c.close()
PY
run_options() {	# expected connections, description, python setting options
	local before
	before=$(nginx_accepts)
	"$BUILD/sockpool" -- /usr/bin/python3 "$WORK/options_client.py" "$NGINX_PORT" "$3" \
		"$DOCROOT/index.html"
	assert_eq "$2" "$1" $(( $(nginx_accepts) - before ))
}
run_options 10 "connections for 10 requests on sockets with TCP_CONGESTION" \
	's.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")'
run_options 1 "connections for 10 requests on sockets with TCP_NODELAY and SO_KEEPALIVE" \
	's.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1); s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)'
echo "ok: only eligible connections are pooled"

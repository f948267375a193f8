#!/usr/bin/env bash
# Port exhaustion, for real: in a network namespace of its own with 30
# ephemeral ports (net.ipv4.ip_local_port_range "40000 40029") and no
# TIME_WAIT reuse, the naive client makes 1500 sequential requests to nginx
# there, one connection each.  Proves that without sockpool requests fail
# once the 30 ports sit in TIME_WAIT (connect: EADDRNOTAVAIL, "Cannot
# assign requested address"), and that under sockpool all 1500 succeed and
# nginx served every one.  Needs root and `ip netns`: skipped otherwise.
# The sockpool run goes first: the run without it leaves every port in
# TIME_WAIT for a minute, so nginx is judged by its access log, which
# needs no connection.
source "$(dirname "$0")/lib.sh"

requests=1500
[ "$(id -u)" -eq 0 ] || skip "needs root to make a network namespace"
command -v ip > /dev/null || skip "no ip command (iproute2)"
ns=sockpool-test-$$-$RANDOM
ip netns add "$ns" 2> "$WORK/netns.err" || skip "ip netns add failed: $(cat "$WORK/netns.err")"
at_exit _netns_remove "$ns"
_netns_remove() {	# name: end what still runs in it, then remove it
	local pid
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$1"
}
in_ns() {
	ip netns exec "$ns" "$@"
}
in_ns ip link set lo up
in_ns sysctl -q -w net.ipv4.ip_local_port_range="40000 40029" net.ipv4.tcp_tw_reuse=0
assert_eq "ephemeral ports in the namespace" "40000 40029" \
	"$(in_ns sysctl -n net.ipv4.ip_local_port_range | awk '{ print $1, $2 }')"

NGINX_NETNS=$ns NGINX_FIXED_PORT=8080 nginx_start
served() {	# the 200 responses in nginx's access log
	count_lines '"GET /index.html HTTP/1.1" 200 ' "$NGINX_DIR/access.log"
}
run_client() {	# output name, [sockpool --]
	local out=$1
	shift
	set +e
	in_ns "$@" "$BUILD/examples/naive_client" -q -n "$requests" -e "$DOCROOT/index.html" \
		127.0.0.1 "$NGINX_PORT" /index.html > "$WORK/$out.out" 2> "$WORK/$out.err"
	set -e
	cat "$WORK/$out.out"
}

run_client pooled "$BUILD/sockpool" --
grep -q "^requests=$requests ok=$requests errors=0 " "$WORK/pooled.out" ||
	fail "under sockpool some requests failed: $(cat "$WORK/pooled.out" "$WORK/pooled.err")"
assert_eq "requests nginx served to the client under sockpool" "$requests" "$(served)"

before=$(served)
run_client plain
errors=$(sed -n 's/.* errors=\([0-9]*\) .*/\1/p' "$WORK/plain.out")
assert_ge "errors without sockpool (ports exhausted)" 1 "$errors"
assert_le "requests nginx served to the client without sockpool" $(( requests - 1 )) \
	$(( $(served) - before ))
# -q hides the messages; one more request says why they fail.
in_ns "$BUILD/examples/naive_client" -n 1 127.0.0.1 "$NGINX_PORT" /index.html \
	> /dev/null 2> "$WORK/why.err" || true
grep -q "Cannot assign requested address" "$WORK/why.err" ||
	fail "expected EADDRNOTAVAIL once the ports are used up, got: $(cat "$WORK/why.err")"
echo "ok: without sockpool: $(cat "$WORK/why.err")"
echo "ok: 30 ephemeral ports are enough for 1500 requests under sockpool"

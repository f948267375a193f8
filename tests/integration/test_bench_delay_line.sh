#!/usr/bin/env bash
# The delay line of bench/net.sh (bench/delay_line.c) is a real network
# path: curl in one namespace gets nginx's page from the other through it,
# and sockpool pools across it (nginx, behind the path, accepts one
# connection for 20 requests under sockpool, 20 without).  The delay line
# must also say it carried the packets: a path that worked some other way
# would prove nothing about it.  No timing is asserted here: the delay is
# measured by the bench (make bench-net).
source "$(dirname "$0")/lib.sh"
source "$LIB_DIR/../../bench/netpath.sh"

[ "$(id -u)" -eq 0 ] || skip "network namespaces need root"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v ip > /dev/null || skip "no ip command (iproute2)"
ip netns add "spnp-check-$$" 2> /dev/null || skip "cannot create network namespaces here"
ip netns del "spnp-check-$$"

# Our own delay line even where netem exists: it is what is tested.
# 2 ms round trip: enough to be a real delay, little enough to take
# well under a second for everything below.
NETPATH_KIND=delay_line netpath_up 2000
delay_line_report > /dev/null	# a new interval: count only what follows

NGINX_NETNS=$NETPATH_SERVER_NS NGINX_FIXED_PORT=8080
export NGINX_NETNS NGINX_FIXED_PORT
nginx_start "" "listen $NETPATH_SERVER_ADDR:8080;"
url=http://$NETPATH_SERVER_ADDR:8080/index.html

# Nothing but the path joins the namespaces: the client's side has no
# route anywhere else, and the server address is not its own.
route=$(ip -n "$NETPATH_CLIENT_NS" route get "$NETPATH_SERVER_ADDR")
[[ $route == *"dev dl0"* ]] || fail "the client reaches the server not through dl0: $route"
echo "ok: the client reaches $NETPATH_SERVER_ADDR through the delay line's device"

ip netns exec "$NETPATH_CLIENT_NS" curl -sS --max-time 10 -o "$WORK/page.html" "$url" ||
	fail "curl through the delay line failed"
cmp -s "$WORK/page.html" "$DOCROOT/index.html" || fail "curl got another page than nginx's"
echo "ok: curl through the delay line got nginx's page"

before=$(nginx_accepts)
ip netns exec "$NETPATH_CLIENT_NS" "$BUILD/examples/naive_client" -q -n 20 \
	-e "$DOCROOT/index.html" "$NETPATH_SERVER_ADDR" 8080 /index.html
assert_eq "connections nginx accepted for 20 requests without sockpool" 20 \
	$(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
ip netns exec "$NETPATH_CLIENT_NS" "$BUILD/sockpool" -- "$BUILD/examples/naive_client" -q -n 20 \
	-e "$DOCROOT/index.html" "$NETPATH_SERVER_ADDR" 8080 /index.html
assert_eq "connections nginx accepted for 20 requests under sockpool" 1 \
	$(( $(nginx_accepts) - before ))

# What the delay line says it carried: at least a SYN, a request and an
# ACK each way for each of the 22 connections, and nothing dropped.
report=$(delay_line_report)
echo "delay line: $report"
a_to_b=$(sed -n 's/.* a_to_b=\([0-9]*\).*/\1/p' <<< "$report")
b_to_a=$(sed -n 's/.* b_to_a=\([0-9]*\).*/\1/p' <<< "$report")
assert_ge "packets the delay line carried to the server" 66 "$a_to_b"
assert_ge "packets the delay line carried to the client" 44 "$b_to_a"
assert_eq "packets the delay line dropped" 0 "$(sed -n 's/.* dropped=\([0-9]*\).*/\1/p' <<< "$report")"

# Without the delay line there is no path: the witness that the page came
# through it and not some other way.
netpath_stop_forwarding() {
	kill -TERM "$DELAY_LINE_PID"
	bg_wait "$DELAY_LINE_PID" || true
	DELAY_LINE_PID=
}
netpath_stop_forwarding
if ip netns exec "$NETPATH_CLIENT_NS" curl -sS --max-time 2 -o /dev/null "$url" 2> /dev/null; then
	fail "curl reached nginx with the delay line stopped: the path is not the delay line"
fi
echo "ok: with the delay line stopped, the client cannot reach nginx"

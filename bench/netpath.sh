# shellcheck shell=bash
# bench/netpath.sh: a slow network path between two private network
# namespaces, for bench/net.sh and tests/integration/test_bench_delay_line.sh.
# Sourced after tests/integration/lib.sh (it uses fail, wait_for, bg_track,
# bg_wait and at_exit); not executable on its own.
#
#   netpath_up RTT_US [JITTER_US] [RATE_KBIT]
#       makes two namespaces, NETPATH_CLIENT_NS (192.0.2.1) and
#       NETPATH_SERVER_NS (192.0.2.2), loopback up in both, joined by a
#       path with RTT_US microseconds of round trip (half each way):
#       netem on a veth pair where the kernel has netem, else our own
#       delay line (delay_line.c) on a TUN device in each.  NETPATH_KIND
#       (auto, netem or delay_line; default auto) forces one.  Exports
#       NETPATH_CLIENT_NS, NETPATH_SERVER_NS, NETPATH_CLIENT_ADDR,
#       NETPATH_SERVER_ADDR, NETPATH_USED (netem or delay_line) and, for
#       the delay line, DELAY_LINE_PID and DELAY_LINE_OUT (its reports).
#   delay_line_report
#       (delay line only) asks it for an interval report (SIGUSR1) and
#       prints it: everything since the previous call.
#   netpath_down
#       stops the delay line (its final report is the last line of
#       DELAY_LINE_OUT) and removes both namespaces.  Also run at exit.
#
# The addresses (192.0.2.0/24, documentation only) exist inside the two
# namespaces only: nothing here routes to or from the host's network.
# Namespace names carry this shell's pid, so runs side by side do not meet.

NETPATH_CLIENT_ADDR=192.0.2.1
NETPATH_SERVER_ADDR=192.0.2.2
_netpath_count=0
_netpath_live=()

# Whether this kernel has netem: tried once, on a veth pair inside a
# throwaway namespace.
_netpath_has_netem() {
	local ns=spnp-probe-$$ status=1
	ip netns add "$ns" || return 1
	if ip -n "$ns" link add probe0 type veth peer name probe1 2> /dev/null &&
		ip -n "$ns" link set probe0 up && ip -n "$ns" link set probe1 up &&
		ip netns exec "$ns" tc qdisc add dev probe0 root netem delay 1ms 2> /dev/null; then
		status=0
	fi
	ip netns del "$ns"
	return "$status"
}

# A new namespace with loopback up and IPv6 off (nothing here uses it,
# and its router solicitations would only cross the path as noise).
_netpath_ns_add() {	# name
	ip netns add "$1" || fail "cannot create network namespace $1"
	_netpath_live+=("$1")
	ip -n "$1" link set lo up
	ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 > /dev/null 2>&1 || true
}

# netem's delay on both ends of a veth pair: half the round trip each way.
_netpath_netem_up() {	# one_way_us jitter_us rate_kbit
	local c=$NETPATH_CLIENT_NS s=$NETPATH_SERVER_NS args
	ip -n "$c" link add np0 type veth peer name np1 netns "$s" ||
		fail "cannot create a veth pair"
	ip -n "$c" addr add "$NETPATH_CLIENT_ADDR/24" dev np0
	ip -n "$s" addr add "$NETPATH_SERVER_ADDR/24" dev np1
	args="delay ${1}us"
	[ "$2" -gt 0 ] && args="$args ${2}us"
	[ "$3" -gt 0 ] && args="$args rate ${3}kbit"
	# shellcheck disable=SC2086	# args are words on purpose
	ip netns exec "$c" tc qdisc add dev np0 root netem $args limit 1024 ||
		fail "tc netem on the client side failed"
	# shellcheck disable=SC2086
	ip netns exec "$s" tc qdisc add dev np1 root netem $args limit 1024 ||
		fail "tc netem on the server side failed"
	ip -n "$c" link set np0 up
	ip -n "$s" link set np1 up
}

_netpath_delay_line_up() {	# one_way_us jitter_us rate_kbit
	local c=$NETPATH_CLIENT_NS s=$NETPATH_SERVER_NS ready extra=()
	local prog=$BUILD/bench/delay_line
	[ -x "$prog" ] || fail "$prog is missing: run make first"
	ready=$WORK/delay_line.$_netpath_count.ready
	DELAY_LINE_OUT=$WORK/delay_line.$_netpath_count.out
	[ "$2" -gt 0 ] && extra+=(-j "$2")
	[ "$3" -gt 0 ] && extra+=(-r "$3")
	"$prog" -a "$c" -b "$s" -d "$1" "${extra[@]}" -T 1800 -R "$ready" \
		> "$DELAY_LINE_OUT" 2> "$WORK/delay_line.$_netpath_count.err" &
	DELAY_LINE_PID=$!
	bg_track "$DELAY_LINE_PID"
	export DELAY_LINE_PID DELAY_LINE_OUT
	wait_for "the delay line's TUN devices" test -s "$ready"
	ip -n "$c" addr add "$NETPATH_CLIENT_ADDR" peer "$NETPATH_SERVER_ADDR" dev dl0
	ip -n "$s" addr add "$NETPATH_SERVER_ADDR" peer "$NETPATH_CLIENT_ADDR" dev dl0
	ip -n "$c" link set dl0 up
	ip -n "$s" link set dl0 up
}

netpath_up() {	# rtt_us [jitter_us] [rate_kbit]
	local rtt=$1 jitter=${2:-0} rate=${3:-0} kind=${NETPATH_KIND:-auto}
	netpath_down
	_netpath_count=$(( _netpath_count + 1 ))
	NETPATH_CLIENT_NS=spc-$$-$_netpath_count
	NETPATH_SERVER_NS=sps-$$-$_netpath_count
	export NETPATH_CLIENT_NS NETPATH_SERVER_NS NETPATH_CLIENT_ADDR NETPATH_SERVER_ADDR
	if [ "$kind" = auto ]; then
		kind=delay_line
		_netpath_has_netem && kind=netem
	fi
	NETPATH_USED=$kind
	export NETPATH_USED
	_netpath_ns_add "$NETPATH_CLIENT_NS"
	_netpath_ns_add "$NETPATH_SERVER_NS"
	case $kind in
	netem) _netpath_netem_up $(( rtt / 2 )) "$jitter" "$rate" ;;
	delay_line) _netpath_delay_line_up $(( rtt / 2 )) "$jitter" "$rate" ;;
	*) fail "NETPATH_KIND must be auto, netem or delay_line, not '$kind'" ;;
	esac
}

delay_line_report() {
	local lines
	[ -n "${DELAY_LINE_PID:-}" ] || return 0
	lines=$(wc -l < "$DELAY_LINE_OUT")
	kill -USR1 "$DELAY_LINE_PID" || fail "the delay line is gone"
	wait_for "a report from the delay line" _netpath_more_lines "$lines"
	tail -n 1 "$DELAY_LINE_OUT"
}

_netpath_more_lines() {	# count
	[ "$(wc -l < "$DELAY_LINE_OUT")" -gt "$1" ]
}

netpath_down() {
	local ns
	if [ -n "${DELAY_LINE_PID:-}" ]; then
		kill -TERM "$DELAY_LINE_PID" 2> /dev/null || true
		bg_wait "$DELAY_LINE_PID" || true
		DELAY_LINE_PID=
	fi
	for ns in "${_netpath_live[@]}"; do
		ip netns del "$ns" 2> /dev/null || true
	done
	_netpath_live=()
}

at_exit netpath_down

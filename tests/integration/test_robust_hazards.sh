#!/usr/bin/env bash
# What host processes do to a preloaded library: fork with a connection
# open, exec and posix_spawn with sockets in the pool, close every fd
# (close_range and close() one by one) and reuse the pool's numbers for
# files, close a socket through stdio.  Each scenario (clients/hazards.py)
# checks its own bodies and files; nginx's count of accepted connections
# shows what was pooled.
source "$(dirname "$0")/lib.sh"

nginx_start
body="$DOCROOT/index.html"
run() {	# scenario
	local out status=0
	out=$("$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/hazards.py" \
		"$1" "$NGINX_PORT" /index.html "$body" 2>&1) || status=$?
	echo "$out" | sed "s/^/$1: /"
	[ "$status" -eq 0 ] || fail "$1: the scenario failed (status $status)"
	! grep -q "^FAIL" <<< "$out" || fail "$1: a check failed"
}

before=$(nginx_accepts)
run fork
# The socket open at fork is shared: neither side pools it.  Parent and
# child each open one connection of their own and reuse it: 3 in all.
assert_eq "connections for fork (shared one, parent's, child's)" 3 $(( $(nginx_accepts) - before ))

run exec
run closeall
run fdopen
echo "ok: fork, exec, close-everything and stdio closes are survived"

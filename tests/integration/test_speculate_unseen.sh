#!/usr/bin/env bash
# socket() may hand out a pooled connection (speculative checkout,
# speculate.h): the program must not be able to tell.  fresh_socket.py uses
# a socket before connecting it in 29 ways (getsockname, getpeername,
# SO_ERROR, TCP_INFO, poll, select, epoll, bind, listen, connect elsewhere,
# shutdown, send, recv, dup, close, closerange, fork, a spawned child,
# SCM_RIGHTS, options, flags...) and prints what it
# saw: under sockpool, with and without speculation, it must see exactly
# what it sees without sockpool.  Each scenario must really have been
# given a pooled socket (its inode is that of the connection just closed),
# and nginx must see as many connections as without speculation.
source "$(dirname "$0")/lib.sh"

nginx_start
closed=$(free_port)
client=("$LIB_DIR/clients/fresh_socket.py" "$NGINX_PORT" /index.html "$closed")

run() {	# name [launcher...]: runs the client, its lines in $WORK/name.out/.err
	local name=$1 before
	shift
	before=$(nginx_accepts)
	"$@" /usr/bin/python3 "${client[@]}" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
		fail "$name: the client failed: $(cat "$WORK/$name.err")"
	echo $(( $(nginx_accepts) - before )) >"$WORK/$name.accepts"
}

run plain
run speculating "$BUILD/sockpool" --
run not_speculating "$BUILD/sockpool" --no-speculate --
cat "$WORK/plain.out"

scenarios=$(wc -l <"$WORK/plain.out")
assert_ge "scenarios run" 29 "$scenarios"
for run in speculating not_speculating; do
	diff -u "$WORK/plain.out" "$WORK/$run.out" ||
		fail "$run: the program saw something a fresh socket does not show"
done
assert_eq "scenarios given a pooled socket at socket()" "$scenarios" \
	"$(grep -c 'handed out: yes' "$WORK/speculating.err")"
assert_eq "scenarios given a pooled socket with SOCKPOOL_SPECULATE=0" 0 \
	"$(grep -c 'handed out: yes' "$WORK/not_speculating.err" || true)"
assert_eq "connections, speculating or not" "$(cat "$WORK/not_speculating.accepts")" \
	"$(cat "$WORK/speculating.accepts")"
assert_le "connections with sockpool (plain: $(cat "$WORK/plain.accepts"))" 20 \
	"$(cat "$WORK/speculating.accepts")"
echo "ok: a socket handed out at socket() looks fresh to the program in $scenarios ways"

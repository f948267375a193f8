#!/usr/bin/env bash
# Segments of processes that end without exit handlers (multiprocessing
# workers end with os._exit(), others die of SIGKILL) do not accumulate:
# each writer sweeps its user's dead segments from the directory when it
# makes its own and when it removes it.  Afterwards the directory holds
# the segments of live processes only, judged by the files on disk.  The
# sweep never takes: a live process's segment, also not one of a process
# in another pid namespace whose pid has no process here (its segment is
# still mapped); a segment kept at exit on purpose (SOCKPOOL_STATS_KEEP);
# another user's file.  Before the sweep, 28 files were left.
source "$(dirname "$0")/lib.sh"

nginx_start
statsdir=$WORK/litter
mkdir "$statsdir"
uid=$(id -u)
tasks=24
killed=4

# hold NAME [PREFIX...]: a client under the launcher that makes a request,
# writes its pid (as it sees it) to $WORK/NAME.pid and waits for
# $WORK/NAME.go.  PREFIX runs it (e.g. in another pid namespace).  Its
# pid here is HOLD_PID.
hold() {
	local name=$1
	shift
	mkfifo "$WORK/$name.go"
	"$@" "$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/index.html"); c.getresponse().read(); c.close()
open(sys.argv[2] + ".tmp", "w").write(str(os.getpid()))
os.rename(sys.argv[2] + ".tmp", sys.argv[2])
open(sys.argv[3]).read()
' "$NGINX_PORT" "$WORK/$name.pid" "$WORK/$name.go" &
	HOLD_PID=$!
	[ "$name" = other_ns ] || bg_track "$HOLD_PID"
	wait_for "client $name" test -s "$WORK/$name.pid"
}
release() { echo > "$WORK/$1.go"; }

# A live process here.
hold live
live_pid=$(cat "$WORK/live.pid")

# A live process in a pid namespace of its own, given a pid that no
# process has here: only the kernel's word that its segment is still
# open for writing keeps the sweep from it.
ns_pid=
if [ "$uid" -eq 0 ] && unshare -p -f --mount-proc true 2> /dev/null; then
	ns_pid=30000
	while [ -e "/proc/$ns_pid" ] || [ -e "/proc/$(( ns_pid - 1 ))" ]; do
		ns_pid=$(( ns_pid - 7 ))
	done
	# sh is the namespace's pid 1 and forks the client.  unshare ignores
	# TERM: if the test fails, the cleanup kills the namespace's pid 1.
	hold other_ns unshare -p -f --mount-proc sh -c \
		'echo "$1" > /proc/sys/kernel/ns_last_pid && shift && "$@"' sh "$(( ns_pid - 1 ))"
	ns_unshare=$HOLD_PID
	ns_init=$(cat "/proc/$ns_unshare/task/$ns_unshare/children")
	stop_other_ns() {
		[ -z "$ns_unshare" ] && return 0
		kill -KILL "$ns_init" 2> /dev/null
		wait "$ns_unshare" 2> /dev/null
	}
	at_exit stop_other_ns
	assert_eq "the other namespace's client's pid" "$ns_pid" "$(cat "$WORK/other_ns.pid")"
else
	echo "note: no pid namespace here (needs root): that case is not checked"
fi

# A segment kept at exit on purpose, of a process now gone.
SOCKPOOL_STATS_KEEP=1 "$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/index.html"); c.getresponse().read(); c.close()
print(os.getpid())
' "$NGINX_PORT" > "$WORK/kept.pid"
kept=sockpool.$uid.$(cat "$WORK/kept.pid")
[ -f "$statsdir/$kept" ] || fail "SOCKPOOL_STATS_KEEP=1 kept no segment"

# Another user's file named like a dead segment of theirs.
foreign=
if [ "$uid" -eq 0 ] && nobody=$(id -u nobody 2> /dev/null); then
	foreign=sockpool.$nobody.$(cat "$WORK/kept.pid")
	: > "$statsdir/$foreign"
	chown nobody "$statsdir/$foreign"
fi

before=$(nginx_accepts)
"$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 \
	"$LIB_DIR/clients/litter_workers.py" "$NGINX_PORT" "$statsdir" "$tasks" "$killed" \
	> "$WORK/workers.out" 2> "$WORK/workers.err" || fail "the workers failed: $(cat "$WORK/workers.err")"
accepted=$(( $(nginx_accepts) - before ))
[ ! -s "$WORK/workers.err" ] || fail "the workers said: $(cat "$WORK/workers.err")"
assert_eq "processes that each had a segment" "workers=$tasks killed=$killed" "$(cat "$WORK/workers.out")"
assert_ge "connections nginx accepted (one or more per process)" $(( tasks + killed )) "$accepted"

expected=("sockpool.$uid.$live_pid" "$kept")
[ -z "$ns_pid" ] || expected+=("sockpool.$uid.$ns_pid")
[ -z "$foreign" ] || expected+=("$foreign")
left=$(cd "$statsdir" && ls -A | LC_ALL=C sort | tr '\n' ' ')
assert_eq "segments left: the live ones, the kept one, the other user's" \
	"$(printf '%s\n' "${expected[@]}" | LC_ALL=C sort | tr '\n' ' ')" "$left"
if [ -n "$ns_pid" ]; then
	[ ! -e "/proc/$ns_pid" ] ||
		echo "note: pid $ns_pid came to exist here meanwhile: the namespace case proved less"
fi

# The live ones end normally and take their segments with them.
release live
[ -z "$ns_pid" ] || release other_ns
wait_for "the live segments to go" test ! -e "$statsdir/sockpool.$uid.$live_pid"
if [ -n "$ns_pid" ]; then
	wait "$ns_unshare" || fail "the client in the other namespace failed"
	ns_unshare=
	[ ! -e "$statsdir/sockpool.$uid.$ns_pid" ] || fail "the other namespace's segment stayed"
fi
echo "ok: no segment of a dead process left, none of a live one taken"

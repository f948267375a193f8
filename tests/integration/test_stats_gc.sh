#!/usr/bin/env bash
# A segment whose process was killed stays behind: sockpool-stat shows it
# as dead (text and JSON), and --gc removes it and says so, while it keeps
# the segment of a live process, a symbolic link, and a directory named
# like a segment; a second --gc finds nothing more to remove.
source "$(dirname "$0")/lib.sh"

stat=$BUILD/sockpool-stat
nginx_start
statsdir=$WORK/stats
mkdir "$statsdir"
uid=$(id -u)

# client NAME: requests one page, writes its pid to $WORK/NAME.pid, then
# waits for $WORK/NAME.go.
client() {
	mkfifo "$WORK/$1.go"
	"$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/index.html"); c.getresponse().read(); c.close()
open(sys.argv[2], "w").write(str(os.getpid()))
open(sys.argv[3]).read()
' "$NGINX_PORT" "$WORK/$1.pid" "$WORK/$1.go" &
	bg_track $!
	wait_for "client $1 to start" test -s "$WORK/$1.pid"
}

client live
client doomed
live_pid=$(cat "$WORK/live.pid")
dead_pid=$(cat "$WORK/doomed.pid")
kill -KILL "$dead_pid"
wait_for "pid $dead_pid to be gone" bash -c "! kill -0 $dead_pid 2>/dev/null"
[ -f "$statsdir/sockpool.$uid.$dead_pid" ] || fail "a killed process left no segment"

"$stat" --dir "$statsdir" --once > "$WORK/once.txt"
grep -q "^pid $dead_pid  python3.*  dead " "$WORK/once.txt" || fail "not shown dead: $(cat "$WORK/once.txt")"
grep -q "^pid $live_pid  python3.*  alive " "$WORK/once.txt" || fail "live one not shown alive"
"$stat" --dir "$statsdir" --json | /usr/bin/python3 -c '
import json, sys
alive = {p["pid"]: p["alive"] for p in json.load(sys.stdin)["processes"]}
assert alive == {int(sys.argv[1]): True, int(sys.argv[2]): False}, alive
' "$live_pid" "$dead_pid" || fail "JSON does not say which is dead"
echo "ok: the killed process's segment shows as dead"

# Things named like segments of dead pids that --gc must leave alone.
gone=$(( dead_pid + 100000 ))
while kill -0 "$gone" 2>/dev/null; do gone=$(( gone + 1 )); done
ln -s "$statsdir/sockpool.$uid.$live_pid" "$statsdir/sockpool.$uid.$gone"
mkdir "$statsdir/sockpool.$uid.$(( gone + 1 ))"

"$stat" --dir "$statsdir" --gc > "$WORK/gc.txt" 2> "$WORK/gc.err" || fail "--gc failed: $(cat "$WORK/gc.err")"
cat "$WORK/gc.txt"
grep -qx "removed $statsdir/sockpool.$uid.$dead_pid (pid $dead_pid, python3, dead)" "$WORK/gc.txt" ||
	fail "--gc does not say it removed the dead segment"
grep -q "^removed 1 segment of dead processes, left 3$" "$WORK/gc.txt" || fail "wrong tally"
[ ! -e "$statsdir/sockpool.$uid.$dead_pid" ] || fail "the dead segment is still there"
[ -f "$statsdir/sockpool.$uid.$live_pid" ] || fail "--gc removed a live segment"
[ -L "$statsdir/sockpool.$uid.$gone" ] || fail "--gc removed a symbolic link"
[ -d "$statsdir/sockpool.$uid.$(( gone + 1 ))" ] || fail "--gc removed a directory"
"$stat" --dir "$statsdir" --gc | grep -q "^removed 0 segments" || fail "a second --gc removed something"
"$stat" --dir "$statsdir" --gc -p "$live_pid" | grep -q "^removed 0 segments" || fail "--gc -p removed a live one"
echo "ok: --gc removed the dead segment only"

echo > "$WORK/live.go"
wait_for "the live client's segment to go at exit" test ! -e "$statsdir/sockpool.$uid.$live_pid"

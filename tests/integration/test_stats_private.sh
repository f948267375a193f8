#!/usr/bin/env bash
# A segment is its user's alone: mode 0600 whatever the umask, and another
# user (nobody) can neither open it nor be fooled by it: its reader lists
# only files named for its own uid, and a file of ours planted under such
# a name gives an error line, not figures.  Needs root to be someone else.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "running the reader as another user needs root"
command -v setpriv > /dev/null || skip "no setpriv"
nobody_uid=$(id -u nobody 2> /dev/null) || skip "no user nobody"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"; }

nginx_start
# A directory nobody may enter and list, so that only the file's own mode
# stands between nobody and the segment.
statsdir=$(mktemp -d /dev/shm/sockpool-test-private.XXXXXX)
at_exit rm -rf "$statsdir"
chmod 755 "$statsdir"
mkfifo "$WORK/go"
( umask 000; exec "$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/index.html"); c.getresponse().read(); c.close()
open(sys.argv[2], "w").write(str(os.getpid()))
open(sys.argv[3]).read()
' "$NGINX_PORT" "$WORK/pid" "$WORK/go" ) &
client=$!
bg_track "$client"
wait_for "the client" test -s "$WORK/pid"
pid=$(cat "$WORK/pid")
segment=$statsdir/sockpool.0.$pid
assert_eq "segment mode under umask 000" 600 "$(stat -c %a "$segment")"
assert_eq "segment owner" 0 "$(stat -c %u "$segment")"

reader=$statsdir/sockpool-stat	# a copy nobody can run wherever WORK is
cp "$BUILD/sockpool-stat" "$reader"
chmod 755 "$reader"
as_nobody cat "$segment" > /dev/null 2> "$WORK/cat.err" && fail "nobody could read the segment"
grep -q "Permission denied" "$WORK/cat.err" || fail "unexpected: $(cat "$WORK/cat.err")"
echo "ok: nobody cannot open the segment"

as_nobody "$reader" --once --dir "$statsdir" > "$WORK/nobody.txt" 2>&1 || fail "nobody's reader failed"
grep -q "^pid $pid" "$WORK/nobody.txt" && fail "nobody's reader shows root's process"
echo "ok: nobody's reader does not list root's segment"

# Root's segment planted under nobody's name: the open fails, one line.
cp -p "$segment" "$statsdir/sockpool.$nobody_uid.$pid"
status=0
as_nobody "$reader" --once --dir "$statsdir" -p "$pid" > "$WORK/planted.out" 2> "$WORK/planted.err" || status=$?
assert_eq "nobody's reader on root's file: exit status" 1 "$status"
assert_eq "error lines" 1 "$(wc -l < "$WORK/planted.err")"
grep -q "sockpool.$nobody_uid.$pid: Permission denied" "$WORK/planted.err" ||
	fail "unexpected error: $(cat "$WORK/planted.err")"
# Readable by all, still refused: it is not nobody's own file.
chmod 644 "$statsdir/sockpool.$nobody_uid.$pid"
status=0
as_nobody "$reader" --once --dir "$statsdir" -p "$pid" > /dev/null 2> "$WORK/owner.err" || status=$?
assert_eq "nobody's reader on a readable file of root's: exit status" 1 "$status"
grep -q "owned by uid 0, not by you (uid $nobody_uid)" "$WORK/owner.err" ||
	fail "unexpected error: $(cat "$WORK/owner.err")"
echo "ok: a file of another user under one's own name is refused with one line"

echo > "$WORK/go"
bg_wait "$client" || fail "the client failed"

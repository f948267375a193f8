#!/usr/bin/env bash
# A statistics directory with no room left (a full /dev/shm: Docker gives
# containers 64 MiB) costs the statistics only: the program runs, gets
# every body right and is still pooled (nginx's own count of accepted
# connections), with exactly one warning line, and nothing is left in the
# directory.  The directory is a tiny tmpfs, filled up, mounted in a
# private mount namespace (unshare -m), so it vanishes with the test.
# Before the segment's pages were reserved, the program died of SIGBUS at
# its first connection.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "mounting a tmpfs needs root"
command -v unshare > /dev/null || skip "no unshare"
full=$WORK/full
mkdir "$full"
unshare -m sh -c 'mount -t tmpfs -o size=8k tmpfs "$1"' sh "$full" 2> "$WORK/probe.err" ||
	skip "cannot mount a tmpfs in a private mount namespace: $(cat "$WORK/probe.err")"

nginx_start
requests=50
before=$(nginx_accepts)
# In the namespace: mount, fill to the last block, then the client under
# the launcher with its segment to be made there.  What the test judges
# leaves the namespace in files under WORK (not in the mount).
status=0
unshare -m bash -c '
set -e
full=$1; shift
mount -t tmpfs -o size=8k tmpfs "$full"
cat /dev/zero > "$full/filler" 2> /dev/null || true
df -k "$full" | awk "NR == 2 { print \$4 }" > "$WORK/free_kib"
set +e
"$@" > "$WORK/client.out" 2> "$WORK/client.err"
echo $? > "$WORK/client.status"
ls -A "$full" > "$WORK/left"
' bash "$full" env SOCKPOOL_STATS_DIR="$full" "$BUILD/sockpool" -- \
	/usr/bin/python3 "$LIB_DIR/clients/http_client_loop.py" 127.0.0.1 "$NGINX_PORT" \
	/body_16k.bin "$requests" "$DOCROOT/body_16k.bin" || status=$?
accepted=$(( $(nginx_accepts) - before ))
assert_eq "the namespace's script" 0 "$status"
assert_eq "KiB free in the statistics directory before the run" 0 "$(cat "$WORK/free_kib")"

echo "client stderr:"; sed 's/^/  /' "$WORK/client.err"
assert_eq "client exit status (135 is SIGBUS)" 0 "$(cat "$WORK/client.status")"
grep -qx "requests=$requests ok=$requests errors=0" "$WORK/client.out" ||
	fail "bodies: $(cat "$WORK/client.out")"
echo "ok: $requests bodies right"
assert_le "connections nginx accepted (pooled)" 2 "$accepted"
assert_eq "stderr lines" 1 "$(wc -l < "$WORK/client.err")"
grep -q "warning: cannot create the statistics segment in $full: No space left on device; no statistics" \
	"$WORK/client.err" || fail "not the expected warning"
assert_eq "files left in the statistics directory" "filler" "$(cat "$WORK/left")"

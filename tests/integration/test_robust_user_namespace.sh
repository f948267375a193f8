#!/usr/bin/env bash
# unshare(CLONE_NEWUSER) needs a process of one thread: sockpool's idle
# reaper (a thread while sockets are idle in the pool) must not make it
# fail.  A python program makes requests (its pool then holds an idle
# socket, and the reaper runs), then enters a new user namespace: the call
# must succeed under sockpool as it does without it, and the reaper comes
# back at the next park.
source "$(dirname "$0")/lib.sh"

nginx_start
client='
import ctypes, os, sys, urllib.request
libc = ctypes.CDLL(None, use_errno=True)
url = "http://127.0.0.1:%s/index.html" % sys.argv[1]
for _ in range(3):
    urllib.request.urlopen(url).read()
threads = len(os.listdir("/proc/self/task"))
rc = libc.unshare(0x10000000)	# CLONE_NEWUSER
err = ctypes.get_errno()
urllib.request.urlopen(url).read()
print("threads before: %d, unshare: %d errno %d, in a new user namespace: %s" % (
    threads, rc, err, os.readlink("/proc/self/ns/user") != sys.argv[2]))
sys.exit(0 if rc == 0 else 1)
'
own_ns=$(readlink /proc/self/ns/user)
# Without sockpool first: where user namespaces cannot be made, say so.
/usr/bin/python3 -c "$client" "$NGINX_PORT" "$own_ns" > "$WORK/plain" 2>&1 ||
	skip "unshare(CLONE_NEWUSER) fails here even without sockpool: $(cat "$WORK/plain")"
cat "$WORK/plain"
timeout 20 "$BUILD/sockpool" -- /usr/bin/python3 -c "$client" "$NGINX_PORT" "$own_ns" \
	> "$WORK/shim" 2>&1 || fail "under sockpool: $(cat "$WORK/shim")"
cat "$WORK/shim"
grep -q '^threads before: 2,' "$WORK/shim" ||
	fail "the idle reaper was not running before unshare: the test proves nothing"
echo "ok: unshare(CLONE_NEWUSER) succeeds with sockets idle in the pool"

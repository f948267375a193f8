#!/usr/bin/env bash
# sockpool-stat reads the live counters of a running process, and they
# agree with what nginx saw: connections opened = connections nginx
# accepted, opened + reused = requests made.  The segment is private (0600).
source "$(dirname "$0")/lib.sh"

nginx_start
mkfifo "$WORK/go"
statsdir="$WORK/stats"
mkdir "$statsdir"
before=$(nginx_accepts)
# 300 requests, then hold the process open until the test has looked.
"$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
port, ready, go = int(sys.argv[1]), sys.argv[2], sys.argv[3]
for i in range(300):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/index.html"); c.getresponse().read(); c.close()
open(ready, "w").write(str(os.getpid()))
open(go).read()
' "$NGINX_PORT" "$WORK/ready" "$WORK/go" &
client=$!
wait_for "the client to finish its requests" test -s "$WORK/ready"
pid=$(cat "$WORK/ready")
accepted=$(( $(nginx_accepts) - before ))

segment="$statsdir/sockpool.$(id -u).$pid"
[ -f "$segment" ] || fail "no segment $segment"
assert_eq "segment mode" 600 "$(stat -c %a "$segment")"

"$BUILD/sockpool-stat" --dir "$statsdir" --json -p "$pid" > "$WORK/stats.json"
"$BUILD/sockpool-stat" --dir "$statsdir" --once > "$WORK/stats.txt"
echo > "$WORK/go"
wait "$client" || fail "the client failed"

/usr/bin/python3 - "$WORK/stats.json" "$NGINX_PORT" "$accepted" "$pid" <<'PY' || fail "JSON check failed"
import json, sys
doc = json.load(open(sys.argv[1]))
port, accepted, pid = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
[proc] = [p for p in doc["processes"] if p["pid"] == pid]
[dest] = [d for d in proc["destinations"] if d["port"] == port]
assert dest["address"] == "127.0.0.1", dest
assert dest["conns_opened"] == accepted, (dest, accepted)
assert dest["conns_opened"] + dest["conns_reused"] == 300, dest
assert dest["requests"] == 300, dest
assert dest["idle_now"] == 1, dest
assert proc["totals"]["requests"] == 300, proc["totals"]
print("json: opened=%d reused=%d requests=%d, nginx accepted %d" % (
    dest["conns_opened"], dest["conns_reused"], dest["requests"], accepted))
PY
grep -q "$pid" "$WORK/stats.txt" || fail "--once does not show the process"
grep -q "127.0.0.1:$NGINX_PORT" "$WORK/stats.txt" || fail "--once does not show the destination"
[ ! -e "$segment" ] || fail "the segment outlived its process"

set +e
"$BUILD/sockpool-stat" --dir "$statsdir" --once -p 999999999 >/dev/null 2>&1
status=$?
set -e
assert_eq "exit status for an unknown pid" 1 "$status"
echo "ok: the reader agrees with nginx"

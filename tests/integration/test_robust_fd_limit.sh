#!/usr/bin/env bash
# The program's fd limit, which pooled sockets share.
#
# A program that lowers its own RLIMIT_NOFILE at run time (httperf lowers
# it to 1024) must still be pooled: the pool's private fds follow the new
# limit (nginx's accepts: 200 urllib requests on 1 or 2 connections, 200
# without sockpool).  And the pool must never cost the program a
# descriptor: under `ulimit -n 100`, a program that made requests (so the
# pool holds sockets) and then opens files until EMFILE opens as many as
# it does without sockpool.
source "$(dirname "$0")/lib.sh"

[ "$(ulimit -Hn)" = unlimited ] || [ "$(ulimit -Hn)" -ge 4096 ] ||
	skip "the hard fd limit ($(ulimit -Hn)) is too low to lower it from 4096 to 1024"
ulimit -Sn 4096
nginx_start
body=$DOCROOT/index.html
client=$LIB_DIR/clients/fd_limit.py
url=http://127.0.0.1:$NGINX_PORT/index.html

# ---- the limit lowered at run time ----
before=$(nginx_accepts)
out=$(/usr/bin/python3 "$client" lower "$url" 200 "$body")
assert_eq "without sockpool: $out, connections" 200 $(( $(nginx_accepts) - before ))
before=$(nginx_accepts)
out=$("$BUILD/sockpool" -- /usr/bin/python3 "$client" lower "$url" 200 "$body")
assert_eq "under sockpool, limit lowered to 1024: requests" "requests 200" "$out"
assert_le "under sockpool, limit lowered to 1024: connections" 2 $(( $(nginx_accepts) - before ))

# ---- files opened under ulimit -n 100 after the pool filled ----
files() {	# command...: the fd_limit.py files line, under ulimit -n 100
	(ulimit -n 100 && "$@" /usr/bin/python3 "$client" files "$NGINX_PORT" /index.html 5 "$body")
}
plain=$(files env)
before=$(nginx_accepts)
pooled=$(files "$BUILD/sockpool" --)
echo "without sockpool: $plain; under sockpool: $pooled"
[[ $plain == "sockets 0 files "*" error EMFILE" ]] ||
	fail "without sockpool the limit did not stop it: $plain"
# The 5 connections were made, and the pool held them when the files
# were opened (the sockets in /proc/self/fd).
assert_eq "under sockpool: connections made" 5 $(( $(nginx_accepts) - before ))
assert_eq "under sockpool: sockets the pool held" 5 "$(cut -d' ' -f2 <<< "$pooled")"
assert_eq "files opened under ulimit -n 100, under sockpool as without" \
	"${plain#sockets * }" "${pooled#sockets * }"

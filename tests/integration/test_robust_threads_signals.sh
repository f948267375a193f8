#!/usr/bin/env bash
# One socket read by one thread and written by another, hooks called from
# a signal handler in the middle of requests (write to a pipe, dup and
# close), and threads whose socket() hands out pooled sockets while
# another thread forks: everything arrives, nothing deadlocks (run.sh's
# time limit would catch a hang), every new socket looks unconnected, and
# the sockets are still pooled (but those open at a fork: the child holds
# them too).
source "$(dirname "$0")/lib.sh"

nginx_start
client="$BUILD/clients/threads_signals"
bytes=$(stat -c %s "$DOCROOT/index.html")

before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" duplex "$NGINX_PORT" /index.html "$bytes" 30
# Every response right is what matters.  A round's socket is pooled only
# when each request was recorded before its response: the writer thread's
# record comes after its write() returns, and a quick answer read by the
# other thread may be recorded first, which makes sockpool give up on that
# socket (never pool what it cannot follow).  So some rounds connect anew.
duplex_conns=$(( $(nginx_accepts) - before ))
echo "duplex: 30 rounds used $duplex_conns connections"
assert_le "connections for 30 duplex rounds" 30 "$duplex_conns"

before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" signals "$NGINX_PORT" /index.html "$bytes" 500
assert_eq "connections for 500 requests with signals" 1 $(( $(nginx_accepts) - before ))

before=$(nginx_accepts)
"$BUILD/sockpool" -- "$client" forks "$NGINX_PORT" /index.html "$bytes" 300
echo "forks: 3 threads x 300 requests used $(( $(nginx_accepts) - before )) connections"
echo "ok: threads sharing a socket, signal handlers and fork() are safe"

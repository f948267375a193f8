#!/usr/bin/env bash
# SIGPIPE semantics.  sockpool sends with MSG_NOSIGNAL on the sockets it
# manages (its own retries must never kill the program), so when it finally
# hands an EPIPE to the program it must raise SIGPIPE itself, exactly when
# the real call would have.  A client writes requests to a server that
# resets every connection until a write fails with EPIPE (twice, where it
# lives).  Proves, for each SIGPIPE arrangement and each writing call, that
# the outcome under sockpool is the one without it, and the one POSIX
# gives:
#   default disposition   killed by SIGPIPE (exit status 141)
#   SIG_IGN               gets EPIPE, lives
#   a handler             one handler run per EPIPE returned, no other
#   send(MSG_NOSIGNAL)    gets EPIPE, the handler never runs
source "$(dirname "$0")/lib.sh"

client=$BUILD/clients/sigpipe_client
[ -x "$client" ] || fail "$client is missing: make $client"
fault_server_start resets --reset-on-accept

outcome() {	# command mode call (the client, under sockpool or not): what it did
	local out status
	set +e
	out=$("$@" "$FAULT_PORT" 2> "$WORK/client.err")
	status=$?
	set -e
	[ ! -s "$WORK/client.err" ] || echo "client: $(cat "$WORK/client.err")" >&2
	# The number of writes and resets before the EPIPE is not compared:
	# a shim may absorb some by retrying.
	out=${out%% resets=*}
	echo "status=$status${out:+ $out}"
}

check() {	# mode call expected-outcome
	local plain pooled
	plain=$(outcome "$client" "$1" "$2")
	pooled=$(outcome "$BUILD/sockpool" -- "$client" "$1" "$2")
	assert_eq "$1 $2: outcome without sockpool" "$3" "$plain"
	assert_eq "$1 $2: outcome under sockpool" "$3" "$pooled"
}

for call in write send sendmsg; do
	check default "$call" "status=141"
	check ignore "$call" "status=0 result=EPIPE epipes=2 handler_runs=0 mismatch=0"
	check handler "$call" "status=0 result=EPIPE epipes=2 handler_runs=2 mismatch=0"
done
for call in send sendmsg; do
	check nosignal "$call" "status=0 result=EPIPE epipes=2 handler_runs=0 mismatch=0"
done
fault_server_check
echo "ok: SIGPIPE comes exactly when the real call would raise it"

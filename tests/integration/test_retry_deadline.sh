#!/usr/bin/env bash
# Connect retries end when the program's own timeout does.  A blocking
# connect to a port nobody listens on any more, with SO_SNDTIMEO 300 ms (the
# timeout the kernel applies to connect), under sockpool set to retry for
# a long time: a deadline of 20 s, 100 attempts, 2-4 s apart (equal
# jitter: half of each 4 s backoff is fixed).  Proves that connect() still
# fails with ECONNREFUSED, the errno the program would have had, and
# returns within 5 s.  The port had a listener that accepted one
# connection first: a refusal from a place that never answered is not
# retried at all (test_retry_never_answered).
#
# That bound is a correctness check, not a speed target: honouring the
# 300 ms timeout returns within about 300 ms (at once when not even one
# backoff fits in it, as here), while ignoring it costs the 5 retries the
# budget's floor allows a lone connect (the budget runs out before
# SOCKPOOL_RETRIES does), at least 2 s each: 10 s, up to the 20 s
# deadline.  Nothing between the two can be noise.
#
# With no socket timeout and the default settings, connect() fails with
# ECONNREFUSED too, after its retries: the floor's 5, which wait at least
# 155 ms in all (the fixed halves of 10, 20, 40, 80 and 160 ms), and at
# most the 2 s deadline.  The lower bound says the retries happened;
# without sockpool the same connect fails at once.
source "$(dirname "$0")/lib.sh"

port=$(free_port)
cat > "$WORK/connect.py" <<'PY'
import errno, socket, struct, sys, time
port, sndtimeo_ms = int(sys.argv[1]), int(sys.argv[2])
# The destination answers once, then nothing listens there.
listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)	# run 3 times
listener.bind(("127.0.0.1", port))
listener.listen(1)
client = socket.create_connection(("127.0.0.1", port))
accepted, _ = listener.accept()
for done in (client, accepted, listener):
    done.close()
s = socket.socket()
if sndtimeo_ms:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO,
                 struct.pack("ll", sndtimeo_ms // 1000, sndtimeo_ms % 1000 * 1000))
start = time.monotonic()
try:
    s.connect(("127.0.0.1", port))
    result = "connected"
except OSError as e:
    result = errno.errorcode.get(e.errno, str(e.errno))
print(result, int((time.monotonic() - start) * 1000))
PY
# Sets RESULT (errno name, or "connected") and MS (how long it took).
connect_once() {	# [VAR=value...] -- sndtimeo_ms [sockpool --]
	local envs=() timeo how="without sockpool"
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	timeo=$2
	shift 2
	[ $# -eq 0 ] || how="under sockpool, ${envs[*]:-defaults}"
	read -r RESULT MS < <(env "${envs[@]}" "$@" /usr/bin/python3 "$WORK/connect.py" "$port" "$timeo")
	echo "connect, SO_SNDTIMEO $timeo ms, $how: $RESULT after $MS ms"
}

connect_once -- 300
assert_eq "errno without sockpool" ECONNREFUSED "$RESULT"

connect_once SOCKPOOL_RETRY_DEADLINE_MS=20000 SOCKPOOL_RETRIES=100 \
	SOCKPOOL_BACKOFF_BASE_MS=4000 SOCKPOOL_BACKOFF_MAX_MS=4000 -- 300 "$BUILD/sockpool" --
assert_eq "errno under sockpool, SO_SNDTIMEO 300 ms" ECONNREFUSED "$RESULT"
assert_le "milliseconds connect took under sockpool, SO_SNDTIMEO 300 ms" 5000 "$MS"

connect_once -- 0 "$BUILD/sockpool" --
assert_eq "errno under sockpool, defaults, no socket timeout" ECONNREFUSED "$RESULT"
assert_ge "milliseconds connect took under sockpool, defaults (it retried)" 100 "$MS"
assert_le "milliseconds connect took under sockpool, defaults" 5000 "$MS"
echo "ok: connect retries end with the program's own timeout, and its errno"

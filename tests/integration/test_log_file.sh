#!/usr/bin/env bash
# SOCKPOOL_LOG_FILE can harm no program.  A FIFO that nobody reads does not
# hang even /bin/true (the open in the constructor used to block): the
# program runs, and one warning on stderr says why the log is there.  A
# program that closes every fd above 2 and opens a file of its own (on
# every number, so on the one the log had too) finds no sockpool line in
# it, while sockpool logs at debug level (the control run shows those
# lines in the log file).
source "$(dirname "$0")/lib.sh"

sp=$BUILD/sockpool

# ---- a FIFO without a reader ---------------------------------------------
mkfifo "$WORK/fifo"
status=0
timeout 10 "$sp" --log-file "$WORK/fifo" -- /bin/true 2> "$WORK/fifo.err" || status=$?
assert_eq "/bin/true with the log a FIFO nobody reads: exit status (124: hung)" 0 "$status"
assert_eq "stderr lines" 1 "$(wc -l < "$WORK/fifo.err")"
grep -q "warning: cannot open SOCKPOOL_LOG_FILE $WORK/fifo: .*FIFO.*; logging to stderr" \
	"$WORK/fifo.err" || fail "not the expected warning: $(cat "$WORK/fifo.err")"

# ---- the program's own files -----------------------------------------------
nginx_start
# run MODE: own_files.py under sockpool at debug level, its fd limit 256.
run() {
	( ulimit -n 256 && exec "$sp" -vv --log-file "$WORK/$1.sockpool.log" -- /usr/bin/python3 \
		"$LIB_DIR/clients/own_files.py" "$1" "$NGINX_PORT" "$WORK/$1.own" 20 ) \
		2> "$WORK/$1.err" || fail "own_files.py $1 failed: $(cat "$WORK/$1.err")"
	[ ! -s "$WORK/$1.err" ] || fail "own_files.py $1 said: $(cat "$WORK/$1.err")"
}
run keep
assert_ge "control: sockpool lines in the log while requests run" 10 \
	"$(count_lines 'sockpool\[[0-9]+\]: debug: fd [0-9]+: (reusing|parked)' "$WORK/keep.sockpool.log")"
assert_eq "control: sockpool lines in the program's file" 0 "$(count_lines 'sockpool' "$WORK/keep.own")"

run close
echo "the program's file:"; sed 's/^/  /' "$WORK/close.own"
assert_eq "sockpool lines in the program's file" 0 "$(count_lines 'sockpool' "$WORK/close.own")"
assert_eq "the program's own lines in its file" 2 "$(count_lines '^own: ' "$WORK/close.own")"
assert_ge "sockpool lines in the log before the program closed it" 1 \
	"$(count_lines 'sockpool\[[0-9]+\]: ' "$WORK/close.sockpool.log")"

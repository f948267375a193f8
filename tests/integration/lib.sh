# lib.sh: what every integration test (and scripts/demo.sh, bench/run.sh)
# sources.  Not executable on its own.
#
# A test is tests/integration/test_<name>.sh: it sources this file, starts
# the servers it needs on loopback ports picked here, runs real clients,
# judges by what the server saw, prints what it checked, and exits 0 on
# pass.  Sourcing this file gives it:
#
#   set -euo pipefail, BUILD (absolute build dir), WORK (private temp dir),
#   SOCKPOOL_STATS_DIR (exported: $WORK/shm, so that no test leaves
#   statistics segments in the user's /dev/shm; a test may set its own),
#   and an EXIT trap that stops every server started here and removes WORK,
#   whether the test passes, fails or is interrupted.
#
#   free_port                    an unused TCP port on 127.0.0.1
#   nginx_start [HTTP_CONF] [SERVER_CONF] [tls]
#                                a private nginx on 127.0.0.1:$NGINX_PORT
#                                (and [::1]:$NGINX_PORT6 when IPv6 loopback
#                                works; with "tls" also HTTPS on
#                                $NGINX_TLS_PORT, self-signed); exports
#                                NGINX_PORT, NGINX_PORT6, NGINX_TLS_PORT,
#                                NGINX_DIR, DOCROOT
#   nginx_tls_start [HTTP_CONF] [SERVER_CONF]   the same with tls
#   nginx_accepts                connections nginx accepted, not counting
#                                the ones this library made to ask
#   nginx_requests               requests nginx served, the same way
#   nginx_stop                   stop the current nginx (graceful, bounded)
#   nginx_restart PAUSE_MS       stop it, leave the port closed PAUSE_MS
#                                more, start it again on the same port with
#                                the same configuration (counters restart)
#   NGINX_NETNS=NAME             nginx_start, nginx_restart and the counters
#                                run nginx and curl in that network
#                                namespace (IPv4 only); NGINX_FIXED_PORT=N
#                                makes nginx_start listen on N
#   py_server_start NAME SCRIPT  run "python3 SCRIPT PORT_FILE LOG_FILE" in
#                                the background, export PY_SERVER_PORT,
#                                PY_SERVER_LOG, PY_SERVER_PID
#   fault_server_start NAME [OPTIONS]
#                                clients/fault_server.py with OPTIONS in the
#                                background; exports FAULT_PORT, FAULT_LOG,
#                                FAULT_PID (see the server for its log)
#   fault_server_check           fail unless that server still runs and
#                                has said nothing on stderr
#   run_across_refusal_window AFTER COMMAND...
#                                COMMAND in the background, the fault
#                                server's refusal window opened once AFTER
#                                requests were processed; waits for it
#   count_lines REGEX FILE       lines of FILE matching REGEX (0 if none)
#   assert_results_ok WHAT COUNT FILE
#                                FILE, results of clients/paced_client.py,
#                                has COUNT requests and no error (else the
#                                first errors are shown)
#   bg_track PID, bg_wait PID    a program the test runs in the background
#                                is stopped at cleanup like the servers,
#                                unless bg_wait (its exit status) reaped it
#   at_exit COMMAND...           run COMMAND at cleanup, after the servers
#                                stop (for what a test made outside WORK)
#   time_wait_count PORT         TIME_WAIT sockets from or to PORT
#   wait_for WHAT COMMAND...     poll COMMAND until it succeeds (bounded)
#   assert_eq WHAT EXPECTED ACTUAL, assert_le WHAT LIMIT ACTUAL,
#   assert_ge WHAT LIMIT ACTUAL, fail MSG, skip WHY (exit 77: run.sh
#   reports the test as skipped)
#
# The docroot holds index.html (small), body_16k.bin (16 KiB of fixed
# pseudo-random bytes); /chunked/FILE serves the same files with
# "Transfer-Encoding: chunked"; /nginx_status is stub_status.  nginx keeps
# connections alive (keepalive_timeout 65, keepalive_requests 100000)
# unless HTTP_CONF sets either itself; its access log is $NGINX_DIR/access.log
# (NGINX_ACCESS_LOG=off turns it off, for benchmarks).  Nothing here ever
# uses port 80.  KEEP_WORK=1 keeps WORK of a failed test for a post-mortem.

set -euo pipefail

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
: "${BUILD:=$(cd "$LIB_DIR/../.." && pwd)/build}"
BUILD=$(cd "$BUILD" 2>/dev/null && pwd || echo "$BUILD")
export BUILD
# What to put in LD_PRELOAD to load the shim without the launcher: in a
# sanitizer build its runtime must come first (the Makefile notes it).
PRELOAD_FIRST=
[ ! -f "$BUILD/preload-first" ] || PRELOAD_FIRST=$(cat "$BUILD/preload-first")
SHIM_PRELOAD=${PRELOAD_FIRST:+$PRELOAD_FIRST:}$BUILD/libsockpool.so
WORK=$(mktemp -d "${TMPDIR:-/tmp}/sockpool-test.XXXXXX")
export WORK
SOCKPOOL_STATS_DIR=$WORK/shm
mkdir "$SOCKPOOL_STATS_DIR"
export SOCKPOOL_STATS_DIR

_lib_nginx_count=0
_lib_bg_pids=()
_lib_exit_cmds=()

# ---- assertions --------------------------------------------------------

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

_lib_is_int() {
	[[ $1 =~ ^-?[0-9]+$ ]]
}

assert_eq() {	# what expected actual
	local what=$1 expected=$2 actual=$3
	if [ "$expected" != "$actual" ]; then
		fail "$what: expected $expected, got $actual"
	fi
	echo "ok: $what: $actual"
}

assert_le() {	# what limit actual
	local what=$1 limit=$2 actual=$3
	_lib_is_int "$actual" || fail "$what: expected a number <= $limit, got '$actual'"
	if [ "$actual" -gt "$limit" ]; then
		fail "$what: expected at most $limit, got $actual"
	fi
	echo "ok: $what: $actual (at most $limit)"
}

assert_ge() {	# what limit actual
	local what=$1 limit=$2 actual=$3
	_lib_is_int "$actual" || fail "$what: expected a number >= $limit, got '$actual'"
	if [ "$actual" -lt "$limit" ]; then
		fail "$what: expected at least $limit, got $actual"
	fi
	echo "ok: $what: $actual (at least $limit)"
}

# A test that cannot run here (no root, no tool) says why and exits 77.
skip() {
	echo "SKIP: $*"
	exit 77
}

count_lines() {	# regex file
	grep -cE -- "$1" "$2" || true
}

# wait_for WHAT COMMAND...: polls every 0.05 s, gives up after
# WAIT_FOR_SECONDS (default 10) with a failure naming WHAT.
wait_for() {
	local what=$1 i tries
	shift
	tries=$(( ${WAIT_FOR_SECONDS:-10} * 20 ))
	for (( i = 0; i < tries; i++ )); do
		"$@" > /dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "timed out waiting for $what"
}

# ---- ports and sockets -------------------------------------------------

# A TCP port nothing uses on 127.0.0.1 now.  The kernel picks it (bind to
# port 0) and never picks one that a listening, connected or TIME_WAIT
# socket holds.
free_port() {
	_lib_free_port_v6 | cut -d' ' -f1
}

# "PORT 1" when PORT is free on ::1 as well, "PORT 0" when not (or when
# this machine has no IPv6 loopback).  One python start: they cost 0.1 s.
_lib_free_port_v6() {
	python3 -I -S -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
try:
    socket.socket(socket.AF_INET6).bind(("::1", port))
    print(port, 1)
except OSError:
    print(port, 0)'
}

time_wait_count() {	# port
	ss -Htan state time-wait "( dport = :$1 or sport = :$1 )" | wc -l
}

# ---- nginx -------------------------------------------------------------

# The docroot every nginx of this test serves (made once per test).
_lib_make_docroot() {
	DOCROOT=$WORK/docroot
	export DOCROOT
	[ -d "$DOCROOT" ] && return 0
	mkdir -p "$DOCROOT"
	printf '<!doctype html>\n<title>sockpool test</title>\n<p>Hello from nginx.</p>\n' \
		> "$DOCROOT/index.html"
	# AES-CTR of zeros with a fixed key: the same 16 KiB every time.
	head -c 16384 /dev/zero | openssl enc -aes-128-ctr -nosalt \
		-K 000102030405060708090a0b0c0d0e0f -iv 00000000000000000000000000000000 > "$DOCROOT/body_16k.bin"
}

_lib_make_cert() {	# dir
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-days 7 -subj /CN=127.0.0.1 -keyout "$1/key.pem" -out "$1/cert.pem" \
		> "$1/openssl.log" 2>&1 || fail "openssl could not make a certificate: $(cat "$1/openssl.log")"
}

# Counts a connection this library made to nginx, so nginx_accepts can
# leave it out.  The counter lives in a file: callers use $(nginx_accepts),
# a subshell.
_lib_count_own_connection() {
	local n
	n=$(cat "$NGINX_DIR/own_connections")
	echo $(( n + 1 )) > "$NGINX_DIR/own_connections"
}

# One stub_status query (itself a connection and a request nginx counts).
_lib_stub_status() {
	_lib_in_nginx_netns curl -sS --max-time 5 "http://127.0.0.1:$NGINX_PORT/nginx_status"
}

# Runs a command in NGINX_NETNS when it is set, else here.
_lib_in_nginx_netns() {
	if [ -n "${NGINX_NETNS:-}" ]; then
		ip netns exec "$NGINX_NETNS" "$@"
	else
		"$@"
	fi
}

nginx_start() {	# [http-level conf] [server-level conf] [tls]
	local http_conf=${1:-} server_conf=${2:-} tls=${3:-} dir port tls_port=
	local listen user_line='' keepalive='' i conf v6
	_lib_make_docroot
	_lib_nginx_count=$(( _lib_nginx_count + 1 ))
	dir=$WORK/nginx.$_lib_nginx_count
	mkdir -p "$dir/tmp"
	read -r port v6 < <(_lib_free_port_v6)
	if [ -n "${NGINX_NETNS:-}" ]; then
		v6=0	# a new namespace's ::1 may be missing
	fi
	port=${NGINX_FIXED_PORT:-$port}
	listen="listen 127.0.0.1:$port;"
	NGINX_PORT6=
	if [ "$v6" = 1 ]; then
		listen="$listen listen [::1]:$port;"
		NGINX_PORT6=$port
	fi
	if [ "$tls" = tls ]; then
		_lib_make_cert "$dir"
		tls_port=$(free_port)
		listen="$listen listen 127.0.0.1:$tls_port ssl;
		ssl_certificate $dir/cert.pem; ssl_certificate_key $dir/key.pem;"
	fi
	[ "$(id -u)" -eq 0 ] && user_line="user root;"
	[[ $http_conf == *keepalive_timeout* ]] || keepalive="keepalive_timeout 65;"
	[[ $http_conf == *keepalive_requests* ]] || keepalive="$keepalive keepalive_requests 100000;"
	conf=$dir/nginx.conf
	cat > "$conf" <<EOF
# Written by tests/integration/lib.sh for one test; removed with it.
$user_line
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 4096; }
http {
	access_log ${NGINX_ACCESS_LOG:-$dir/access.log};
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	types { text/html html; application/octet-stream bin; }
	default_type application/octet-stream;
	$keepalive
	$http_conf
	server {
		$listen
		root $DOCROOT;
		location = /nginx_status { stub_status; access_log off; }
		# The same files, chunked: a body filter drops Content-Length.
		location /chunked/ {
			alias $DOCROOT/;
			sub_filter_types *;
			sub_filter_once on;
			sub_filter "sockpool-never-matches" "";
		}
		$server_conf
	}
}
EOF
	NGINX_DIR=$dir NGINX_PORT=$port NGINX_TLS_PORT=$tls_port
	export NGINX_DIR NGINX_PORT NGINX_PORT6 NGINX_TLS_PORT
	_lib_nginx_run
}

# Starts nginx with the configuration in NGINX_DIR and waits until it
# answers.  A new master's counters start at zero, and so does the count
# of connections this library made.
_lib_nginx_run() {
	local i
	echo 0 > "$NGINX_DIR/own_connections"
	_lib_in_nginx_netns nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" \
		-e "$NGINX_DIR/error.log" > "$NGINX_DIR/start.log" 2>&1 ||
		fail "nginx did not start: $(cat "$NGINX_DIR/start.log" "$NGINX_DIR/error.log" 2>/dev/null)"
	# Bounded: 100 tries, 0.05 s apart.  Each try that gets an answer was
	# a connection nginx accepted: counted.
	for (( i = 0; i < 100; i++ )); do
		if _lib_stub_status > /dev/null 2>&1; then
			_lib_count_own_connection
			return 0
		fi
		sleep 0.05
	done
	fail "nginx on port $NGINX_PORT does not answer: $(cat "$NGINX_DIR/error.log")"
}

nginx_tls_start() {
	nginx_start "${1:-}" "${2:-}" tls
}

# Field of stub_status line 3 ("accepts handled requests"), minus the
# connections this library made itself, including this query.
_lib_nginx_counter() {	# field number
	local status value
	status=$(_lib_stub_status) || fail "stub_status on port $NGINX_PORT does not answer"
	_lib_count_own_connection
	value=$(sed -n 3p <<< "$status" | awk -v f="$1" '{ print $f }')
	_lib_is_int "$value" || fail "unexpected stub_status output: $status"
	echo $(( value - $(cat "$NGINX_DIR/own_connections") ))
}

nginx_accepts() {
	_lib_nginx_counter 1
}

nginx_requests() {
	_lib_nginx_counter 3
}

# Whether pid runs.  A zombie does not: the daemonized nginx master is
# reaped by init, which some containers' init does only once a second.
_lib_alive() {	# pid
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# Graceful stop (QUIT: nginx closes idle keep-alive connections at once),
# bounded: KILL after 10 s.
_lib_nginx_stop_dir() {	# dir
	local pid i
	[ -s "$1/nginx.pid" ] || return 0
	pid=$(cat "$1/nginx.pid")
	kill -QUIT "$pid" 2>/dev/null || return 0
	for (( i = 0; i < 1000; i++ )); do
		_lib_alive "$pid" || { rm -f "$1/nginx.pid"; return 0; }
		sleep 0.01
	done
	echo "lib.sh: nginx $pid did not quit within 10 s: killed" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

nginx_stop() {
	[ -n "${NGINX_DIR:-}" ] || return 0
	_lib_nginx_stop_dir "$NGINX_DIR"
}

# A restart as an operator does one: graceful stop (the listening socket
# closes, idle connections are closed), the port closed for PAUSE_MS more,
# then the same configuration on the same port.  Returns once it answers.
nginx_restart() {	# pause_ms
	[ -n "${NGINX_DIR:-}" ] || fail "nginx_restart: no nginx started"
	_lib_nginx_stop_dir "$NGINX_DIR"
	sleep "$(printf '%d.%03d' $(( $1 / 1000 )) $(( $1 % 1000 )))"
	_lib_nginx_run
}

# ---- helper servers ----------------------------------------------------

py_server_start() {	# name script [args...]: script PORT_FILE LOG_FILE [args...]
	local name=$1 script=$2
	shift 2
	PY_SERVER_LOG=$WORK/$name.log
	: > "$PY_SERVER_LOG"
	python3 "$script" "$WORK/$name.port" "$PY_SERVER_LOG" "$@" 2> "$WORK/$name.stderr" &
	PY_SERVER_PID=$!
	_lib_bg_pids+=("$PY_SERVER_PID")
	wait_for "server $name to write its port" test -s "$WORK/$name.port"
	PY_SERVER_PORT=$(cat "$WORK/$name.port")
	export PY_SERVER_PORT PY_SERVER_LOG PY_SERVER_PID
}

# The fault-injecting server (clients/fault_server.py), run by the same
# python the clients use.  Several may run at once: NAME tells them apart.
fault_server_start() {	# name [fault_server options...]
	local name=$1
	shift
	FAULT_LOG=$WORK/$name.log
	FAULT_STDERR=$WORK/$name.stderr
	: > "$FAULT_LOG"
	/usr/bin/python3 "$LIB_DIR/clients/fault_server.py" --port-file "$WORK/$name.port" \
		--log "$FAULT_LOG" "$@" 2> "$FAULT_STDERR" &
	FAULT_PID=$!
	_lib_bg_pids+=("$FAULT_PID")
	wait_for "fault server $name to write its port" test -s "$WORK/$name.port"
	FAULT_PORT=$(cat "$WORK/$name.port")
	export FAULT_PORT FAULT_LOG FAULT_PID FAULT_STDERR
}

# Runs a command (a clients/paced_client.py run, behind a launcher or not)
# in the background against the fault server started with
# --refuse-window-ms, opens the window once AFTER requests were processed,
# and waits for the command's end.  The window must open and close while
# the client runs, or the run proves nothing.
run_across_refusal_window() {	# after command...
	local after=$1 client_pid
	shift
	"$@" &
	client_pid=$!
	bg_track "$client_pid"
	wait_for "$after requests processed" _lib_processed_over "$after"
	kill -USR1 "$FAULT_PID"
	wait_for "the refusal window to end" grep -q '^LISTENING$' "$FAULT_LOG"
	kill -0 "$client_pid" 2>/dev/null ||
		fail "the client ended before the window closed: the test proves nothing"
	bg_wait "$client_pid"
	fault_server_check
}

_lib_processed_over() {	# n
	[ "$(count_lines '^PROCESSED ' "$FAULT_LOG")" -gt "$1" ]
}

# The results file of clients/paced_client.py: "<id> ok" or "<id> error ...".
assert_results_ok() {	# what count file
	local what=$1 count=$2 file=$3 errors
	assert_eq "$what: requests made" "$count" "$(wc -l < "$file")"
	errors=$(count_lines '^[^ ]+ error ' "$file")
	if [ "$errors" -ne 0 ]; then
		grep -E '^[^ ]+ error ' "$file" | head -n 10 >&2
		fail "$what: $errors of $count requests failed (the first ones above)"
	fi
	echo "ok: $what: $count requests, no error"
}

# A fault server that died or complained makes the test's numbers
# meaningless: say so, with what it said.
fault_server_check() {
	_lib_alive "$FAULT_PID" || fail "the fault server stopped: $(cat "$FAULT_STDERR")"
	[ ! -s "$FAULT_STDERR" ] || fail "the fault server complained: $(cat "$FAULT_STDERR")"
}

# ---- cleanup -----------------------------------------------------------

bg_track() {	# pid
	_lib_bg_pids+=("$1")
}

# Waits for a tracked pid and forgets it (a reaped pid may be reused:
# cleanup must not signal it).  Returns its exit status.
bg_wait() {	# pid
	local status=0 kept=() pid
	wait "$1" || status=$?
	for pid in "${_lib_bg_pids[@]}"; do
		[ "$pid" = "$1" ] || kept+=("$pid")
	done
	_lib_bg_pids=("${kept[@]}")
	return "$status"
}

at_exit() {	# command...: one word per argument, run as given
	local quoted
	printf -v quoted '%q ' "$@"
	_lib_exit_cmds+=("$quoted")
}

_lib_cleanup() {
	local status=$? pidfile pid cmd
	set +e
	for pidfile in "$WORK"/nginx.*/nginx.pid; do
		[ -e "$pidfile" ] && _lib_nginx_stop_dir "$(dirname "$pidfile")"
	done
	for pid in "${_lib_bg_pids[@]}"; do
		kill "$pid" 2>/dev/null
	done
	for pid in "${_lib_bg_pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	for cmd in "${_lib_exit_cmds[@]}"; do
		eval "$cmd"
	done
	if [ "$status" -ne 0 ] && [ -n "${KEEP_WORK:-}" ]; then
		echo "lib.sh: kept $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$status"
}

# Says which command made set -e end the test (silent under set +e,
# where a test looks at the status itself).
_lib_on_error() {	# line, command
	[[ $- == *e* ]] || return 0
	echo "FAIL: line $1: command failed: $2" >&2
}

trap _lib_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap '_lib_on_error "$LINENO" "$BASH_COMMAND"' ERR

#!/usr/bin/env bash
# `sockpool --summary`: after the command exits, one line on stderr that
# adds up every process it started (here a client that forks a child
# making requests of its own), and whose figures are nginx's: requests =
# requests nginx served, connections opened = connections nginx accepted,
# opened + reused = requests.  The private statistics directory is gone
# afterwards; with --stats-dir only the segments of this run are counted
# (and then removed).  The launcher still ends as the command did: its
# exit status, and death by the same signal (one sent to the command, or
# to the launcher, which passes INT, TERM and HUP on), and an exit status
# of 128+N is told from a death by signal N, by the launcher's own end and
# in the summary line; stdin reaches the command.  Without --summary the launcher still execs.
source "$(dirname "$0")/lib.sh"

sp=$BUILD/sockpool
# The private directory --summary makes when none is given is under test.
unset SOCKPOOL_STATS_DIR
nginx_start

# The client: N requests in the parent, M in a forked child, each on a
# new connection as a naive client makes them.
cat > "$WORK/forking_client.py" <<'PY'
import http.client, os, sys
port, parent_n, child_n = map(int, sys.argv[1:4])
def fetch(n):
    for i in range(n):
        c = http.client.HTTPConnection("127.0.0.1", port)
        c.request("GET", "/index.html"); c.getresponse().read(); c.close()
fetch(parent_n // 2)
pid = os.fork()
if pid == 0:
    fetch(child_n)
    sys.exit(0)
fetch(parent_n - parent_n // 2)
_, status = os.waitpid(pid, 0)
sys.exit(1 if status else 0)
PY

# summary_figures FILE: "requests opened reused retries errors processes"
# from the summary line in FILE (fails unless there is exactly one).
summary_figures() {
	local n
	n=$(grep -c '^sockpool: ' "$1" || true)
	[ "$n" -eq 1 ] || fail "expected one summary line, got $n: $(cat "$1")"
	sed -nE 's/^sockpool: ([0-9]+) requests?, ([0-9]+) connections? opened, ([0-9]+) reused( \([0-9.]+ %\))?, ([0-9]+) retr(y|ies), ([0-9]+) errors? passed on( \(([0-9]+) processes\))?.*$/\1 \2 \3 \5 \7 \9/p' "$1"
}

shm_dirs() { ls -d /dev/shm/sockpool-summary.* 2> /dev/null | LC_ALL=C sort || true; }
shm_before=$(shm_dirs)

# ---- figures against nginx ----------------------------------------------
accepts0=$(nginx_accepts)
requests0=$(nginx_requests)
"$sp" --summary -- /usr/bin/python3 "$WORK/forking_client.py" "$NGINX_PORT" 300 200 \
	> "$WORK/run1.out" 2> "$WORK/run1.err" || fail "the client failed: $(cat "$WORK/run1.err")"
accepted=$(( $(nginx_accepts) - accepts0 ))
served=$(( $(nginx_requests) - requests0 ))
cat "$WORK/run1.err"
read -r req opened reused retries errors procs <<< "$(summary_figures "$WORK/run1.err")"
[ -n "$req" ] || fail "summary line not understood: $(cat "$WORK/run1.err")"
assert_eq "requests nginx served" 500 "$served"
assert_eq "summary: requests" "$served" "$req"
assert_eq "summary: connections opened = nginx accepted" "$accepted" "$opened"
assert_eq "summary: opened + reused = requests" "$req" "$(( opened + reused ))"
assert_eq "summary: processes (the client and its child)" 2 "$procs"
assert_eq "summary: errors passed on" 0 "$errors"
assert_eq "summary: retries" 0 "$retries"
assert_le "connections opened (one per process, give or take)" 4 "$opened"
# Only new ones count: another run on the machine may remove its own.
assert_eq "private statistics directories left" "" \
	"$(LC_ALL=C comm -13 <(echo "$shm_before") <(shm_dirs) | grep . || true)"

# ---- --stats-dir: only this run's segments, removed afterwards ---------
statsdir=$WORK/stats
mkdir "$statsdir"
# An older run's segment left behind (its process gone, kept at exit) and
# a live process started before this run: neither is counted or removed.
SOCKPOOL_STATS_KEEP=1 "$sp" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
c.request("GET", "/index.html"); c.getresponse().read(); c.close()
print(os.getpid())
' "$NGINX_PORT" > "$WORK/old.pid"
old_pid=$(cat "$WORK/old.pid")
[ -f "$statsdir/sockpool.$(id -u).$old_pid" ] || fail "SOCKPOOL_STATS_KEEP=1 kept no segment"
mkfifo "$WORK/go"
"$sp" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(7):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
    c.request("GET", "/index.html"); c.getresponse().read(); c.close()
open(sys.argv[2], "w").write(str(os.getpid()))
open(sys.argv[3]).read()
' "$NGINX_PORT" "$WORK/other.pid" "$WORK/go" &
other=$!
bg_track "$other"
wait_for "the other client" test -s "$WORK/other.pid"
other_pid=$(cat "$WORK/other.pid")
"$sp" --summary --stats-dir "$statsdir" -- /usr/bin/python3 "$WORK/forking_client.py" \
	"$NGINX_PORT" 20 10 > /dev/null 2> "$WORK/run2.err" || fail "run 2 failed: $(cat "$WORK/run2.err")"
read -r req opened reused retries errors procs <<< "$(summary_figures "$WORK/run2.err")"
assert_eq "--stats-dir summary: requests of this run only" 30 "$req"
assert_eq "--stats-dir summary: processes of this run only" 2 "$procs"
left=$(cd "$statsdir" && ls | sort | tr '\n' ' ')
expected=$(printf '%s\n' "sockpool.$(id -u).$old_pid" "sockpool.$(id -u).$other_pid" | sort | tr '\n' ' ')
assert_eq "segments left in --stats-dir (the older run's, the other live one's)" "$expected" "$left"
echo > "$WORK/go"
bg_wait "$other" || fail "the other client failed"

# ---- exit status, signals, stdin ------------------------------------------
status=0
"$sp" --summary -- sh -c 'exit 7' 2> "$WORK/exit.err" || status=$?
assert_eq "exit status passed through" 7 "$status"
grep -q '^sockpool: no connection was pooled' "$WORK/exit.err" || fail "no summary: $(cat "$WORK/exit.err")"
assert_eq "stdin reaches the command" "hello" "$(echo hello | "$sp" --summary -- cat 2> /dev/null)"

/usr/bin/python3 - "$sp" <<'PY' || fail "signal check failed"
import os, signal, subprocess, sys, time
sp = sys.argv[1]
def launch(cmd):
    # INT and QUIT not ignored, as in a foreground job; own session, so
    # that no terminal is involved.
    return subprocess.Popen([sp, "--summary", "--"] + cmd, stderr=subprocess.PIPE,
                            start_new_session=True,
                            preexec_fn=lambda: [signal.signal(s, signal.SIG_DFL)
                                                for s in (signal.SIGINT, signal.SIGQUIT)])
def check(what, p, expected):
    _, err = p.communicate(timeout=20)
    assert p.returncode == expected, (what, p.returncode, err)
    assert err.count(b"sockpool: ") == 1, (what, err)
    print("ok: %s: launcher ended with %d, summary printed" % (what, p.returncode))
# The command kills itself: the launcher dies of the same signal.
for sig in (signal.SIGTERM, signal.SIGSEGV, signal.SIGINT):
    check("command killed by " + sig.name,
          launch(["sh", "-c", "kill -%d $$" % sig]), -sig)
# A signal sent to the launcher reaches the command.
for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    p = launch(["sleep", "30"])
    # Signal only once the launcher's child has become the command.
    children = "/proc/%d/task/%d/children" % (p.pid, p.pid)
    def command_runs():
        try:
            kids = open(children).read().split()
            return bool(kids) and open("/proc/%s/comm" % kids[0]).read().strip() == "sleep"
        except OSError:
            return False
    deadline = time.time() + 10
    while time.time() < deadline and not command_runs():
        time.sleep(0.02)
    assert command_runs(), "the command did not start"
    p.send_signal(sig)
    check(sig.name + " sent to the launcher", p, -sig)
# An exit status of 128+N is not a death by signal N: the launcher ends
# the same way as the command, and the summary line says which it was.
for what, cmd, expected, said in (
        ("command exited with 130", "exit 130", 130, b"; the command exited with status 130\n"),
        ("command killed by SIGINT", "kill -INT $$", -signal.SIGINT,
         b"; the command was killed by SIGINT\n"),
        ("command exited with 143", "exit 143", 143, b"; the command exited with status 143\n"),
        ("command killed by SIGTERM", "kill -TERM $$", -signal.SIGTERM,
         b"; the command was killed by SIGTERM\n")):
    p = launch(["sh", "-c", cmd])
    _, err = p.communicate(timeout=20)
    assert p.returncode == expected, (what, p.returncode, err)
    assert err.count(b"sockpool: ") == 1 and err.endswith(said), (what, err)
    print("ok: %s: launcher ended with %d, summary says %r" % (what, p.returncode, said.strip()))
# A command that ends well is not mentioned.
p = launch(["true"])
_, err = p.communicate(timeout=20)
assert p.returncode == 0 and b"the command" not in err, ("true", p.returncode, err)
PY

# ---- Ctrl-C on a terminal reaches the command once -------------------------
# The terminal sends SIGINT to its foreground process group, the command
# included: the launcher must not pass on a second one.  The command
# counts its SIGINTs; a SIGTERM sent to the launcher afterwards, passed
# on after any SIGINT it passed on (and delivered after it: lower signal
# numbers first), makes the command print the count and exit.
/usr/bin/python3 - "$sp" <<'PY' || fail "terminal Ctrl-C check failed"
import os, pty, signal, sys
sp = sys.argv[1]
counter = r"""
import os, signal, sys
count = 0
def on_int(sig, frame):
    global count
    count += 1
    os.write(1, b"got INT\n")
def on_term(sig, frame):
    os.write(1, b"INTs: %d\n" % count)
    os._exit(0)
signal.signal(signal.SIGINT, on_int)
signal.signal(signal.SIGTERM, on_term)
os.write(1, b"ready\n")
while True:
    signal.pause()
"""
pid, fd = pty.fork()
if pid == 0:
    # A new session on the pty, the launcher its foreground group.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.execv(sp, [sp, "--summary", "--", sys.executable, "-c", counter])
out = b""
def read_until(text):
    global out
    while text not in out:
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            chunk = b""
        if not chunk:
            raise AssertionError("no %r in %r" % (text, out))
        out += chunk
read_until(b"ready")
os.write(fd, b"\x03")
read_until(b"got INT")
os.kill(pid, signal.SIGTERM)
read_until(b"INTs: ")
try:
    while True:
        chunk = os.read(fd, 1024)
        if not chunk:
            break
        out += chunk
except OSError:
    pass
_, status = os.waitpid(pid, 0)
text = out.decode(errors="replace")
assert "INTs: 1\r\n" in text, text
assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (status, text)
assert text.count("sockpool: ") == 1, text
print("ok: Ctrl-C on the terminal reached the command once; summary printed")
PY

# ---- without --summary the launcher becomes the command ------------------
"$sp" -- sh -c 'echo $$' > "$WORK/pid.out" &
launcher=$!
wait "$launcher"
assert_eq "without --summary the command has the launcher's pid" "$launcher" "$(cat "$WORK/pid.out")"

#!/usr/bin/env bash
# The host line's TCP socket counts are exact: in a network namespace of
# its own (so that nothing else on the machine changes the figures), a
# script makes sockets in known states (LISTEN, ESTABLISHED, TIME_WAIT,
# CLOSE_WAIT, FIN_WAIT2, over IPv4 and IPv6) and sockpool-stat --json,
# reading /proc/net/tcp and tcp6, must count exactly those, as must the
# kernel's other account, `ss` (netlink).  Needs root for the namespace.
source "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "a network namespace needs root"
unshare -n true 2> /dev/null || skip "cannot make a network namespace here"
mkdir "$WORK/empty"

unshare -n -- /usr/bin/python3 - "$BUILD/sockpool-stat" "$WORK/empty" <<'PY' || fail "host counts differ"
import collections, json, socket, subprocess, sys, time
stat, empty = sys.argv[1:3]
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)

def ss_states():
    out = subprocess.run(["ss", "-Htan"], check=True, capture_output=True, text=True).stdout
    names = {"ESTAB": "ESTABLISHED", "SYN-SENT": "SYN_SENT", "TIME-WAIT": "TIME_WAIT",
             "CLOSE-WAIT": "CLOSE_WAIT", "FIN-WAIT-2": "FIN_WAIT2", "LISTEN": "LISTEN",
             "FIN-WAIT-1": "FIN_WAIT1", "LAST-ACK": "LAST_ACK", "SYN-RECV": "SYN_RECV",
             "CLOSING": "CLOSING"}
    return collections.Counter(names[line.split()[0]] for line in out.splitlines())

def wait_until(what, cond):
    for _ in range(200):
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("timed out: " + what + ": " + str(ss_states()))

families = [(socket.AF_INET, "127.0.0.1")]
try:
    socket.socket(socket.AF_INET6).bind(("::1", 0))
    families.append((socket.AF_INET6, "::1"))
except OSError:
    print("no IPv6 loopback here: IPv4 only")
keep = []
expected = collections.Counter()
for family, addr in families:
    listener = socket.socket(family)
    listener.bind((addr, 0))
    listener.listen(16)
    port = listener.getsockname()[1]
    keep.append(listener)
    expected["LISTEN"] += 1
    pairs = []
    for i in range(3):
        c = socket.create_connection((addr, port))
        s, _ = listener.accept()
        pairs.append((c, s))
    # Pair 0: the client closes first, then the server: TIME_WAIT at the client.
    c, s = pairs[0]
    c.close()
    assert s.recv(1) == b""
    s.close()
    # Pair 1: the server closes, the client does not: CLOSE_WAIT and FIN_WAIT2.
    pairs[1][1].close()
    keep.extend([pairs[1][0], pairs[2][0], pairs[2][1]])
    expected.update({"TIME_WAIT": 1, "CLOSE_WAIT": 1, "FIN_WAIT2": 1, "ESTABLISHED": 2})
wait_until("the states to settle", lambda: ss_states() == expected)

doc = json.loads(subprocess.run([stat, "--json", "--dir", empty], check=True,
                                capture_output=True, text=True).stdout)
host = doc["host"]
got = collections.Counter({k: v for k, v in host["tcp_states"].items() if v})
assert host["unparsed_lines"] == 0 and host["cut"] is False, host
assert got == expected, ("sockpool-stat", dict(got), "expected", dict(expected))
text = subprocess.run([stat, "--once", "--dir", empty], check=True,
                      capture_output=True, text=True).stdout
line = text.splitlines()[0]
for state, n in expected.items():
    assert " %s %d" % (state, n) in line, (state, line)
print("ok: sockpool-stat counts", dict(sorted(got.items())), "as ss does")
print("ok: host line:", line)
PY

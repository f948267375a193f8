#!/usr/bin/env bash
# sockpool-stat's outputs against a real client and nginx: --json parses
# and agrees with nginx (connections opened = accepted, opened + reused =
# requests = what nginx served) and with itself (one request-time
# observation per request, one connect-time per connection opened, one
# idle age per reuse); --prometheus passes a line-by-line check of the
# text format; --once shows the process, its destination and the host
# line; the live view redraws with rates when stdout is a pipe, and on a
# terminal draws in place (no full clear), quits on q, Ctrl-C and
# SIGTERM, and gives the terminal back as it found it.
source "$(dirname "$0")/lib.sh"

stat=$BUILD/sockpool-stat
nginx_start
mkfifo "$WORK/go"
statsdir=$WORK/stats
mkdir "$statsdir"
requests=200
before_accepts=$(nginx_accepts)
before_requests=$(nginx_requests)
"$BUILD/sockpool" --stats-dir "$statsdir" -- /usr/bin/python3 -c '
import http.client, os, sys
port, n, ready, go = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
for i in range(n):
    c = http.client.HTTPConnection("127.0.0.1", port)
    c.request("GET", "/index.html"); c.getresponse().read(); c.close()
open(ready, "w").write(str(os.getpid()))
open(go).read()
' "$NGINX_PORT" "$requests" "$WORK/ready" "$WORK/go" &
client=$!
bg_track "$client"
wait_for "the client to finish its requests" test -s "$WORK/ready"
pid=$(cat "$WORK/ready")
accepted=$(( $(nginx_accepts) - before_accepts ))
served=$(( $(nginx_requests) - before_requests ))
assert_eq "requests nginx served" "$requests" "$served"

# ---- JSON --------------------------------------------------------------
"$stat" --dir "$statsdir" --json > "$WORK/all.json"
"$stat" --dir "$statsdir" --json -p "$pid" > "$WORK/one.json"
/usr/bin/python3 - "$WORK/all.json" "$WORK/one.json" "$NGINX_PORT" "$accepted" "$pid" "$requests" <<'PY' || fail "JSON check failed"
import json, sys
counters = ["conns_opened", "conns_reused", "stale_discarded", "requests", "idle_now",
            "connect_retries", "replays_reset", "replays_epipe", "replays_eof",
            "fresh_for_unsafe", "budget_refusals", "errors_passed", "in_use_now",
            "not_pooled_option", "speculated", "speculation_settled"]
hists = ["connect_us", "request_us", "idle_age_us"]
port, accepted, pid, requests = map(int, sys.argv[3:7])
for path in sys.argv[1:3]:
    with open(path) as f:
        text = f.read()
    assert text.count("\n") == 1 and text.endswith("\n"), "one line"
    doc = json.loads(text)
    assert doc["schema"] == 5 and doc["layout_version"] == 6, doc.keys()
    assert isinstance(doc["time_ns"], int)
    states = doc["host"]["tcp_states"]
    for s in ["ESTABLISHED", "SYN_SENT", "TIME_WAIT", "CLOSE_WAIT", "LISTEN"]:
        assert isinstance(states[s], int) and states[s] >= 0, (s, states)
    assert states["LISTEN"] >= 1, states          # nginx listens
    assert states["ESTABLISHED"] >= 2, states     # the pooled connection, both ends
    bounds = doc["histogram_buckets_us"]
    assert len(bounds) == 32 and bounds[0] == 2 and bounds[30] == 2**31 and bounds[31] is None
    assert doc["errors"] == [] or all(set(e) == {"file", "error"} for e in doc["errors"])
    [proc] = [p for p in doc["processes"] if p["pid"] == pid]
    assert proc["alive"] is True and proc["program"].startswith("python3"), proc["program"]
    assert proc["max_destinations"] == 64
    for where in [proc["totals"]] + proc["destinations"]:
        for c in counters:
            assert isinstance(where[c], int), c
    for where in [proc] + proc["destinations"]:
        for h in hists:
            assert len(where["histograms"][h]) == 32 and all(
                isinstance(n, int) and n >= 0 for n in where["histograms"][h]), h
    [dest] = [d for d in proc["destinations"] if d["port"] == port]
    assert dest["dest"] == "127.0.0.1:%d" % port and dest["family"] == "ipv4", dest["dest"]
    assert dest["conns_opened"] == accepted, (dest["conns_opened"], accepted)
    assert dest["conns_opened"] + dest["conns_reused"] == requests, dest
    assert dest["requests"] == requests, dest["requests"]
    assert dest["idle_now"] == 1 and dest["in_use_now"] == 0, dest
    assert dest["errors_passed"] == 0
    h = dest["histograms"]
    assert sum(h["request_us"]) == requests, (sum(h["request_us"]), requests)
    assert sum(h["connect_us"]) == dest["conns_opened"], h["connect_us"]
    assert sum(h["idle_age_us"]) == dest["conns_reused"], h["idle_age_us"]
    for c in counters:
        if c not in ("idle_now", "in_use_now"):
            assert proc["totals"][c] == sum(d[c] for d in proc["destinations"]), c
print("json ok: opened=%d reused=%d requests=%d, nginx accepted %d" % (
    dest["conns_opened"], dest["conns_reused"], dest["requests"], accepted))
PY

# ---- Prometheus ----------------------------------------------------------
"$stat" --dir "$statsdir" --prometheus > "$WORK/metrics.prom"
/usr/bin/python3 - "$WORK/metrics.prom" "$pid" "$requests" "$NGINX_PORT" <<'PY' || fail "Prometheus check failed"
# A checker of the text exposition format 0.0.4, line by line.
import math, re, sys
path, pid, requests, port = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s)(?:,%s)*)?\})? (\S+)$" % (NAME, LABEL, LABEL))
types, helps, seen_families, samples = {}, set(), [], []
current = None
with open(path, encoding="utf-8") as f:
    text = f.read()
assert text.endswith("\n")
for n, line in enumerate(text.split("\n")[:-1], 1):
    where = "line %d: %r" % (n, line)
    if line.startswith("# HELP "):
        name = line.split(" ")[2]
        assert re.fullmatch(NAME, name) and name not in helps, where
        helps.add(name)
        continue
    if line.startswith("# TYPE "):
        _, _, name, typ = line.split(" ")
        assert re.fullmatch(NAME, name) and name not in types, where
        assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), where
        types[name] = typ
        seen_families.append(name)
        current = name
        continue
    assert not line.startswith("#"), where
    m = SAMPLE.match(line)
    assert m, "not a sample: " + where
    name, value = m.group(1), m.group(len(m.groups()))
    labels = dict(re.findall(LABEL, line[len(name):line.rfind(" ")]))
    v = float(value)
    assert not math.isnan(v), where
    # Every sample belongs to the family whose TYPE came last.
    family = current
    assert family is not None, "sample before any TYPE: " + where
    typ = types[family]
    if typ == "histogram":
        assert name in (family + "_bucket", family + "_count", family + "_sum"), where
    elif typ == "counter":
        assert name == family and name.endswith("_total"), where
    else:
        assert name == family, where
    samples.append((family, name, labels, v))
# Histograms: per series, buckets ascend by le, are cumulative, end at
# +Inf, and _count equals the +Inf bucket.
series = {}
for family, name, labels, v in samples:
    if types[family] != "histogram":
        continue
    key = (family, tuple(sorted((k, x) for k, x in labels.items() if k != "le")))
    s = series.setdefault(key, {"buckets": [], "count": None})
    if name.endswith("_bucket"):
        s["buckets"].append((float(labels["le"]), v))
    elif name.endswith("_count"):
        s["count"] = v
assert series, "no histogram series"
for key, s in series.items():
    les = [le for le, _ in s["buckets"]]
    assert les == sorted(les) and len(set(les)) == len(les), key
    assert les[-1] == math.inf, key
    counts = [c for _, c in s["buckets"]]
    assert all(a <= b for a, b in zip(counts, counts[1:])), ("not cumulative", key)
    assert s["count"] == counts[-1], key
for needed in ["sockpool_requests_total", "sockpool_conns_opened_total",
               "sockpool_idle_now", "sockpool_in_use_now", "sockpool_request_seconds",
               "sockpool_connect_seconds", "sockpool_idle_age_seconds",
               "sockpool_host_tcp_sockets", "sockpool_process_alive"]:
    assert needed in types, needed
assert types["sockpool_idle_now"] == "gauge" and types["sockpool_requests_total"] == "counter"
mine = [v for fam, name, labels, v in samples
        if name == "sockpool_requests_total" and labels.get("pid") == pid
        and labels.get("dest") == "127.0.0.1:" + port]
assert mine == [requests], mine
rq = [v for fam, name, labels, v in samples
      if name == "sockpool_request_seconds_count" and labels.get("pid") == pid]
assert rq == [requests], rq
print("prometheus ok: %d families, %d samples, %d histogram series" % (
    len(types), len(samples), len(series)))
PY

# ---- text ----------------------------------------------------------------
"$stat" --dir "$statsdir" --once > "$WORK/once.txt"
grep -q "^host TCP: ESTABLISHED [0-9]" "$WORK/once.txt" || fail "no host line: $(cat "$WORK/once.txt")"
grep -q "^pid $pid  python3.*  alive  up " "$WORK/once.txt" || fail "--once does not show pid $pid alive"
grep -qE "^ +$requests .*127\.0\.0\.1:$NGINX_PORT\$" "$WORK/once.txt" ||
	fail "--once has no row for the destination: $(cat "$WORK/once.txt")"
echo "ok: --once shows the host line, the process and its destination"

# ---- live view, stdout a pipe: plain frames, rates from the second ------
"$stat" --dir "$statsdir" -p "$pid" -i 0.1 > "$WORK/live.txt" 2>&1 &
live=$!
bg_track "$live"
frames() { grep -c '^sockpool-stat ' "$WORK/live.txt" || true; }
three_frames() { [ "$(frames)" -ge 3 ]; }
wait_for "three frames" three_frames
kill -TERM "$live"
status=0
bg_wait "$live" || status=$?
assert_eq "live view exit status after SIGTERM" 0 "$status"
grep -qE "^ +$requests +0\.0 .*127\.0\.0\.1:$NGINX_PORT\$" "$WORK/live.txt" ||
	fail "no frame shows a rate (0.0 req/s): $(tail -n 5 "$WORK/live.txt")"
grep -q $'\033' "$WORK/live.txt" && fail "escape sequences written to a pipe"
echo "ok: the live view writes $(frames) plain frames to a pipe, with rates"

# ---- live view on a terminal ----------------------------------------------
/usr/bin/python3 - "$stat" "$statsdir" "$pid" <<'PY' || fail "terminal check failed"
import os, pty, select, signal, sys, termios, time
stat, statsdir, pid = sys.argv[1:4]

def run(stop):
    master, slave = pty.openpty()
    before = termios.tcgetattr(slave)
    child = os.fork()
    if child == 0:
        os.setsid()
        os.close(master)
        import fcntl
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.execv(stat, [stat, "--dir", statsdir, "-p", pid, "-i", "0.1"])
    out = b""
    deadline = time.time() + 10
    while out.count(b"\033[H") < 3 and time.time() < deadline:
        if select.select([master], [], [], 0.5)[0]:
            out += os.read(master, 65536)
    assert out.count(b"\033[H") >= 3, ("not redrawing", out[-300:])
    during = termios.tcgetattr(slave)
    assert not during[3] & termios.ECHO and not during[3] & termios.ICANON, "not raw"
    stop(master, child)
    deadline = time.time() + 10
    while time.time() < deadline:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            break
        if select.select([master], [], [], 0.1)[0]:
            try:
                out += os.read(master, 65536)
            except OSError:
                pass
    else:
        os.kill(child, signal.SIGKILL)
        raise AssertionError("did not quit")
    try:
        while select.select([master], [], [], 0.1)[0]:
            out += os.read(master, 65536)
    except OSError:
        pass
    after = termios.tcgetattr(slave)
    os.close(master); os.close(slave)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert after == before, ("terminal not restored", before, after)
    assert b"\033[?1049h" in out and out.rstrip().endswith(b"\033[?1049l"), out[-100:]
    assert b"\033[2J" not in out, "full clear"
    assert b"\033[K" in out and b"\033[J" in out
    return out

run(lambda m, c: os.write(m, b"q"))
print("ok: q quits and the terminal is restored")
run(lambda m, c: os.write(m, b"\x03"))
print("ok: Ctrl-C quits and the terminal is restored")
run(lambda m, c: os.kill(c, signal.SIGTERM))
print("ok: SIGTERM quits and the terminal is restored")
PY

echo > "$WORK/go"
bg_wait "$client" || fail "the client failed"
[ ! -e "$statsdir/sockpool.$(id -u).$pid" ] || fail "the segment outlived its process"
echo "ok: the reader's outputs agree with nginx and with their formats"

#!/usr/bin/env bash
# The compatibility matrix: the clients people run, each making its
# requests with a new connection per request (as nginx counts without
# sockpool), checking every body, then the same under sockpool (a handful
# of connections at most), under sockpool with SOCKPOOL_SPECULATE=0 (no
# pooled socket handed out by socket(): the same handful) and with
# SOCKPOOL_REWRITE=0 (correct, pooled less: clients that ask the server to
# close are then not pooled).  The matrix goes to $BUILD/compat-matrix.md, which the README
# carries.
source "$(dirname "$0")/lib.sh"

nginx_start
body="$DOCROOT/index.html"
url="http://127.0.0.1:$NGINX_PORT/index.html"
matrix="$BUILD/compat-matrix.md"
rows=()

# One client, four runs: plain, sockpool, sockpool with SPECULATE=0 and
# with REWRITE=0.  handful: the most connections allowed under sockpool.
row() {	# name, I/O model, requests, handful, command...
	local name=$1 io=$2 n=$3 handful=$4 before plain pooled nospec norewrite
	shift 4
	before=$(nginx_accepts)
	"$@" > "$WORK/out" 2>&1 || fail "$name, without sockpool: $(tail -3 "$WORK/out")"
	plain=$(( $(nginx_accepts) - before ))
	before=$(nginx_accepts)
	"$BUILD/sockpool" -- "$@" > "$WORK/out" 2>&1 || fail "$name, under sockpool: $(tail -3 "$WORK/out")"
	pooled=$(( $(nginx_accepts) - before ))
	before=$(nginx_accepts)
	SOCKPOOL_SPECULATE=0 "$BUILD/sockpool" -- "$@" > "$WORK/out" 2>&1 ||
		fail "$name, SOCKPOOL_SPECULATE=0: $(tail -3 "$WORK/out")"
	nospec=$(( $(nginx_accepts) - before ))
	before=$(nginx_accepts)
	SOCKPOOL_REWRITE=0 "$BUILD/sockpool" -- "$@" > "$WORK/out" 2>&1 ||
		fail "$name, SOCKPOOL_REWRITE=0: $(tail -3 "$WORK/out")"
	norewrite=$(( $(nginx_accepts) - before ))
	echo "$name: $n requests; connections: $plain without sockpool, $pooled with, $nospec with SOCKPOOL_SPECULATE=0, $norewrite with SOCKPOOL_REWRITE=0"
	# (ab makes one connection more than it has requests.)
	assert_ge "$name: a connection per request without sockpool" "$n" "$plain"
	assert_le "$name: connections under sockpool" "$handful" "$pooled"
	assert_le "$name: connections under sockpool, SOCKPOOL_SPECULATE=0" "$handful" "$nospec"
	rows+=("| $name | $io | $n | $plain | $pooled | $nospec | $norewrite | ok |")
}

row "python3 urllib.request.urlopen" "blocking" 200 4 /usr/bin/python3 -c '
import sys, urllib.request
want = open(sys.argv[2], "rb").read()
for i in range(200):
    assert urllib.request.urlopen(sys.argv[1]).read() == want, i
' "$url" "$body"

row "python3 http.client, timeout=5" "non-blocking, poll" 200 4 /usr/bin/python3 -c '
import http.client, sys
want = open(sys.argv[2], "rb").read()
for i in range(200):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
    c.request("GET", "/index.html")
    assert c.getresponse().read() == want, i
    c.close()
' "$NGINX_PORT" "$body"

row "python3 requests.get, no Session" "blocking" 200 4 /usr/bin/python3 -c '
import requests, sys
want = open(sys.argv[2], "rb").read()
for i in range(200):
    assert requests.get(sys.argv[1]).content == want, i
' "$url" "$body"

# curl hangs with a sanitizer runtime preloaded, sockpool or not.
if [ -z "$PRELOAD_FIRST" ]; then
	# One curl process for the 50 URLs (the launcher runs the script's
	# shell, and curl under it).
	{
		echo 'set -e'
		printf 'curl -sf -H "Connection: close"'
		for i in $(seq 50); do printf ' %s' "$url"; done
		echo " > '$WORK/curl.body'"
		echo "[ \$(stat -c %s '$WORK/curl.body') -eq $(( 50 * $(stat -c %s "$body") )) ]"
	} > "$WORK/curl.sh"
	row "curl -H 'Connection: close', 50 URLs" "libcurl, non-blocking, poll" 50 4 bash "$WORK/curl.sh"
fi

{
	echo "out=\$(ab -q -n 3000 -c 4 '$url') || exit 1"
	echo "grep -q '^Complete requests: *3000\$' <<< \"\$out\" && grep -q '^Failed requests: *0\$' <<< \"\$out\""
} > "$WORK/ab.sh"
row "ab -n 3000 -c 4" "APR, epoll, HTTP/1.0" 3000 8 bash "$WORK/ab.sh"

if command -v node > /dev/null; then
	row "node http.get, agent:false" "libuv, epoll" 200 4 node -e '
const http = require("http"), fs = require("fs");
const want = fs.readFileSync(process.argv[2]);
let n = 0;
function one() {
  http.get({host: "127.0.0.1", port: +process.argv[1], path: "/index.html", agent: false}, res => {
    const parts = [];
    res.on("data", d => parts.push(d));
    res.on("end", () => {
      if (!Buffer.concat(parts).equals(want)) { console.error("wrong body"); process.exit(1); }
      if (++n < 200) one();
    });
  }).on("error", e => { console.error(e.message); process.exit(1); });
}
one();' "$NGINX_PORT" "$body"
fi

row "ruby Net::HTTP.get" "blocking" 200 4 ruby -rnet/http -e '
want = File.binread(ARGV[1])
200.times { |i| raise "request #{i}" unless Net::HTTP.get(URI(ARGV[0])).b == want }
' "$url" "$body"

# php dlopens its extensions with RTLD_DEEPBIND, which a preloaded
# sanitizer runtime refuses (before sockpool's dlopen can drop it): php
# too is left to the plain pass.
if [ -z "$PRELOAD_FIRST" ]; then
	row "php file_get_contents" "blocking" 200 4 php -r '
$want = file_get_contents($argv[2]);
for ($i = 0; $i < 200; $i++) { if (file_get_contents($argv[1]) !== $want) exit(1); }
' "$url" "$body"
	# The curl extension, loaded with RTLD_DEEPBIND: pooled because
	# sockpool drops the flag (SOCKPOOL_DROP_DEEPBIND).
	row "php curl_exec, a handle per request" "libcurl (an extension), poll" 200 4 php -r '
$want = file_get_contents($argv[2]);
for ($i = 0; $i < 200; $i++) {
  $h = curl_init($argv[1]);
  curl_setopt($h, CURLOPT_RETURNTRANSFER, true);
  if (curl_exec($h) !== $want) exit(1);
  curl_close($h);
}' "$url" "$body"
fi

# Java makes every socket dual-stack (IPV6_V6ONLY cleared, ::ffff:a.b.c.d);
# with http.keepAlive=false its requests ask the server to close.
if command -v javac > /dev/null && command -v java > /dev/null; then
	mkdir "$WORK/java"
	cat > "$WORK/java/Get.java" <<'JAVA'
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Arrays;

public class Get {
    public static void main(String[] args) throws Exception {
        byte[] want = Files.readAllBytes(Paths.get(args[1]));
        for (int i = 0; i < 200; i++) {
            HttpURLConnection c = (HttpURLConnection) new URL(args[0]).openConnection();
            try (InputStream in = c.getInputStream()) {
                if (c.getResponseCode() != 200 || !Arrays.equals(in.readAllBytes(), want))
                    throw new RuntimeException("request " + i);
            }
            c.disconnect();
        }
    }
}
JAVA
	started=$(date +%s%N)
	javac -d "$WORK/java" "$WORK/java/Get.java" || fail "javac failed"
	compiled=$(date +%s%N)
	row "java HttpURLConnection, http.keepAlive=false" "blocking, dual-stack socket" 200 4 \
		java -Dhttp.keepAlive=false -cp "$WORK/java" Get "$url" "$body"
	echo "java: javac $(( (compiled - started) / 1000000 )) ms, three runs of 200 requests $(( ($(date +%s%N) - compiled) / 1000000 )) ms"
fi

row "perl LWP::UserAgent" "blocking" 200 4 perl -MLWP::UserAgent -e '
open my $f, "<:raw", $ARGV[1] or die; local $/; my $want = <$f>;
my $ua = LWP::UserAgent->new;
for my $i (1 .. 200) { my $r = $ua->get($ARGV[0]); die "request $i" unless $r->is_success && $r->content eq $want }
' "$url" "$body"

{
	echo "| client | I/O | requests | connections without sockpool | under sockpool | with SOCKPOOL_SPECULATE=0 | with SOCKPOOL_REWRITE=0 | bodies |"
	echo "|---|---|---:|---:|---:|---:|---:|---|"
	printf '%s\n' "${rows[@]}"
} > "$matrix"
cat "$matrix"
echo "ok: every client of the matrix is correct, and pooled under sockpool"

#!/usr/bin/env bash
# Soak: for SOAK_SECONDS (default 40) several clients hammer nginx under
# sockpool at once: a python client that samples its own open fds and RSS
# after a warm-up and at the end, the C naive client with 2 threads, and
# curl fetching many URLs per run.  No growth in fds, bounded RSS, every
# request right.
source "$(dirname "$0")/lib.sh"

seconds=${SOAK_SECONDS:-40}
nginx_start
body="$DOCROOT/index.html"

"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/soak_client.py" \
	"$NGINX_PORT" /index.html "$body" "$seconds" "$WORK/samples" > "$WORK/soak.out" &
soak=$!
end=$(( $(date +%s) + seconds ))
naive_runs=0 curl_runs=0
urls=()
for i in $(seq 50); do urls+=("http://127.0.0.1:$NGINX_PORT/index.html"); done
while [ "$(date +%s)" -lt "$end" ]; do
	"$BUILD/sockpool" -- "$BUILD/examples/naive_client" -q -n 2000 -t 2 -e "$body" \
		127.0.0.1 "$NGINX_PORT" /index.html > /dev/null || fail "naive_client failed"
	"$BUILD/sockpool" -- curl -sf "${urls[@]}" -o /dev/null > /dev/null || fail "curl failed"
	naive_runs=$(( naive_runs + 1 ))
	curl_runs=$(( curl_runs + 1 ))
done
wait "$soak" || fail "the soak client failed: $(cat "$WORK/soak.out")"
cat "$WORK/soak.out"
echo "naive_client runs: $naive_runs (2000 requests each), curl runs: $curl_runs (50 URLs each)"
mapfile -t samples < "$WORK/samples"
echo "samples: ${samples[*]}"
[ ${#samples[@]} -eq 2 ] || fail "expected 2 samples, got ${#samples[@]}"
field() { sed -n "s/.*\\b$1=\\([0-9]*\\).*/\\1/p" <<< "$2"; }
# Sampled with every worker between requests: what is open then is the
# program's own fds and the pool, which holds at most one idle connection
# per worker (3).  A leak over some 200,000 requests would show far more.
assert_le "open fds at the end (warm-up: $(field fds "${samples[0]}"), plus at most 3 pooled)" \
	$(( $(field fds "${samples[0]}") + 3 )) "$(field fds "${samples[1]}")"
growth=$(( $(field rss_kb "${samples[1]}") - $(field rss_kb "${samples[0]}") ))
# A leak per request (thousands of them) would show in megabytes.
assert_le "RSS growth in KiB from warm-up to end" 2048 "$growth"
echo "ok: no growth in fds or memory over $seconds s"

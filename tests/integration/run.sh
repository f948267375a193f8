#!/usr/bin/env bash
# run.sh: runs the integration tests, tests/integration/test_*.sh, in name
# order, each in its own process under a time limit, and reports.
#
#   tests/integration/run.sh [FILTER...]
#
# FILTERs run only the tests whose file name contains one of them; EXCLUDE
# (words) leaves out those whose name contains one of its words.  BUILD (the
# absolute build directory; `make integration` sets it) defaults to
# build/ of this checkout.  TEST_TIMEOUT (seconds, default 300) bounds each
# test; VERBOSE=1 shows the output of passing tests too.  A test that
# exits 77 could not run here (it says why on a "SKIP:" line): reported as
# SKIP, counted as neither passed nor failed.  Prints PASS, SKIP or FAIL
# per test with its duration and the output of each failure, then
# "N passed, N failed, N skipped"; exits 1 if any failed (or none matched
# FILTER), or if the run left statistics segments of dead processes in
# /dev/shm (tests keep theirs under their WORK: lib.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$here/../.." && pwd)/build}
BUILD=$(cd "$BUILD" && pwd)
export BUILD
filters=("$@")
read -r -a excludes <<< "${EXCLUDE:-}"
limit=${TEST_TIMEOUT:-300}

logdir=$(mktemp -d "${TMPDIR:-/tmp}/sockpool-run.XXXXXX")
trap 'rm -rf "$logdir"' EXIT

# Segments in /dev/shm of this user whose process is gone: litter.
dead_segments_in_shm() {
	local f pid
	for f in /dev/shm/sockpool."$(id -u)".*; do
		[ -f "$f" ] || continue
		pid=${f##*.}
		kill -0 "$pid" 2> /dev/null || echo "$f"
	done | LC_ALL=C sort
}
# Every segment there before the run, alive or not, is someone else's:
# only a new one whose process is gone is this run's litter.
litter_before=$(for f in /dev/shm/sockpool."$(id -u)".*; do
	if [ -f "$f" ]; then echo "$f"; fi; done | LC_ALL=C sort)

passed=0
failed=0
skipped=0
failed_names=()
mapfile -t tests < <(cd "$here" && LC_ALL=C ls test_*.sh 2>/dev/null)
for test in "${tests[@]}"; do
	name=${test%.sh}
	chosen=$(( ${#filters[@]} == 0 ))
	for f in "${filters[@]}"; do [[ $name == *"$f"* ]] && chosen=1; done
	for x in "${excludes[@]}"; do [[ $name == *"$x"* ]] && chosen=0; done
	[ "$chosen" -eq 1 ] || continue
	log=$logdir/$name.log
	start=$(date +%s%N)
	set +e
	# -k: a test that ignores TERM is killed 10 s later.
	timeout -k 10 "$limit" "$here/$test" < /dev/null > "$log" 2>&1
	status=$?
	set -e
	took=$(( ($(date +%s%N) - start) / 1000000 ))
	took=$(printf '%d.%01d s' $(( took / 1000 )) $(( took % 1000 / 100 )))
	if [ "$status" -eq 0 ]; then
		passed=$(( passed + 1 ))
		printf 'PASS  %-40s %8s\n' "$name" "$took"
		[ -z "${VERBOSE:-}" ] || sed 's/^/      /' "$log"
	elif [ "$status" -eq 77 ]; then
		skipped=$(( skipped + 1 ))
		why=$(grep -m1 '^SKIP:' "$log" | sed 's/^SKIP: *//' || true)
		printf 'SKIP  %-40s %8s  (%s)\n' "$name" "$took" "${why:-exit status 77}"
		[ -z "${VERBOSE:-}" ] || sed 's/^/      /' "$log"
	else
		failed=$(( failed + 1 ))
		failed_names+=("$name")
		why="exit status $status"
		[ "$status" -eq 124 ] || [ "$status" -eq 137 ] && why="timed out after $limit s"
		printf 'FAIL  %-40s %8s  (%s)\n' "$name" "$took" "$why"
		sed 's/^/      /' "$log"
	fi
done

if [ $(( passed + failed + skipped )) -eq 0 ]; then
	echo "no test matches '${filters[*]}'" >&2
	echo "0 passed, 0 failed, 0 skipped"
	exit 1
fi
litter=$(LC_ALL=C comm -13 <(echo "$litter_before") <(dead_segments_in_shm) | grep . || true)
if [ -n "$litter" ]; then
	echo "FAIL  the run left segments of dead processes in /dev/shm:"
	sed 's/^/      /' <<< "$litter"
	failed=$(( failed + 1 ))
	failed_names+=("(litter in /dev/shm)")
fi
[ "$failed" -eq 0 ] || echo "failed: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]

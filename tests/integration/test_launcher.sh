#!/usr/bin/env bash
# The launcher, build/sockpool, on its own (no pooling involved): --help and
# --version, options onto SOCKPOOL_* variables, LD_PRELOAD prepended and
# kept, the command's exit status and signals passed through (exec),
# usage errors, the warning for static and Go binaries, and the library
# found from the build tree, the installed layout and through symlinks.
source "$(dirname "$0")/lib.sh"

repo=$(cd "$LIB_DIR/../.." && pwd)
sp=$BUILD/sockpool
[ -x "$sp" ] || fail "$sp is missing: build it first (make)"
[ -f "$BUILD/libsockpool.so" ] || fail "$BUILD/libsockpool.so is missing: build it first (make)"
lib=$(readlink -f "$BUILD/libsockpool.so")

# run NAME COMMAND...: stdout to $WORK/NAME.out, stderr to $WORK/NAME.err,
# exit status in $status.
run() {
	local name=$1
	shift
	status=0
	"$@" > "$WORK/$name.out" 2> "$WORK/$name.err" < /dev/null || status=$?
}
out() { cat "$WORK/$1.out"; }
err_lines() { wc -l < "$WORK/$1.err"; }

# ---- --help and --version --------------------------------------------
run help "$sp" --help
assert_eq "--help exit status" 0 "$status"
variables=(SOCKPOOL_DISABLE SOCKPOOL_MAX_IDLE_PER_DEST SOCKPOOL_MAX_IDLE
	SOCKPOOL_IDLE_TIMEOUT_MS SOCKPOOL_RETRIES SOCKPOOL_RETRY_DEADLINE_MS
	SOCKPOOL_BACKOFF_BASE_MS SOCKPOOL_BACKOFF_MAX_MS SOCKPOOL_RETRY_BUDGET_PERCENT
	SOCKPOOL_REPLAY_MAX_BYTES SOCKPOOL_REWRITE SOCKPOOL_DEST SOCKPOOL_EXCLUDE
	SOCKPOOL_STATS SOCKPOOL_STATS_DIR SOCKPOOL_LOG SOCKPOOL_LOG_FILE SOCKPOOL_DROP_DEEPBIND
	SOCKPOOL_SPECULATE)
for v in "${variables[@]}"; do
	grep -qw -- "$v" "$WORK/help.out" || fail "--help does not mention $v"
done
options=(--max-idle --max-idle-total --idle-timeout --dest --exclude --no-rewrite --no-speculate --keep-deepbind
	--stats-dir --no-stats --log-file -v -vv -q --disable -h --help --version)
for o in "${options[@]}"; do
	grep -qE -- "(^|[ ,])$o([ ,=]|$)" "$WORK/help.out" || fail "--help does not mention $o"
done
for topic in "localhost:PORT" "CIDR:PORT" "127.0.0.0/8" "Exit status" "statically linked" \
	"Go" "/dev/shm" "4000" "256" "32"; do
	grep -qF -- "$topic" "$WORK/help.out" || fail "--help says nothing of '$topic'"
done
echo "ok: --help names all ${#variables[@]} variables and ${#options[@]} options"
run h "$sp" -h
cmp -s "$WORK/help.out" "$WORK/h.out" || fail "-h and --help differ"

version=$(sed -n 's/^VERSION *:= *//p' "$repo/Makefile")
run version "$sp" --version
assert_eq "--version" "sockpool $version" "$(out version)"

# ---- usage errors ------------------------------------------------------
run unknown "$sp" --frobnicate -- true
assert_eq "exit status for an unknown option" 2 "$status"
assert_eq "stderr lines for an unknown option" 1 "$(err_lines unknown)"
grep -q -- "--frobnicate" "$WORK/unknown.err" || fail "the error does not name the option"
grep -q -- "--help" "$WORK/unknown.err" || fail "the error does not point to --help"
run nocmd "$sp"
assert_eq "exit status without a command" 2 "$status"
run nocmd2 "$sp" --max-idle 3 --
assert_eq "exit status with options but no command" 2 "$status"
run novalue "$sp" --max-idle
assert_eq "exit status for an option without its value" 2 "$status"
run novalue2 "$sp" --dest= true
assert_eq "exit status for --dest= (empty)" 2 "$status"

# ---- the command runs by exec, its status and signals its own ----------
run exit7 "$sp" sh -c 'exit 7'
assert_eq "exit status passed through" 7 "$status"
run exit0 "$sp" -- true
assert_eq "exit status 0 passed through" 0 "$status"
# (2>/dev/null: not a word from the shell about the killed job)
{ run signal "$sp" -- sh -c 'kill -TERM $$'; } 2>/dev/null
assert_eq "death by SIGTERM passed through (128+15)" 143 "$status"
"$sp" -- sh -c 'echo $$ > "$1"' sh "$WORK/pid" &
launcher_pid=$!
wait "$launcher_pid"
assert_eq "the command has the launcher's pid (exec, no child)" "$launcher_pid" "$(cat "$WORK/pid")"
run notfound "$sp" -- no-such-command-sockpool
assert_eq "exit status for a command not found" 127 "$status"
printf '#!/bin/sh\necho script ran\n' > "$WORK/noexec.sh"
run noexec "$sp" -- "$WORK/noexec.sh"
assert_eq "exit status for a command not executable" 126 "$status"
chmod +x "$WORK/noexec.sh"
run script "$sp" -- "$WORK/noexec.sh"
assert_eq "a #! script runs" "script ran" "$(out script)"
assert_eq "stderr lines for a #! script" 0 "$(err_lines script)"

# ---- options onto variables ---------------------------------------------
run vars "$sp" --max-idle 5 --idle-timeout 100 -- sh -c 'echo $SOCKPOOL_MAX_IDLE_PER_DEST $SOCKPOOL_IDLE_TIMEOUT_MS'
assert_eq "--max-idle 5 --idle-timeout 100" "5 100" "$(out vars)"
mkdir "$WORK/stats"
unset "${!SOCKPOOL_@}"
sockpool_env() { grep '^SOCKPOOL_' "$WORK/$1.out" | LC_ALL=C sort | tr '\n' ' '; }
run allvars "$sp" --max-idle-total=9 --max-idle=3 --idle-timeout=250 --dest '127.0.0.1:80, [::1]:*' \
	--exclude='*:81' --no-rewrite --no-speculate --keep-deepbind --no-stats --stats-dir "$WORK/stats" \
	--log-file="$WORK/log" -vv --disable -- env
assert_eq "every option onto its variable" \
	"SOCKPOOL_DEST=127.0.0.1:80, [::1]:* SOCKPOOL_DISABLE=1 SOCKPOOL_DROP_DEEPBIND=0 SOCKPOOL_EXCLUDE=*:81 SOCKPOOL_IDLE_TIMEOUT_MS=250 SOCKPOOL_LOG=debug SOCKPOOL_LOG_FILE=$WORK/log SOCKPOOL_MAX_IDLE=9 SOCKPOOL_MAX_IDLE_PER_DEST=3 SOCKPOOL_REWRITE=0 SOCKPOOL_SPECULATE=0 SOCKPOOL_STATS=0 SOCKPOOL_STATS_DIR=$WORK/stats " \
	"$(sockpool_env allvars)"
run none "$sp" -- env
assert_eq "no options, no variables" "" "$(sockpool_env none)"
for case in "-v:info" "-v -v:debug" "-vv:debug" "-q:error" "-v -q:error" "-q -v:info"; do
	# shellcheck disable=SC2086 # "-v -v" is two words
	run verbosity "$sp" ${case%%:*} -- sh -c 'echo $SOCKPOOL_LOG'
	assert_eq "SOCKPOOL_LOG for ${case%%:*}" "${case#*:}" "$(out verbosity)"
done
(cd "$WORK" && "$sp" --stats-dir stats --disable -- sh -c 'echo $SOCKPOOL_STATS_DIR') > "$WORK/rel.out"
assert_eq "a relative --stats-dir is made absolute" "$WORK/stats" "$(out rel)"
run firstword "$sp" --disable sh -c 'echo "${SOCKPOOL_MAX_IDLE_PER_DEST-unset} $1"' sh --max-idle
assert_eq "options end at the first word that is not one" "unset --max-idle" "$(out firstword)"

# ---- LD_PRELOAD ---------------------------------------------------------
echo 'int sockpool_test_other(void); int sockpool_test_other(void) { return 0; }' > "$WORK/other.c"
cc -shared -fPIC -o "$WORK/other.so" "$WORK/other.c" || fail "cannot build a test library"
run preload "$sp" -- sh -c 'echo "$LD_PRELOAD"'
assert_eq "LD_PRELOAD set" "$lib" "$(out preload)"
LD_PRELOAD=$WORK/other.so run preload_kept "$sp" -- sh -c 'echo "$LD_PRELOAD"'
assert_eq "an existing LD_PRELOAD is kept, ours first" "$lib:$WORK/other.so" "$(out preload_kept)"
LD_PRELOAD="$WORK/other.so $lib" run preload_once "$sp" -- sh -c 'echo "$LD_PRELOAD"'
assert_eq "ours is not added twice" "$lib:$WORK/other.so" "$(out preload_once)"

# ---- what LD_PRELOAD cannot reach ---------------------------------------
printf '#include <stdio.h>\nint main(void) { puts("ran"); return 4; }\n' > "$WORK/prog.c"
cc -o "$WORK/dynamic" "$WORK/prog.c" || fail "cannot build a test program"
cc -static -o "$WORK/static" "$WORK/prog.c" ||
	fail "cannot link statically (libc.a comes with Debian's libc6-dev)"
run dynamic "$sp" -- "$WORK/dynamic"
assert_eq "dynamic program: exit status" 4 "$status"
assert_eq "dynamic program: stderr lines" 0 "$(err_lines dynamic)"
run static "$sp" -- "$WORK/static"
assert_eq "static program: exit status" 4 "$status"
assert_eq "static program: output" ran "$(out static)"
assert_eq "static program: warning lines" 1 "$(err_lines static)"
grep -q "warning: .*static.* statically linked: LD_PRELOAD cannot reach it" "$WORK/static.err" ||
	fail "unexpected warning: $(cat "$WORK/static.err")"
run static_q "$sp" -q -- "$WORK/static"
assert_eq "static program with -q: exit status" 4 "$status"
assert_eq "static program with -q: stderr lines" 0 "$(err_lines static_q)"
# A Go binary is recognised by its build-id note, which objcopy can add.
if command -v objcopy > /dev/null; then
	printf 'Go\0\0\0\0' > "$WORK/goid"
	objcopy --add-section .note.go.buildid="$WORK/goid" "$WORK/dynamic" "$WORK/goprog"
	run go "$sp" -- "$WORK/goprog"
	assert_eq "Go program: exit status" 4 "$status"
	assert_eq "Go program: warning lines" 1 "$(err_lines go)"
	grep -q "a Go program: LD_PRELOAD cannot reach it.*http.Transport" "$WORK/go.err" ||
		fail "unexpected warning: $(cat "$WORK/go.err")"
else
	echo "note: no objcopy, Go detection not checked"
fi

# ---- finding the library --------------------------------------------------
mkdir "$WORK/links" "$WORK/lonely"
ln -s "$sp" "$WORK/links/sockpool"
run symlink "$WORK/links/sockpool" -- sh -c 'echo "$LD_PRELOAD"'
assert_eq "through a symlink, the library of the build tree" "$lib" "$(out symlink)"
cp "$sp" "$WORK/lonely/sockpool"
run lonely "$WORK/lonely/sockpool" -- true
assert_eq "exit status without a library" 127 "$status"
grep -q "libsockpool.so" "$WORK/lonely.err" || fail "the error does not name the library"

prefix=$WORK/prefix
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$repo" install PREFIX="$prefix" BUILD="$BUILD" \
	> "$WORK/install.log" 2>&1 || fail "make install failed: $(cat "$WORK/install.log")"
run installed "$prefix/bin/sockpool" -- sh -c 'echo "$LD_PRELOAD"'
assert_eq "installed: the library in PREFIX/lib/sockpool" "$prefix/lib/sockpool/libsockpool.so" "$(out installed)"
ln -s "$prefix/bin/sockpool" "$WORK/links/installed"
run installed_link "$WORK/links/installed" -- sh -c 'echo "$LD_PRELOAD"'
assert_eq "installed, through a symlink" "$prefix/lib/sockpool/libsockpool.so" "$(out installed_link)"
echo "ok: the launcher"

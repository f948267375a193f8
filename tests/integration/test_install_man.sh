#!/usr/bin/env bash
# `make install` and the man pages.  install honours DESTDIR and PREFIX
# (nothing lands in PREFIX itself when DESTDIR is given) and lays out
# bin/sockpool, bin/sockpool-stat, lib/sockpool/{libsockpool.so,
# sockpool-supervise} and share/man/man1/; the installed launcher finds
# its library, and with --summary its supervisor and reader.  Each man
# page renders with `man -l` without a warning, and names every option
# its program's --help lists (and, for sockpool(1), every variable; for
# sockpool-stat(1), every counter), so that the pages cannot fall behind
# the programs unnoticed.
source "$(dirname "$0")/lib.sh"

command -v man > /dev/null || skip "no man command here (Debian package man-db)"
repo=$(cd "$LIB_DIR/../.." && pwd)

# ---- make install with DESTDIR and PREFIX ---------------------------------
prefix=$WORK/prefix
dest=$WORK/dest
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$repo" install PREFIX="$prefix" \
	DESTDIR="$dest" BUILD="$BUILD" > "$WORK/install.log" 2>&1 ||
	fail "make install failed: $(cat "$WORK/install.log")"
root=$dest$prefix
for f in bin/sockpool bin/sockpool-stat lib/sockpool/sockpool-supervise; do
	[ -x "$root/$f" ] || fail "make install: no executable $f under DESTDIR/PREFIX"
done
for f in lib/sockpool/libsockpool.so share/man/man1/sockpool.1 share/man/man1/sockpool-stat.1; do
	[ -f "$root/$f" ] || fail "make install: no $f under DESTDIR/PREFIX"
done
[ ! -e "$prefix" ] || fail "make install with DESTDIR wrote into PREFIX itself"
echo "ok: make install honours DESTDIR and PREFIX"

# (A sanitized build's launcher puts its sanitizer runtime first: Makefile.)
expected=$root/lib/sockpool/libsockpool.so
[ ! -f "$BUILD/preload-first" ] || expected="$(cat "$BUILD/preload-first"):$expected"
assert_eq "installed launcher: the installed library" "$expected" \
	"$("$root/bin/sockpool" -- sh -c 'echo "$LD_PRELOAD"')"
status=0
"$root/bin/sockpool" --summary -- sh -c 'exit 3' 2> "$WORK/summary.err" || status=$?
assert_eq "installed launcher with --summary: exit status" 3 "$status"
grep -q '^sockpool: no connection was pooled.*; the command exited with status 3$' "$WORK/summary.err" ||
	fail "installed launcher: no summary from the installed supervisor: $(cat "$WORK/summary.err")"

# ---- the man pages ------------------------------------------------------
# render PAGE: the page as plain text (no bold or underline), wide enough
# that no option is broken across lines; fails on any warning.
render() {
	LC_ALL=C MANWIDTH=200 man --warnings -l "$1" > "$WORK/page.raw" 2> "$WORK/page.err" ||
		fail "man -l $1 failed: $(cat "$WORK/page.err")"
	[ ! -s "$WORK/page.err" ] || fail "man -l $1 warns: $(cat "$WORK/page.err")"
	sed 's/.\x08//g' "$WORK/page.raw"
}

# help_options PROGRAM: every option in the first column of its --help.
help_options() {
	"$1" --help | grep -E '^ +-' | sed -E 's/^ +//; s/  .*//' |
		grep -oE '(^|[ ,(])--?[A-Za-z][A-Za-z-]*' | sed -E 's/^[ ,(]//' | sort -u
}

# check_page PAGE PROGRAM WORD...: PAGE renders cleanly and names every
# option of PROGRAM's --help and every WORD.
check_page() {
	local page=$1 program=$2 text word n=0
	shift 2
	text=$(render "$page")
	grep -q "^NAME" <<< "$text" || fail "$page: no NAME section in $text"
	while read -r word; do
		grep -qE -- "(^|[^A-Za-z-])$word([^A-Za-z-]|$)" <<< "$text" ||
			fail "$(basename "$page") does not mention $word (listed by $(basename "$program") --help)"
		n=$(( n + 1 ))
	done < <(help_options "$program"; printf '%s\n' "$@")
	[ "$n" -ge 10 ] || fail "only $n options found in $program --help: the extraction is broken"
	echo "ok: $(basename "$page") renders without warnings and names all $n options and words"
}

mapfile -t variables < <("$root/bin/sockpool" --help | grep -oE 'SOCKPOOL_[A-Z_]+' | sort -u)
check_page "$root/share/man/man1/sockpool.1" "$root/bin/sockpool" "${variables[@]}"
mapfile -t counters < <("$root/bin/sockpool-stat" --help |
	sed -n '/^Counters/,/^Histograms/p' | grep -oE '^  [a-z_]+' | sed 's/^ *//')
[ ${#counters[@]} -ge 10 ] || fail "only ${#counters[@]} counters found in sockpool-stat --help"
check_page "$root/share/man/man1/sockpool-stat.1" "$root/bin/sockpool-stat" "${counters[@]}"

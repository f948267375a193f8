#!/usr/bin/env bash
# Hooks called from another library's constructor, whichever of the two
# runs first: a preloaded library (clients/early_ctor_lib.c) makes an HTTP
# request from its constructor, with libsockpool.so before and after it in
# LD_PRELOAD.  Before our constructor the hooks use raw system calls, after
# it libc's; the request must work either way, and the program after it.
source "$(dirname "$0")/lib.sh"

nginx_start
early="$BUILD/clients/early_ctor.so"
want="200 $(stat -c %s "$DOCROOT/index.html")"
first=${PRELOAD_FIRST:+$PRELOAD_FIRST:}	# a sanitizer runtime, in such a build
for order in "$first$early:$BUILD/libsockpool.so" "$first$BUILD/libsockpool.so:$early"; do
	rm -f "$WORK/early.out"
	EARLY_PORT=$NGINX_PORT EARLY_OUT="$WORK/early.out" LD_PRELOAD="$order" \
		"$BUILD/examples/naive_client" -q -n 20 -e "$DOCROOT/index.html" \
		127.0.0.1 "$NGINX_PORT" /index.html > "$WORK/client.out" ||
		fail "the program failed with LD_PRELOAD=$order: $(cat "$WORK/client.out")"
	[ -f "$WORK/early.out" ] || fail "the constructor wrote nothing (LD_PRELOAD=$order)"
	assert_eq "request from a constructor, LD_PRELOAD=$order" "$want" "$(cat "$WORK/early.out")"
done
echo "ok: hooks work from other libraries' constructors, in either order"

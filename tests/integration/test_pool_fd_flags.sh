#!/usr/bin/env bash
# The flags sockpool follows instead of asking the kernel (O_NONBLOCK,
# FD_CLOEXEC, set by the socket's type, fcntl or ioctl) are what the
# program sees after connect() on a pooled socket: 24 rounds that change
# them every time, read back with fcntl, pooled (nginx accepts).
source "$(dirname "$0")/lib.sh"

nginx_start
before=$(nginx_accepts)
"$BUILD/sockpool" -- "$BUILD/clients/fd_flags_client" "$NGINX_PORT" /index.html 24 ||
	fail "the flags after connect are not the program's"
assert_le "24 rounds: connections (pooled, so the flags were carried)" 2 \
	$(( $(nginx_accepts) - before ))
before=$(nginx_accepts)
"$BUILD/clients/fd_flags_client" "$NGINX_PORT" /index.html 24 || fail "without sockpool"
assert_eq "without sockpool: connections" 24 $(( $(nginx_accepts) - before ))

#!/usr/bin/env bash
# deps.sh: make sure the Debian packages a sockpool task needs are
# installed.  Run by make (once per task, through a stamp in the build
# directory) and usable by hand or in CI (never reads stdin).
#
#   scripts/deps.sh [TASK...]     TASK: build, test, demo, bench;
#                                 none: every task
#
#   build   the library and the tools: a compiler, make, uthash and
#           http-parser, nothing else (`make`, `make install`)
#   test    what `make check` runs: cmocka, clang for the fuzzers, nginx,
#           the real clients of the compatibility tests, man for the
#           man page test
#   demo    nginx and what counts its connections (`make demo`)
#   bench   the demo's, plus the HAProxy sidecar, callgrind, strace, ab
#           and node (bench/per_request.sh), and the plots (`make bench`)
#
#   nothing missing        exit 0, silent
#   missing, root          apt-get update + install, one line saying what
#   missing, not root      print the apt-get command to run, exit 1
#   unknown TASK           exit 2
#
# Installing nginx may start Debian's own nginx service on port 80; that is
# harmless: our tests and demo start private nginx instances on free
# loopback ports and never use port 80.
set -euo pipefail

# gcc only recommends libc6-dev (the headers and crt files), which
# --no-install-recommends would leave out.
build_packages=(gcc libc6-dev make uthash-dev libhttp-parser-dev)
demo_packages=(nginx-light curl python3 iproute2 procps)
test_packages=(clang libcmocka-dev "${demo_packages[@]}" python3-requests
	apache2-utils openssl ruby php-cli php-curl libwww-perl nodejs
	openjdk-17-jdk-headless man-db)
bench_packages=("${demo_packages[@]}" python3-requests haproxy gnuplot-nox valgrind iputils-ping
	strace apache2-utils nodejs)

tasks=("$@")
[ ${#tasks[@]} -gt 0 ] || tasks=(build test demo bench)
# Every task builds first.
packages=("${build_packages[@]}")
for task in "${tasks[@]}"; do
	case $task in
	build) ;;
	test) packages+=("${test_packages[@]}") ;;
	demo) packages+=("${demo_packages[@]}") ;;
	bench) packages+=("${bench_packages[@]}") ;;
	*)
		echo "deps.sh: unknown task '$task' (build, test, demo or bench)" >&2
		exit 2
		;;
	esac
done

missing=()
declare -A seen=()
for pkg in "${packages[@]}"; do
	[ -z "${seen[$pkg]:-}" ] || continue
	seen[$pkg]=1
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing+=("$pkg") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

install_cmd="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "sockpool: missing Debian packages (to ${tasks[*]}): ${missing[*]}" >&2
	echo "sockpool: run as root: apt-get update && $install_cmd" >&2
	exit 1
fi

echo "sockpool: installing missing Debian packages (to ${tasks[*]}): ${missing[*]}"
apt-get update -qq < /dev/null > /dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" < /dev/null > /dev/null

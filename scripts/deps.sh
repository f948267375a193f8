#!/usr/bin/env bash
# deps.sh: make sure the Debian packages sockpool needs to build and test are
# installed.  Run by `make` (once, through build/.deps-ok) and usable by hand
# or in CI (never reads stdin).
#
#   nothing missing        exit 0, silent
#   missing, root          apt-get update + install, one line saying what
#   missing, not root      print the apt-get command to run, exit 1
#
# Installing nginx may start Debian's own nginx service on port 80; that is
# harmless: our tests and demo start private nginx instances on free
# loopback ports and never use port 80.
set -euo pipefail

packages=(gcc clang make uthash-dev libcmocka-dev libhttp-parser-dev nginx-light
	curl python3 python3-requests apache2-utils openssl iproute2 iputils-ping procps
	ruby php-cli php-curl libwww-perl nodejs openjdk-17-jdk-headless
	haproxy gnuplot-nox valgrind)

missing=()
for pkg in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case $status in
	*" installed") ;;
	*) missing+=("$pkg") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

install_cmd="DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "sockpool: missing Debian packages: ${missing[*]}" >&2
	echo "sockpool: run as root: apt-get update && $install_cmd" >&2
	exit 1
fi

echo "sockpool: installing missing Debian packages: ${missing[*]}"
apt-get update -qq < /dev/null > /dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	"${missing[@]}" < /dev/null > /dev/null

#!/usr/bin/env bash
# dlopen() under the shim: a library loaded with RTLD_DEEPBIND (as PHP
# loads its extensions) has its socket calls pooled by default, and with
# SOCKPOOL_DROP_DEEPBIND=0 bypasses sockpool with one info line saying so;
# either way, a bare library name is still found through the calling
# program's RUNPATH ($ORIGIN), which dlopen() judges by its caller, so the
# hook must not stand in as that caller.
source "$(dirname "$0")/lib.sh"

nginx_start
mkdir -p "$WORK/bin/plugins"
# The plugin: n GETs, a new connection each, as a naive client makes them.
cat > "$WORK/plugin.c" <<'C'
#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int plugin_get(int port, int n)
{
	static const char req[] = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
	for (int i = 0; i < n; i++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
		char buf[4096];
		int fd = socket(AF_INET, SOCK_STREAM, 0);

		inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
		if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		    send(fd, req, sizeof(req) - 1, 0) != sizeof(req) - 1 ||
		    recv(fd, buf, sizeof(buf), 0) <= 0 || memcmp(buf, "HTTP/1.1 200", 12) != 0)
			return -1;
		close(fd);
	}
	return 0;
}
C
# The program: loads the plugin by the name given (a bare name is found
# only through its own RUNPATH) with the flags given, and runs it.
cat > "$WORK/host.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	int mode = RTLD_NOW | (strcmp(argv[1], "deepbind") == 0 ? RTLD_DEEPBIND : 0);
	void *lib = dlopen(argv[4], mode);
	int (*get)(int, int);

	if (lib == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	*(void **)&get = dlsym(lib, "plugin_get");
	return get == NULL || get(atoi(argv[2]), atoi(argv[3])) != 0;
}
C
cc -shared -fPIC -o "$WORK/bin/plugins/libplugin.so" "$WORK/plugin.c" || fail "cc plugin"
cc -o "$WORK/bin/host" "$WORK/host.c" -ldl -Wl,--enable-new-dtags,-rpath,'$ORIGIN/plugins' ||
	fail "cc host"

run_host() {	# expected connections, description, mode, env...
	local want=$1 what=$2 mode=$3 before
	shift 3
	before=$(nginx_accepts)
	env "$@" LD_PRELOAD="$SHIM_PRELOAD" "$WORK/bin/host" "$mode" "$NGINX_PORT" 10 "$plugin" \
		2> "$WORK/err" || fail "$what: the program failed: $(cat "$WORK/err")"
	assert_eq "$what: connections for 10 requests" "$want" $(( $(nginx_accepts) - before ))
}

# A preloaded sanitizer runtime's own dlopen() loses the caller (the
# plugin is not found by its bare name even without sockpool): that pass
# names the plugin by its path.
plugin=libplugin.so
[ -z "$PRELOAD_FIRST" ] || plugin=$WORK/bin/plugins/libplugin.so
run_host 1 "plain dlopen of $plugin" plain
run_host 10 "the witness: SOCKPOOL_DISABLE=1" plain SOCKPOOL_DISABLE=1
# A sanitizer runtime refuses RTLD_DEEPBIND itself, before our hook.
if [ -z "$PRELOAD_FIRST" ]; then
	run_host 1 "RTLD_DEEPBIND dropped (the default)" deepbind SOCKPOOL_LOG=info
	assert_eq "info lines saying RTLD_DEEPBIND was dropped" 1 \
		"$(count_lines 'info: dlopen.libplugin\.so.: RTLD_DEEPBIND dropped' "$WORK/err")"
	run_host 10 "RTLD_DEEPBIND kept (SOCKPOOL_DROP_DEEPBIND=0)" deepbind \
		SOCKPOOL_DROP_DEEPBIND=0 SOCKPOOL_LOG=info
	cat "$WORK/err"
	assert_eq "info lines saying RTLD_DEEPBIND was kept" 1 \
		"$(count_lines 'info: dlopen.libplugin\.so. with RTLD_DEEPBIND, kept' "$WORK/err")"
	run_host 10 "RTLD_DEEPBIND with sockpool off" deepbind SOCKPOOL_DISABLE=1
fi
echo "ok: dlopen finds what the program's RUNPATH names, and RTLD_DEEPBIND libraries are pooled unless kept"

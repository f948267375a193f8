# shellcheck shell=bash
# bench/sidecars.sh: the pooling proxies sockpool is compared with, as a
# user would deploy them next to a connect-per-request program.  Sourced
# by bench/run.sh after tests/integration/lib.sh; not executable alone.
#
#   haproxy_start ORIGIN_PORT    HAProxy on 127.0.0.1:$HAPROXY_PORT, HTTP
#                                mode, `http-reuse always` to the origin
#                                nginx on 127.0.0.1:ORIGIN_PORT
#   haproxy_stop
#   nginx_sidecar_start ORIGIN_PORT
#                                a second nginx on 127.0.0.1:$SIDECAR_PORT
#                                proxying to the origin over an upstream
#                                `keepalive` pool (HTTP/1.1, Connection "")
#   nginx_sidecar_stop
#
# Both run one worker (nbthread 1, worker_processes 1), like the origin
# nginx: on this 2-CPU machine the client, the sidecar and the origin
# already share two CPUs.  Neither logs requests.  Neither is asked
# anything through its listening port before the run: every connection
# the origin accepts is one the sidecar opened for the client's requests.

# Whether something listens on 127.0.0.1:PORT.
port_listening() {	# port
	[ -n "$(ss -Hltn "sport = :$1")" ]
}

haproxy_start() {	# origin port
	local dir=$WORK/haproxy.$RANDOM
	mkdir -p "$dir"
	HAPROXY_PORT=$(free_port)
	cat > "$dir/haproxy.cfg" <<EOF
# Written by bench/sidecars.sh for one benchmark run.
global
	nbthread 1
	maxconn 8192
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	timeout http-keep-alive 30s
	http-reuse always
frontend clients
	bind 127.0.0.1:$HAPROXY_PORT
	default_backend origin
backend origin
	server nginx 127.0.0.1:$1
EOF
	haproxy -f "$dir/haproxy.cfg" -db > "$dir/haproxy.log" 2>&1 &
	HAPROXY_PID=$!
	bg_track "$HAPROXY_PID"
	export HAPROXY_DIR=$dir
	wait_for "haproxy on port $HAPROXY_PORT" port_listening "$HAPROXY_PORT"
}

haproxy_stop() {
	kill "$HAPROXY_PID" 2> /dev/null || true
	bg_wait "$HAPROXY_PID" || true
}

# nginx_start makes the sidecar (it is an nginx like the origin); the
# library's "current nginx" is then switched back to the origin, whose
# counters the benchmark reads.
nginx_sidecar_start() {	# origin port
	local origin_dir=$NGINX_DIR origin_port=$NGINX_PORT origin_port6=$NGINX_PORT6
	nginx_start "upstream origin { server 127.0.0.1:$1; keepalive 64;
			keepalive_requests 1000000; keepalive_timeout 60s; }
		keepalive_requests 100000;" \
		"location / { proxy_pass http://origin; proxy_http_version 1.1;
			proxy_set_header Connection \"\"; }"
	export SIDECAR_DIR=$NGINX_DIR SIDECAR_PORT=$NGINX_PORT
	NGINX_DIR=$origin_dir NGINX_PORT=$origin_port NGINX_PORT6=$origin_port6
}

nginx_sidecar_stop() {
	local origin_dir=$NGINX_DIR
	NGINX_DIR=$SIDECAR_DIR
	nginx_stop
	NGINX_DIR=$origin_dir
}

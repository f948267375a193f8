#!/usr/bin/env bash
# An epoll client with non-blocking sockets (clients/epoll_client.py):
# epoll registrations belong to the socket, not the fd number, so sockpool
# must take them off a socket it parks and put them on a socket it moves
# under the program's fd.  Registered before connect, the pooled socket
# must still wake the loop; after close, the parked socket (which the
# server closes after 100 ms idle) must never wake it.
source "$(dirname "$0")/lib.sh"

fault_server_start epoll --idle-close-ms 100
run() {
	"$BUILD/sockpool" -- /usr/bin/python3 "$LIB_DIR/clients/epoll_client.py" \
		"$FAULT_PORT" /r 20
}
before=$(count_lines '^ACCEPT ' "$FAULT_LOG")
run
conns=$(( $(count_lines '^ACCEPT ' "$FAULT_LOG") - before ))
echo "20 rounds used $conns connections"
assert_le "connections for 20 epoll rounds (pooled)" 2 "$conns"
fault_server_check
echo "ok: epoll registrations follow the socket under the fd"

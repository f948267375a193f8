/*
 * broker.h: the parts of sockpool-broker, the process that holds idle
 * sockets for many processes of one user (one pool for many processes:
 * see README "Sharing a pool between processes").
 *
 *   broker_main.c   options, the private directory, the lock against a
 *                   second broker, the listening socket, daemon start
 *   broker_loop.c   the epoll loop: clients (checked with SO_PEERCRED),
 *                   their messages (broker_proto.h), held sockets, idle
 *                   exit
 *   broker_store.c  the held sockets (broker_store.h)
 */
#ifndef SOCKPOOL_BROKER_H
#define SOCKPOOL_BROKER_H

#include <stdbool.h>
#include <stdint.h>

struct broker_options {
	const char *socket_path;
	unsigned persist_ms;	/* exit after this long unused; 0: never */
	unsigned idle_timeout_ms;	/* longest a socket stays held */
	unsigned max_per_dest;
	unsigned max_total;
	int ready_fd;		/* written to and closed once serving; -1 */
	bool exit_with_parent;
	bool daemon;
	bool verbose;
};

/* Serves on listening socket listen_fd until told to stop (SIGTERM,
 * SIGINT, SIGHUP) or, with persist_ms, unused for that long.  The exit
 * status. */
int broker_serve(const struct broker_options *opt, int listen_fd);

uint64_t broker_now_ms(void);

#endif

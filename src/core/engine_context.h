/*
 * engine_context.h: what the engine's parts are given to work with.
 *
 * engine.c makes the process's one context at start-up (the pool, the
 * configuration, the clock, where private fds go, how a socket is put
 * under a program's fd) and hands it to the parts that act on a
 * connection: retry.c (recovery), rewrite.c (the Connection: close
 * rewrite) and park.c (parking).  None of them reaches back into
 * engine.c, so the engine's files depend one way, and a test can give
 * them a context of its own.
 */
#ifndef SOCKPOOL_CORE_ENGINE_CONTEXT_H
#define SOCKPOOL_CORE_ENGINE_CONTEXT_H

#include <stdint.h>

struct config;
struct conn;
struct pool;

struct engine_context {
	struct pool *pool;
	const struct config *cfg;
	/* The engine's clock (CLOCK_MONOTONIC, ms). */
	uint64_t (*now_ms)(void);
	/* Where private fds go now (fd_budget.h): it follows the fd limit. */
	int (*private_fd_floor)(void);
	/* Puts socket s under the program's fd (conn_move_socket_onto). */
	int (*move_socket_onto)(int s, int fd, struct conn *c);
};

#endif

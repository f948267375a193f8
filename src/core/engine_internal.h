/*
 * engine_internal.h: what engine.c shares with the other parts of the
 * engine (retry.c), and no one else.
 */
#ifndef SOCKPOOL_CORE_ENGINE_INTERNAL_H
#define SOCKPOOL_CORE_ENGINE_INTERNAL_H

#include <stdint.h>

#include "pool.h"

/* The process's pool of idle connections. */
struct pool *engine_pool(void);

struct conn;

/* Puts socket s under the program's fd (keeping its FD_CLOEXEC), in the
 * epoll sets the program put fd in; the socket that was under fd is
 * closed by that.  s is closed either way.  0, or -1.  Caller holds
 * c->lock. */
int engine_move_socket_onto(int s, int fd, const struct conn *c);

/* Sizes the private fds to the soft RLIMIT_NOFILE as it is now
 * (fd_budget.h); returns the idle sockets the pool may keep. */
unsigned engine_follow_fd_limit(void);

/* The highest fd that ever had a conn. */
int engine_fd_high_water(void);

/* The engine's clock (CLOCK_MONOTONIC, ms). */
uint64_t engine_now_ms(void);

#endif

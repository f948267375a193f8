/*
 * park.h: putting a connection in the pool, the one way it is done.
 *
 * A connection is parked as a private duplicate of its socket (a high fd,
 * close-on-exec, where the program does not look: fd_budget.h) handed to
 * the pool with what the pool keeps beside it (its identity, its option
 * notes and digest, its statistics record), and the retry budget told of
 * the requests it carried.  Two moments lead here:
 *  - the program's close() of a connection at a clean boundary
 *    (park_at_close; the caller then closes the program's fd);
 *  - the end of an exchange sockpool rewrote to keep the connection
 *    (park_end_rewritten): the program asked the server to close, so
 *    its fd must read end-of-file next, from a socket put in the
 *    connection's place (rewrite.h says what is promised, and where that
 *    cannot be, what is done instead).
 * Bytes or an end-of-file that arrive after the response are not looked
 * for here: checkout's liveness test finds them, as it must anyway for
 * what arrives while a socket waits in the pool.
 */
#ifndef SOCKPOOL_CORE_PARK_H
#define SOCKPOOL_CORE_PARK_H

#include "conn.h"
#include "engine_context.h"

/* The program closes fd, c's socket: parks a private copy of it if c may
 * be pooled; otherwise tells the budget of its requests and says why not.
 * The caller closes fd either way.  Caller holds c->lock; keeps errno. */
void park_at_close(const struct engine_context *ctx, struct conn *c, int fd);

/* After a receive on fd: when ref's exchange was rewritten and its
 * response is complete, ends it (the connection parked, end-of-file for
 * the program, which no longer has a conn on fd).  Keeps errno. */
void park_end_rewritten(const struct engine_context *ctx, int fd, struct conn_ref ref);

#endif

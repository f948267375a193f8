/*
 * broker_client.h: the engine's side of the shared pool (one pool for
 * many processes; the broker is src/broker/, the wire format
 * src/broker/broker_proto.h).
 *
 * With SOCKPOOL_BROKER=PATH, a process whose own pool has no idle socket
 * for a destination asks the broker for one, and gives the broker the
 * idle sockets it would otherwise close: those its pool has no room for,
 * and all of them when it exits.  Sockets are given, not lent.
 *
 * Never worse than no broker:
 *  - Every call is bounded: a give never waits (no reply; a full queue
 *    means the socket is closed as it would have been), a take waits at
 *    most BROKER_CLIENT_ANSWER_MS for the answer.  A broker that is not
 *    there, does not answer in time, is not of our user, or closes on us
 *    is left alone for BROKER_CLIENT_PAUSE_MS, said in one line once per
 *    process; the process goes on with its own pool.
 *  - A socket that carried an Authorization header (NTLM and Negotiate
 *    authenticate the connection: CONN_NOTE_CONN_AUTH) is never given.
 *  - Nothing in a vfork child, and a fork child forgets the parent's
 *    connection to the broker (broker_client_after_fork_child).
 *
 * Lock: broker_lock, a leaf taken under pool.lock (a give when the pool
 * overflows) or alone; held across a take's bounded wait.
 */
#ifndef SOCKPOOL_CORE_BROKER_CLIENT_H
#define SOCKPOOL_CORE_BROKER_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "dest.h"
#include "pool.h"

#define BROKER_CLIENT_ANSWER_MS 250
#define BROKER_CLIENT_PAUSE_MS 2000

/* Reads SOCKPOOL_BROKER (an absolute path shorter than 108 bytes); a bad
 * one is said in one line and sharing is off. */
void broker_client_start(config_getenv_fn getenv_fn);

/* Whether SOCKPOOL_BROKER names a broker to use. */
bool broker_client_enabled(void);

/* An idle socket for key from the broker: *out filled as pool_checkout
 * would (fd, identity, notes, digest, idle since, statistics record);
 * its fd, or -1.  Keeps errno. */
int broker_client_take(const struct dest_key *key, struct pool_socket *out);

/* Gives s.fd, idle since idle_since_ms and to be kept until expires_ms
 * (the engine's clock), to the broker; s.fd is closed here either way.
 * Whether the broker has it.  Keeps errno. */
bool broker_client_give(const struct dest_key *key, struct pool_socket s,
			uint64_t idle_since_ms, uint64_t expires_ms);

/* In a child after fork(): the parent's connection and lock are not ours. */
void broker_client_after_fork_child(void);

#endif

/*
 * backoff.h: how long to wait before the next attempt of a failed connect
 * or replay.
 *
 * Exponential with "equal jitter": attempt n (0 for the first retry) waits
 * a random time in [cap/2, cap], cap = min(max_ms, base_ms * 2^n).  Full
 * jitter ([0, cap], AWS architecture blog) spreads clients best but may
 * wait almost nothing on every attempt; keeping half of the cap makes the
 * total wait predictable from below: with the defaults (10 ms, 250 ms, 8
 * retries) at least 530 ms pass before the last attempt, so a server that
 * refuses connections for 250 ms while it restarts costs no errors, and at
 * most 1060 ms, well inside the 2 s deadline.
 *
 * Pure functions: the caller supplies the random value, so that tests can.
 */
#ifndef SOCKPOOL_CORE_BACKOFF_H
#define SOCKPOOL_CORE_BACKOFF_H

#include <stdint.h>

/* The delay before retry `attempt` (0-based), given a uniform random value. */
uint32_t backoff_delay_ms(uint32_t base_ms, uint32_t max_ms, unsigned attempt,
			  uint64_t random);

/* The largest cap any attempt reaches: min(max_ms, base_ms * 2^attempt). */
uint32_t backoff_cap_ms(uint32_t base_ms, uint32_t max_ms, unsigned attempt);

#endif

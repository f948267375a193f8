/*
 * budget.h: the retry budget of one destination.
 *
 * Retries (connect retries and replays alike) may add at most a share of
 * the recent requests to a destination, plus a small floor so that a
 * quiet destination can still retry at all: Envoy's retry budget.  A
 * server that fails everything then sees about (1 + percent/100) times the
 * program's requests instead of (1 + retries) times, and the program gets
 * its errors at once instead of after every backoff.
 *
 * "Recent" is a sliding window of two buckets of BUDGET_WINDOW_MS: the
 * current one and the one before.  The caller serializes access (the pool
 * keeps one budget per destination under its lock).
 */
#ifndef SOCKPOOL_CORE_BUDGET_H
#define SOCKPOOL_CORE_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#define BUDGET_WINDOW_MS 10000u
/* Retries always allowed per window: enough for one connect to use all
 * its default retries (8) against a server that is restarting, even when
 * the program has made no request there yet. */
#define BUDGET_FLOOR 10u

struct retry_budget {
	uint64_t bucket_start_ms;
	uint32_t requests[2];	/* [0] current bucket, [1] the one before */
	uint32_t retries[2];
};

void budget_init(struct retry_budget *b, uint64_t now_ms);

/* The program made n more requests to this destination. */
void budget_note_requests(struct retry_budget *b, uint64_t now_ms, uint32_t n);

/* Takes one retry if the budget allows it now; false means give up. */
bool budget_take_retry(struct retry_budget *b, uint64_t now_ms, unsigned percent);

#endif

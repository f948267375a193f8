/*
 * budget.c: the per-destination retry budget (see budget.h).
 */
#include "budget.h"

#include <string.h>

void budget_init(struct retry_budget *b, uint64_t now_ms)
{
	memset(b, 0, sizeof(*b));
	b->bucket_start_ms = now_ms;
}

/* Moves the window forward to now: a bucket older than two windows is
 * forgotten. */
static void budget_advance(struct retry_budget *b, uint64_t now_ms)
{
	if (now_ms < b->bucket_start_ms + BUDGET_WINDOW_MS)
		return;
	if (now_ms < b->bucket_start_ms + 2 * BUDGET_WINDOW_MS) {
		b->requests[1] = b->requests[0];
		b->retries[1] = b->retries[0];
	} else {
		b->requests[1] = 0;
		b->retries[1] = 0;
	}
	b->requests[0] = 0;
	b->retries[0] = 0;
	b->bucket_start_ms = now_ms;
}

void budget_note_requests(struct retry_budget *b, uint64_t now_ms, uint32_t n)
{
	budget_advance(b, now_ms);
	b->requests[0] += n;
}

bool budget_take_retry(struct retry_budget *b, uint64_t now_ms, unsigned percent)
{
	uint64_t requests, retries;

	budget_advance(b, now_ms);
	requests = (uint64_t)b->requests[0] + b->requests[1];
	retries = (uint64_t)b->retries[0] + b->retries[1];
	if (retries >= BUDGET_FLOOR + requests * percent / 100)
		return false;
	b->retries[0]++;
	return true;
}

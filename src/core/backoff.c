/*
 * backoff.c: jittered exponential backoff (see backoff.h).
 */
#include "backoff.h"

uint32_t backoff_cap_ms(uint32_t base_ms, uint32_t max_ms, unsigned attempt)
{
	uint64_t cap = base_ms;

	/* Doubling stops at max_ms, long before 64 bits could overflow. */
	for (unsigned i = 0; i < attempt && cap < max_ms; i++)
		cap *= 2;
	return cap < max_ms ? (uint32_t)cap : max_ms;
}

uint32_t backoff_delay_ms(uint32_t base_ms, uint32_t max_ms, unsigned attempt,
			  uint64_t random)
{
	uint32_t cap = backoff_cap_ms(base_ms, max_ms, attempt);
	uint32_t half = cap / 2;

	return half + (uint32_t)(random % ((uint64_t)(cap - half) + 1));
}

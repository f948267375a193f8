/*
 * clock.h: the engine's sense of time, CLOCK_MONOTONIC in milliseconds.
 * Modules take a clock function so tests can drive time by hand.
 *
 * The millisecond clock is the coarse one (a tick is 1 to 10 ms): it only
 * times idle ages, deadlines and budget windows, of hundreds of ms and
 * more, and is read several times per request, where the coarse clock
 * costs a fifth of the fine one.
 */
#ifndef SOCKPOOL_CORE_CLOCK_H
#define SOCKPOOL_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef uint64_t (*clock_ms_fn)(void);

static inline uint64_t clock_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The same clock in microseconds, for latency histograms. */
static inline uint64_t clock_monotonic_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif

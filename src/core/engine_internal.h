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

/* The engine's clock (CLOCK_MONOTONIC, ms). */
uint64_t engine_now_ms(void);

#endif

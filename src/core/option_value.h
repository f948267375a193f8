/*
 * option_value.h: one socket option's value as a program set it, the unit
 * in which conns and the pool record the options a socket carries (see
 * "Socket options" in conn.h).
 */
#ifndef SOCKPOOL_CORE_OPTION_VALUE_H
#define SOCKPOOL_CORE_OPTION_VALUE_H

#include <stdint.h>

#define CONN_CARRIED_MAX 20		/* options sockpool carries over */
#define CONN_OPTION_VALUE_MAX 16	/* the largest, struct timeval */

/* A carried option's value, as set on the socket. */
struct conn_option {
	uint8_t len;
	uint8_t value[CONN_OPTION_VALUE_MAX];
};

#endif

/*
 * dest.h: the identity of a TCP destination, the key of the idle pool and
 * of the per-destination statistics.
 *
 * A key is address family, address and port, nothing else: two connect()s
 * to the same key may share connections.  The family is the socket's own
 * (an IPv4-mapped IPv6 address stays AF_INET6), because a pooled socket
 * moved onto the program's fd must be of the family the program created.
 * Keys are compared and hashed as raw bytes, so unused bytes are zero.
 */
#ifndef SOCKPOOL_CORE_DEST_H
#define SOCKPOOL_CORE_DEST_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dest_key {
	uint16_t family;	/* AF_INET or AF_INET6 */
	uint16_t port;		/* host byte order */
	uint32_t scope_id;	/* IPv6 link-local scope, else 0 */
	uint8_t addr[16];	/* IPv4 uses the first 4 bytes */
};

/* Longest text dest_key_format() writes, with its NUL: "[v6%scope]:65535". */
#define DEST_KEY_TEXT_MAX 64

/* Fills *key from a connect() address; -1 when it is not IPv4/IPv6. */
int dest_key_from_sockaddr(struct dest_key *key, const struct sockaddr *sa,
			   socklen_t len);

/* The connect() address for key; its length. */
socklen_t dest_key_to_sockaddr(const struct dest_key *key, struct sockaddr_storage *ss);

/* "127.0.0.1:8080" or "[::1]:8080"; always NUL-terminated. */
void dest_key_format(const struct dest_key *key, char *buf, size_t len);

#endif

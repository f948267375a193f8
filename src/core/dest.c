/*
 * dest.c: building and printing destination keys (see dest.h).
 */
#include "dest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int dest_key_from_sockaddr(struct dest_key *key, const struct sockaddr *sa,
			   socklen_t len)
{
	memset(key, 0, sizeof(*key));
	if (sa == NULL)
		return -1;
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		key->family = AF_INET;
		key->port = ntohs(in->sin_port);
		memcpy(key->addr, &in->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		key->family = AF_INET6;
		key->port = ntohs(in6->sin6_port);
		key->scope_id = in6->sin6_scope_id;
		memcpy(key->addr, &in6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

socklen_t dest_key_to_sockaddr(const struct dest_key *key, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (key->family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons(key->port);
		memcpy(&in->sin_addr, key->addr, 4);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(key->port);
	in6->sin6_scope_id = key->scope_id;
	memcpy(&in6->sin6_addr, key->addr, 16);
	return sizeof(*in6);
}

void dest_key_format(const struct dest_key *key, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN];

	if (len == 0)
		return;
	if (inet_ntop(key->family, key->addr, addr, sizeof(addr)) == NULL) {
		snprintf(buf, len, "?:%u", key->port);
		return;
	}
	if (key->family == AF_INET6 && key->scope_id != 0)
		snprintf(buf, len, "[%s%%%u]:%u", addr, key->scope_id, key->port);
	else if (key->family == AF_INET6)
		snprintf(buf, len, "[%s]:%u", addr, key->port);
	else
		snprintf(buf, len, "%s:%u", addr, key->port);
}

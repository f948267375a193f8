/*
 * broker_proto.h: the one contract between the shared-pool broker
 * (src/broker/) and its clients (src/core/broker_client.c).
 *
 * A client opens an AF_UNIX SOCK_SEQPACKET connection to the broker's
 * socket and sends fixed-size messages, one per packet:
 *   BROKER_GIVE   with one socket attached (SCM_RIGHTS): the broker now
 *                 owns it.  No reply, so a give never waits.
 *   BROKER_TAKE   no socket: the broker answers with one message, status
 *                 BROKER_OK with a socket attached, or BROKER_NONE.
 * Messages of either side are checked for size and magic; anything else
 * ends the connection.  Sockets are given, not lent: whoever holds one
 * owns it, and a process that dies holding one costs nothing.
 *
 * The broker decides the network namespace of a key itself (from the
 * peer's pid, SO_PEERCRED) and checks the destination of every socket it
 * is given against the socket's own peer address: a client cannot file a
 * socket under a key it does not connect to.
 */
#ifndef SOCKPOOL_BROKER_PROTO_H
#define SOCKPOOL_BROKER_PROTO_H

#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include "../core/dest.h"

#define BROKER_MAGIC 0x31425053u	/* "SPB1" little-endian */

enum broker_op { BROKER_GIVE = 1, BROKER_TAKE = 2, BROKER_REPLY = 3 };
enum broker_status { BROKER_OK = 0, BROKER_NONE = 1 };

struct broker_msg {
	uint32_t magic;
	uint32_t op;		/* enum broker_op */
	struct dest_key key;
	uint32_t status;	/* replies: enum broker_status */
	uint32_t notes;		/* the pool's notes on the socket (conn.h) */
	uint64_t digest;	/* the options digest beside them */
	uint32_t idle_age_ms;	/* how long it has been idle already */
	uint32_t keep_ms;	/* how much longer it may stay idle */
};

/* Room for one descriptor passed with a message (SCM_RIGHTS). */
union broker_control {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

/* Makes msg carry fd (SCM_RIGHTS) in control. */
static inline void broker_attach_fd(struct msghdr *msg, union broker_control *control, int fd)
{
	struct cmsghdr *cm;

	memset(control, 0, sizeof(*control));
	msg->msg_control = control->buf;
	msg->msg_controllen = sizeof(control->buf);
	cm = CMSG_FIRSTHDR(msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
}

/* The longest socket path an AF_UNIX address holds, NUL included. */
#define BROKER_PATH_MAX 108

#endif

/*
 * io_call.h: one of the program's data calls on a managed socket, as a
 * value, so that the engine can make it, look at its outcome, and make it
 * again on another connection when the first one failed (retry.c).
 */
#ifndef SOCKPOOL_CORE_IO_CALL_H
#define SOCKPOOL_CORE_IO_CALL_H

#include <stdbool.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "conn.h"

enum io_kind {
	IO_READ, IO_READV, IO_RECV, IO_RECVFROM, IO_RECVMSG,	/* receiving */
	IO_WRITE, IO_WRITEV, IO_SEND, IO_SENDTO, IO_SENDMSG,	/* sending */
};

struct io_call {
	enum io_kind kind;
	int fd;
	void *buf;			/* read, recv*, write, send*: the bytes */
	size_t len;
	const struct iovec *iov;	/* readv, writev */
	int iovcnt;
	struct msghdr *msg;		/* recvmsg, sendmsg */
	int flags;			/* the program's flags */
	const struct sockaddr *to;	/* sendto */
	socklen_t tolen;
	struct sockaddr *from;		/* recvfrom */
	socklen_t *fromlen;
};

static inline bool io_call_sends(const struct io_call *call)
{
	return call->kind >= IO_WRITE;
}

/* Makes the call with the real function.  Sends get MSG_NOSIGNAL: a
 * broken pipe must not kill the program before sockpool has decided
 * whether to hand it the error (retry.c raises SIGPIPE itself then). */
ssize_t io_call_make(const struct io_call *call);

/* Makes the call exactly as the program asked it (no MSG_NOSIGNAL): for
 * a call the engine does not follow after all. */
ssize_t io_call_pass(const struct io_call *call);

/* Tells ref's conn what the call moved (conn_note_*). */
void io_call_note(struct conn_ref ref, const struct io_call *call, ssize_t result);

#endif

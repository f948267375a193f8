/*
 * io_call.c: making and recording a program's data call (see io_call.h).
 */
#include "io_call.h"

#include <unistd.h>

#include "sys.h"

/* Flags that make bytes invisible to the tracker: the conversation can no
 * longer be followed.  MSG_PEEK is only a look and is not recorded. */
#define RECV_INVISIBLE (MSG_TRUNC | MSG_OOB)

ssize_t io_call_make(const struct io_call *c)
{
	switch (c->kind) {
	case IO_READ:
		return sys.read(c->fd, c->buf, c->len);
	case IO_READV:
		return sys.readv(c->fd, c->iov, c->iovcnt);
	case IO_RECV:
		return sys.recv(c->fd, c->buf, c->len, c->flags);
	case IO_RECVFROM:
		return sys.recvfrom(c->fd, c->buf, c->len, c->flags, c->from, c->fromlen);
	case IO_RECVMSG:
		return sys.recvmsg(c->fd, c->msg, c->flags);
	case IO_WRITE:
		return sys.send(c->fd, c->buf, c->len, MSG_NOSIGNAL);
	case IO_WRITEV: {
		struct msghdr m = { .msg_iov = (struct iovec *)c->iov,
				    .msg_iovlen = (size_t)c->iovcnt };

		return sys.sendmsg(c->fd, &m, MSG_NOSIGNAL);
	}
	case IO_SEND:
		return sys.send(c->fd, c->buf, c->len, c->flags | MSG_NOSIGNAL);
	case IO_SENDTO:
		return sys.sendto(c->fd, c->buf, c->len, c->flags | MSG_NOSIGNAL, c->to, c->tolen);
	case IO_SENDMSG:
		return sys.sendmsg(c->fd, c->msg, c->flags | MSG_NOSIGNAL);
	}
	return -1;
}

ssize_t io_call_pass(const struct io_call *c)
{
	switch (c->kind) {
	case IO_READ:
	case IO_READV:
	case IO_RECV:
	case IO_RECVFROM:
	case IO_RECVMSG:
		return io_call_make(c);		/* receives are made as asked */
	case IO_WRITE:
		return sys.write(c->fd, c->buf, c->len);
	case IO_WRITEV:
		return sys.writev(c->fd, c->iov, c->iovcnt);
	case IO_SEND:
		return sys.send(c->fd, c->buf, c->len, c->flags);
	case IO_SENDTO:
		return sys.sendto(c->fd, c->buf, c->len, c->flags, c->to, c->tolen);
	case IO_SENDMSG:
		return sys.sendmsg(c->fd, c->msg, c->flags);
	}
	return -1;
}

void io_call_note(struct conn_ref ref, const struct io_call *c, ssize_t result)
{
	switch (c->kind) {
	case IO_READ:
		conn_note_received(ref, c->buf, result);
		return;
	case IO_READV:
		conn_note_received_iov(ref, c->iov, c->iovcnt, result);
		return;
	case IO_RECV:
	case IO_RECVFROM:
	case IO_RECVMSG:
		if (c->flags & RECV_INVISIBLE)
			conn_note_broken(ref);
		else if (c->flags & MSG_PEEK)
			return;
		else if (c->kind == IO_RECVMSG)
			conn_note_received_iov(ref, c->msg->msg_iov, (int)c->msg->msg_iovlen, result);
		else
			conn_note_received(ref, c->buf, result);
		return;
	case IO_WRITE:
		conn_note_sent(ref, c->buf, result);
		return;
	case IO_WRITEV:
		conn_note_sent_iov(ref, c->iov, c->iovcnt, result);
		return;
	case IO_SEND:
	case IO_SENDTO:
	case IO_SENDMSG:
		if (c->flags & MSG_OOB)
			conn_note_broken(ref);
		else if (c->kind == IO_SENDMSG)
			conn_note_sent_iov(ref, c->msg->msg_iov, (int)c->msg->msg_iovlen, result);
		else
			conn_note_sent(ref, c->buf, result);
		return;
	}
}

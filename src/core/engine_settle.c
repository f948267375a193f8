/*
 * engine_settle.c: the hooks' way to keep a speculative socket unseen
 * (speculate.h).  Before any call that a fresh unconnected socket would
 * answer differently from the pooled one under the fd, the fd is given a
 * socket of the program's own; the program's setsockopt of an option
 * sockpool carries is the one use that leaves the guess standing.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/select.h>

#include "conn.h"
#include "engine.h"
#include "engine_process.h"
#include "fdtab.h"
#include "speculate.h"
#include "sys.h"
#include "vfork_gate.h"

static bool speculative(const struct conn *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_RELAXED) == CONN_SPECULATIVE;
}

/* Settles fd's conn if it is still speculative.  give_back: see
 * speculate_settle. */
static void settle(int fd, bool give_back)
{
	struct conn_ref ref = conn_ref_of_fd(fd);

	if (ref.conn == NULL || !speculative(ref.conn) || !conn_ref_lock(ref))
		return;
	if (ref.conn->state == CONN_SPECULATIVE)
		speculate_settle(engine_context(), ref.conn, fd, give_back);
	pthread_mutex_unlock(&ref.conn->lock);
}

void engine_settle(int fd)
{
	struct conn *c = fdtab_get(fd);

	/* A vfork child never finds one: the parent settled them all first. */
	if (c != NULL && speculative(c) && !engine_in_vfork_child())
		settle(fd, true);
}

void engine_settle_all(bool give_back)
{
	int high = engine_fd_high_water();

	if (speculate_outstanding() == 0)
		return;
	for (int fd = 0; fd <= high; fd++) {
		struct conn *c = fdtab_get(fd);

		if (c != NULL && speculative(c))
			settle(fd, give_back);
	}
}

int engine_setsockopt(int fd, int level, int name, const void *value, socklen_t len)
{
	struct conn_ref ref = conn_ref_of_fd(fd);
	bool done = false;
	int rc = 0;

	if (ref.conn == NULL || engine_in_vfork_child() ||
	    __atomic_load_n(&ref.conn->state, __ATOMIC_RELAXED) == CONN_CANDIDATE ||
	    !conn_ref_lock(ref))
		goto make_it;
	if (ref.conn->state == CONN_MANAGED) {
		/* A connected socket's record is exact while sockpool follows it
		 * and no other fd holds it (whose calls it does not see): a
		 * value it already has is not set again (the kernel would
		 * change nothing; TCP_CORK, whose push a TCP_NODELAY may force,
		 * is not followed). */
		done = !ref.conn->broken && !ref.conn->shared &&
		       conn_option_already_set(ref.conn, level, name, value, len);
	} else if (ref.conn->state == CONN_SPECULATIVE) {
		done = conn_speculative_option(ref.conn, fd, level, name, value, len, &rc);
		if (!done)
			speculate_settle(engine_context(), ref.conn, fd, true);
	}
	pthread_mutex_unlock(&ref.conn->lock);
	if (done)
		return rc;
make_it:
	rc = sys.setsockopt(fd, level, name, value, len);
	if (rc == 0)
		engine_note_option_set(fd, level, name, value, len);
	return rc;
}

bool engine_speculative_flags(int fd, int cmd, uintptr_t arg, int *result)
{
	struct conn_ref ref = conn_ref_of_fd(fd);
	bool answered;

	if (ref.conn == NULL || !speculative(ref.conn) || engine_in_vfork_child() ||
	    !conn_ref_lock(ref))
		return false;
	answered = ref.conn->state == CONN_SPECULATIVE && ref.conn->nonblock >= 0;
	if (answered && cmd == F_GETFL) {
		/* What a socket's file shows: read-write, and O_NONBLOCK if set. */
		*result = O_RDWR | (ref.conn->nonblock ? O_NONBLOCK : 0);
	} else if (answered) {
		ref.conn->nonblock = (arg & O_NONBLOCK) != 0;
		*result = 0;
	}
	pthread_mutex_unlock(&ref.conn->lock);
	return answered;
}

void engine_settle_polled(const struct pollfd *fds, unsigned long n)
{
	if (speculate_outstanding() == 0)
		return;
	for (unsigned long i = 0; i < n; i++)
		engine_settle(fds[i].fd);
}

void engine_settle_selected(int n, const fd_set *read, const fd_set *write,
			    const fd_set *except)
{
	if (speculate_outstanding() == 0)
		return;
	for (int fd = 0; fd < n && fd < FD_SETSIZE; fd++)
		if ((read != NULL && FD_ISSET(fd, read)) || (write != NULL && FD_ISSET(fd, write)) ||
		    (except != NULL && FD_ISSET(fd, except)))
			engine_settle(fd);
}

void engine_settle_passed(const struct msghdr *msg)
{
	if (speculate_outstanding() == 0 || msg->msg_controllen == 0)
		return;
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL;
	     cm = CMSG_NXTHDR((struct msghdr *)msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			engine_settle(fd);
		}
	}
}

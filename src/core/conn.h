/*
 * conn.h: what the shim knows about one program socket it may manage.
 *
 * A conn is created for every TCP socket the program makes (CANDIDATE) and
 * becomes MANAGED when its connect() goes to a destination we pool: from
 * then on every byte it sends and receives is followed by its HTTP/1.x
 * tracker, and its close() may park it in the pool instead.
 *
 * Lifetime: hooks find a conn through the fd table without a lock, while
 * another thread may close that fd.  So conns are type-stable: they are
 * recycled through a free list, never returned to malloc, and carry a
 * generation number that changes on every release.  A hook remembers
 * (conn, generation) before its system call and records the outcome only
 * if, under the conn's lock, the generation is still the same.
 */
#ifndef SOCKPOOL_CORE_CONN_H
#define SOCKPOOL_CORE_CONN_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "dest.h"
#include "http1.h"
#include "option_value.h"
#include "pool.h"
#include "response_close.h"

struct sp_stats_dest;
struct epoll_event;

/* SPECULATIVE: socket() handed out a pooled socket, not yet connected
 * (speculate.h); it becomes MANAGED at a connect() to its destination, or
 * a CANDIDATE on a new socket of its own. */
enum conn_state { CONN_CANDIDATE, CONN_SPECULATIVE, CONN_MANAGED };

#define CONN_EPOLL_MAX 4	/* epoll sets one socket may be in, followed */

/* An epoll registration the program made for the conn's fd. */
struct conn_epoll {
	int epfd;
	uint32_t events;
	uint64_t data;
};

/* A socket option the program set that sockpool cannot carry (see
 * below): the first such one makes the socket unpoolable, and is named to
 * the user (option_report.h). */
struct conn_refused_option {
	bool set;
	int level, name;
};

struct conn {
	pthread_mutex_t lock;
	uint64_t generation;
	struct conn *next_free;

	enum conn_state state;
	int fd;			/* the program's descriptor for the socket */
	/* fd's O_NONBLOCK and FD_CLOEXEC as the hooks saw them set (the
	 * socket's type, fcntl, ioctl), so that a checkout and a park need
	 * not ask the kernel: 1, 0, or -1 when they may have changed unseen
	 * (then the kernel is asked).  conn_fd_nonblocking, conn_fd_cloexec. */
	int8_t nonblock;
	int8_t cloexec;
	/* A private duplicate (a high close-on-exec fd) of the socket under
	 * fd, kept from its checkout for its whole life, -1 when there is
	 * none: parking it again takes no system call, and a checkout closes
	 * nothing.  Dropped (closed) whenever another socket takes fd's place
	 * or the socket is not parked. */
	int shadow;
	/* SPECULATIVE: the pooled socket under fd, as the pool gave it (its
	 * .fd is the shadow), with what is known of it: options and their
	 * values, O_NONBLOCK, when it was parked.  dest is its destination. */
	struct pool_socket spec;
	uint64_t spec_since_ms;	/* when socket() handed it out */
	bool reused;		/* handed out by the pool */
	bool liveness_unchecked;	/* reused without the pool's look at it */
	bool shared;		/* another fd refers to this socket (dup) */
	bool broken;		/* error, shutdown or a call we cannot follow */
	bool conn_bound_auth;	/* an earlier life carried Authorization */
	bool in_use_counted;	/* in this process's in_use_now gauge */
	/* The exchange in progress was rewritten to keep the connection
	 * (rewrite.h): the program must read end-of-file after its response,
	 * which the engine gives it (park_end_rewritten), or the server
	 * does when sockpool steps back (conn_note_broken, conn_note_shared). */
	bool rewritten;
	bool shut_after_request;	/* step back once the request is out */
	struct response_close response_close;	/* its response's head */
	uint32_t options_set;	/* carried options set on this socket, see below */
	struct conn_option options[CONN_CARRIED_MAX];	/* their values */
	struct conn_refused_option refused_option;	/* the first, if any */
	/* epoll registrations belong to the socket, not the fd number: the
	 * engine takes them off a socket it parks and puts them on a socket
	 * it moves under the fd (conn_epoll_*). */
	struct conn_epoll epolls[CONN_EPOLL_MAX];
	uint8_t nepolls;
	dev_t dev;		/* the socket's identity for the pool, */
	ino_t inode;		/* 0 until known */
	struct dest_key dest;
	struct sp_stats_dest *stats;
	struct http1_tracker http;

	/* The exchange in progress: from the first byte of a request sent
	 * at a clean boundary until every request sent is answered.  Its
	 * bytes are kept, up to replay_max, to be sent again on a new
	 * connection if this one fails before the first response byte. */
	bool exchange_open;
	bool replay_overflow;	/* some bytes of it were not kept */
	uint8_t *replay;	/* malloc'd, kept across recycling */
	size_t replay_len;
	size_t replay_cap;
	bool request_blind;	/* bytes of it went where no hook saw them */
	uint64_t response_bytes;	/* received during the exchange */
	unsigned attempts;	/* replays of the exchange so far */
	/* A non-blocking connect of the program's not yet seen to succeed:
	 * a connect failure the program learns later (SO_ERROR, connect()
	 * again, a data call) is that connect's, and may be retried. */
	bool connecting;
	uint64_t idle_since_ms;	/* when the socket last fell idle, 0: never */
	uint64_t exchange_idle_ms;	/* how long it had been idle then */
	uint64_t exchange_start_us;	/* for the request-time histogram */
	uint32_t requests_counted;	/* requests_started told to the budget */
};

/* A hook's hold on a conn across one system call. */
struct conn_ref {
	struct conn *conn;
	uint64_t generation;
};

/* A fresh CANDIDATE conn, or NULL when memory is short (the socket is then
 * simply not managed). */
struct conn *conn_acquire(void);

/* Returns c to the free list; holders of an older conn_ref stop seeing it. */
void conn_release(struct conn *c);

/* Takes a conn_ref to fd's conn, or {NULL} when fd is not ours. */
struct conn_ref conn_ref_of_fd(int fd);

/* Locks ref's conn if it is still the same conn; false otherwise. */
bool conn_ref_lock(struct conn_ref ref);

/* Recording the outcome of the program's I/O; each takes the lock and
 * keeps errno.  result is what the system call returned. */
void conn_note_sent(struct conn_ref ref, const void *buf, ssize_t result);
void conn_note_sent_iov(struct conn_ref ref, const struct iovec *iov, int iovcnt,
			ssize_t result);
void conn_note_received(struct conn_ref ref, const void *buf, ssize_t result);
void conn_note_received_iov(struct conn_ref ref, const struct iovec *iov,
			    int iovcnt, ssize_t result);
/* The socket is now used in a way we cannot follow: never pool it.  A
 * rewritten exchange steps back (conn_step_back). */
void conn_note_broken(struct conn_ref ref);
/* Another fd now shares the socket (dup, a child, SCM_RIGHTS): never pool
 * it.  A rewritten exchange steps back: its response may be read where no
 * hook sees it. */
void conn_note_shared(struct conn_ref ref);
/* Bytes went out on the socket where no hook saw them (sendfile, splice,
 * stdio): the exchange can never be sent again nor the connection pooled;
 * the request side is no longer followed, the response side still is. */
void conn_note_unseen_send(struct conn_ref ref);

/* Sockpool loses sight of a rewritten exchange's end (its response may be
 * read out of sight, or it cannot give the end-of-file it promised): the
 * server is made to close after the response, as the program asked, by a
 * half-close once the request is out (at once if it is), and the
 * connection is not pooled.  Caller holds c->lock; keeps errno. */
void conn_step_back(struct conn *c);

/* Whether the final response of c's rewritten exchange has been received
 * in full.  Caller holds c->lock. */
bool conn_rewritten_response_complete(const struct conn *c);

/* Makes the response bytes the program just received (result of them, in
 * buf or across iov) say "close" where the server said keep-alive, if
 * ref's exchange was rewritten (response_close.h).  peek: the bytes stay
 * in the socket and will be read again. */
void conn_echo_close(struct conn_ref ref, void *buf, const struct iovec *iov, int iovcnt,
		     ssize_t result, bool peek);

/* How many bytes of an exchange are kept for replay (SOCKPOOL_REPLAY_MAX_BYTES). */
extern size_t conn_replay_max;

/* The millisecond clock exchanges are timed with (the engine's). */
extern uint64_t (*conn_now_ms)(void);

/* Told (by the engine) when a byte goes through on a conn whose
 * non-blocking connect had not been seen to succeed: its destination has
 * answered.  Called once per such connect, with c->lock held; NULL: no
 * one listens. */
extern void (*conn_connect_succeeded)(struct conn *c);

/* Whether the exchange in progress may be sent again from the start on a
 * new connection: nothing of it was sent yet, or every request in it is
 * idempotent (by method or Idempotency-Key) and all its bytes were kept.
 * Caller holds c->lock. */
bool conn_exchange_replayable(const struct conn *c);

/* Sets on new socket fd every option c's socket carries (a new
 * connection made by sockpool for the program).  Keeps errno. */
void conn_apply_options(const struct conn *c, int fd);

/* The value of a timeout option (SO_SNDTIMEO, SO_RCVTIMEO) the program set
 * on c's socket, in ms; 0 when not set (no timeout). */
uint64_t conn_timeout_ms(const struct conn *c, int name);

/* Why c may not go to the pool, or NULL if it may. Caller holds c->lock. */
const char *conn_unpoolable_reason(const struct conn *c);

/* Whether sockpool may step in on c's connection at all (rewrite a
 * request, replay an exchange, replace or retry its socket): managed,
 * not shared with another fd, followed without a break, and HTTP/1.x so
 * far.  Each rule adds its own conditions.  Caller holds c->lock. */
bool conn_may_step_in(const struct conn *c);

/* The requests begun on c since the retry budget was last told of them
 * (the budget is a share of requests made), marked as told now.  Caller
 * holds c->lock. */
uint32_t conn_take_untold_requests(struct conn *c);

/* The program set fd's O_NONBLOCK and FD_CLOEXEC to these values (1 or
 * 0), or changed one where sockpool cannot be sure (-1: ask the kernel
 * from now on); CONN_FLAG_KEPT leaves one as it was.  Keeps errno. */
#define CONN_FLAG_KEPT (-2)
void conn_note_fd_flags(struct conn_ref ref, int nonblock, int cloexec);

/* Whether c's fd is O_NONBLOCK / FD_CLOEXEC: as recorded, or asked of
 * the kernel when not known (-1 if the kernel cannot say). */
int conn_fd_nonblocking(const struct conn *c, int fd);
int conn_fd_cloexec(const struct conn *c, int fd);

/* Puts socket s under the program's fd (keeping fd's FD_CLOEXEC), in the
 * epoll sets the program put fd in; the socket that was under fd is
 * closed by that, and its shadow.  s is closed either way.  0, or -1.
 * Caller holds c->lock. */
int conn_move_socket_onto(int s, int fd, struct conn *c);

/* The same for a pooled socket s, which becomes c's shadow instead of
 * being closed (it is closed on failure). */
int conn_adopt_socket_onto(int s, int fd, struct conn *c);

/* Closes c's shadow, if it still holds c's socket (the program may have
 * put another file on that number), and forgets it.  Caller holds c->lock;
 * keeps errno. */
void conn_drop_shadow(struct conn *c);

/*
 * Socket options.  A pooled socket moved onto the program's fd must behave
 * like the socket the program made: same timeouts, Nagle, keep-alive,
 * linger, buffer sizes, TOS, mark, and blocking mode.  Copying every option
 * on every checkout costs two dozen system calls per request, so only the
 * options that can differ are set: those the program set on its new socket
 * (conn.options_set, with the values it gave, recorded by
 * conn_note_option_set), and those ever set on the pooled socket in its
 * earlier lives (its "notes", kept by the pool beside the fd), which are
 * reset to the new socket's value.  Any other option still has its default
 * on both.
 *
 * An option sockpool does not know how to carry (TCP_CONGESTION,
 * SO_BINDTODEVICE, TCP_FASTOPEN_CONNECT...) makes the socket unpoolable
 * (conn.refused_option): set before connect, the socket passes through
 * untouched.  Options with no lasting effect on a connected client socket
 * (SO_REUSEADDR, TCP_QUICKACK, IPV6_V6ONLY=0...) are neither carried nor
 * refused.
 */
#define CONN_NOTE_NONBLOCK (1u << 31)	/* the pooled socket is O_NONBLOCK */
/* The socket carried an Authorization header in some earlier life: it
 * stays in this process (broker_client.h). */
#define CONN_NOTE_CONN_AUTH (1u << 30)
#define CONN_NOTE_FLAGS (CONN_NOTE_NONBLOCK | CONN_NOTE_CONN_AUTH)

/* The program set an option on ref's socket (the call succeeded). */
void conn_note_option_set(struct conn_ref ref, int level, int name,
			  const void *value, socklen_t len);

/* What the pool keeps beside fd, c's socket, when it is parked. */
uint32_t conn_socket_notes(const struct conn *c, int fd);

/* The program's setsockopt on speculative c's fd (speculate.h): an option
 * sockpool carries is recorded, and set on the pooled socket only when its
 * value there differs (the pool's record of it is updated); true, with the
 * call's result in *rc and errno as the call left it.  false for any
 * other option: only a socket of the program's own may take it. */
bool conn_speculative_option(struct conn *c, int fd, int level, int name,
			     const void *value, socklen_t len, int *rc);

/* Makes speculative c's pooled socket, fd, as a checkout would: each
 * option it carries that the program did not set goes back to the value
 * a new socket of its family has (as last read from one, at a checkout),
 * and c's record takes them: 1.  0, nothing done, when such a value was
 * never read; -1 when one cannot be set (the socket is then no longer
 * what the pool's record says).  c's record is unchanged but on 1.
 * Caller holds c->lock. */
int conn_speculative_options_reset(struct conn *c, int fd);

/* Whether c's socket is known to carry this option with this very value
 * (c's record of it is exact: MANAGED and followed without a break, or
 * speculative).  Caller holds c->lock. */
bool conn_option_already_set(const struct conn *c, int level, int name, const void *value,
			     socklen_t len);

/* A digest of the options c's socket carries and their values: equal
 * digests (and notes) mean nothing needs setting at checkout. */
uint64_t conn_options_digest(const struct conn *c);

/* Makes pooled socket to_fd, with the given notes and options digest,
 * behave like the program's socket from_fd, and takes over to_fd's option
 * history into c.  Returns from_fd's O_NONBLOCK (the one file status flag
 * carried) or 0, or -1 when it cannot be known.  Keeps errno. */
int conn_copy_socket_state(struct conn *c, int from_fd, int to_fd, uint32_t to_notes,
			   uint64_t to_digest);

/* sockpool sent the request of the exchange rewritten to keep the
 * connection (rewrite.c); the program expects the server to close. */
void conn_note_rewritten(struct conn_ref ref);

/* The program's epoll_ctl(epfd, op, fd, event) on ref's fd succeeded. */
void conn_note_epoll(struct conn_ref ref, int epfd, int op, const struct epoll_event *event);

/* Takes fd out of the program's epoll sets before its socket is parked,
 * as a real close would.  Caller holds c->lock. */
void conn_epoll_detach(const struct conn *c, int fd);

/* Puts the socket now under fd into the program's epoll sets.  Caller
 * holds c->lock. */
void conn_epoll_attach(const struct conn *c, int fd);

/* In a child after fork(): makes the free list's lock anew (its free conns
 * are abandoned), and for a conn the child inherited through its fd table,
 * makes its lock anew, marks it shared with the parent and drops its link
 * to the parent's statistics. */
void conn_reset_after_fork(void);
void conn_adopt_after_fork(struct conn *c);

#endif

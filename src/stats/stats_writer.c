/*
 * stats_writer.c: creates this process's statistics segment and keeps its
 * counters (see stats_layout.h for the layout and the publication rules).
 *
 * Counting is a relaxed atomic add and never locks.  A destination record is
 * found by a lock-free scan of the published records; only claiming a new
 * one takes claim_lock, so two threads cannot claim the same slot.
 *
 * The segment's pages are reserved before it is mapped, so a full file
 * system fails the creation cleanly instead of raising SIGBUS at the
 * first counter.  A segment kept at exit on purpose is made read-only,
 * which tells it from litter (stats_dead.h; the engine sweeps).
 */
#include "stats_writer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/sys.h"

static struct sp_stats_header *segment;
static size_t segment_size;
static char segment_path[PATH_MAX];
static pthread_mutex_t claim_lock = PTHREAD_MUTEX_INITIALIZER;

static struct sp_stats_dest *records(struct sp_stats_header *h)
{
	return (struct sp_stats_dest *)(h + 1);
}

/* Gives the file its size with every page allocated: a file only sized
 * with ftruncate() is sparse, and on a full tmpfs the first store into
 * the mapping would kill the process with SIGBUS. */
static int reserve_pages(int fd, size_t size)
{
	int rc = posix_fallocate(fd, 0, (off_t)size);

	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return 0;
}

int stats_writer_open(const char *dir, const char *program)
{
	struct timespec now;
	size_t size = sizeof(struct sp_stats_header) +
		      SP_STATS_MAX_DESTS * sizeof(struct sp_stats_dest);
	char path[PATH_MAX];
	void *map;
	int fd, n;

	if (segment != NULL)
		return 0;
	n = snprintf(path, sizeof(path), "%s/" SP_STATS_FILE_PREFIX "%u.%d",
		     dir != NULL ? dir : "/dev/shm", (unsigned)getuid(), (int)getpid());
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* O_EXCL|O_NOFOLLOW: never write through a file or link someone
	 * planted under our name.  A leftover from a dead process with our
	 * pid is ours (same uid) and is replaced. */
	fd = sys.openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && unlink(path) == 0)
		fd = sys.openat(AT_FDCWD, path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	/* 0600 whatever the umask: readable by the user's sockpool-stat,
	 * by nobody else. */
	if (fchmod(fd, 0600) != 0 || reserve_pages(fd, size) != 0) {
		int saved = errno;

		sys.close(fd);
		unlink(path);
		errno = saved;
		return -1;
	}
	map = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	sys.close(fd);
	if (map == MAP_FAILED) {
		int saved = errno;

		unlink(path);
		errno = saved;
		return -1;
	}

	struct sp_stats_header *h = map;

	h->version = SP_STATS_VERSION;
	h->header_size = sizeof(*h);
	h->total_size = size;
	h->dest_record_size = sizeof(struct sp_stats_dest);
	h->max_dests = SP_STATS_MAX_DESTS;
	h->pid = (int32_t)getpid();
	clock_gettime(CLOCK_REALTIME, &now);
	h->start_time_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
	snprintf(h->program, sizeof(h->program), "%s", program != NULL ? program : "?");
	/* The magic last: a reader that sees it sees a complete header. */
	__atomic_store_n(&h->magic, SP_STATS_MAGIC, __ATOMIC_RELEASE);

	memcpy(segment_path, path, sizeof(path));
	segment_size = size;
	__atomic_store_n(&segment, h, __ATOMIC_RELEASE);
	return 0;
}

/* In a child just after fork: single-threaded, so unmapping is safe. */
void stats_writer_forget(void)
{
	struct sp_stats_header *h = __atomic_exchange_n(&segment, NULL, __ATOMIC_ACQ_REL);

	if (h != NULL)
		munmap(h, segment_size);
	pthread_mutex_init(&claim_lock, NULL);
}

/* At exit other threads may still be counting: the file goes, the mapping
 * stays until the process is gone, so no thread can touch unmapped memory.
 * A kept segment is made read-only: finished, and not litter to sweep. */
void stats_writer_close(bool keep)
{
	if (__atomic_exchange_n(&segment, NULL, __ATOMIC_ACQ_REL) == NULL)
		return;
	if (keep) {
		(void)chmod(segment_path, 0400);
		return;
	}
	unlink(segment_path);
}

static bool record_matches(const struct sp_stats_dest *r, const struct dest_key *key)
{
	return r->family == key->family && r->port == key->port &&
	       r->scope_id == key->scope_id &&
	       memcmp(r->addr, key->addr, sizeof(r->addr)) == 0;
}

/* n comes from the shared segment, which any process of the user can
 * write: it is bounded by our own constant, never trusted. */
static struct sp_stats_dest *find_published(struct sp_stats_header *h,
					    const struct dest_key *key, uint32_t n)
{
	if (n > SP_STATS_MAX_DESTS)
		n = SP_STATS_MAX_DESTS;
	for (uint32_t i = 0; i < n; i++) {
		struct sp_stats_dest *r = &records(h)[i];

		if (__atomic_load_n(&r->in_use, __ATOMIC_ACQUIRE) && record_matches(r, key))
			return r;
	}
	return NULL;
}

struct sp_stats_dest *stats_writer_dest(const struct dest_key *key)
{
	struct sp_stats_header *h = __atomic_load_n(&segment, __ATOMIC_ACQUIRE);
	struct sp_stats_dest *r;
	uint32_t n;

	if (h == NULL)
		return NULL;
	r = find_published(h, key, __atomic_load_n(&h->ndests, __ATOMIC_ACQUIRE));
	if (r != NULL)
		return r;

	pthread_mutex_lock(&claim_lock);
	n = __atomic_load_n(&h->ndests, __ATOMIC_ACQUIRE);
	r = find_published(h, key, n);
	if (r == NULL && n < SP_STATS_MAX_DESTS) {
		r = &records(h)[n];
		r->family = key->family;
		r->port = key->port;
		r->scope_id = key->scope_id;
		memcpy(r->addr, key->addr, sizeof(r->addr));
		__atomic_store_n(&r->in_use, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&h->ndests, n + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&claim_lock);
	return r;
}

/* Whether d is a record of the segment h maps (see stats_count). */
static bool record_in_segment(struct sp_stats_header *h, struct sp_stats_dest *d)
{
	return d != NULL && (void *)d >= (void *)records(h) &&
	       (void *)(d + 1) <= (void *)((char *)h + segment_size);
}

unsigned stats_bucket_of(uint64_t value_us)
{
	unsigned b = value_us > 1 ? 63u - (unsigned)__builtin_clzll(value_us) : 0;

	return b < SP_HIST_BUCKETS ? b : SP_HIST_BUCKETS - 1;
}

void stats_observe(struct sp_stats_dest *d, enum sp_hist hist, uint64_t value_us)
{
	struct sp_stats_header *h = __atomic_load_n(&segment, __ATOMIC_RELAXED);
	unsigned b = stats_bucket_of(value_us);

	if (h == NULL)
		return;
	if (record_in_segment(h, d))
		__atomic_fetch_add(&d->counters.h[hist][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->global.h[hist][b], 1, __ATOMIC_RELAXED);
}

void stats_count(struct sp_stats_dest *d, enum sp_counter c, int64_t delta)
{
	struct sp_stats_header *h = __atomic_load_n(&segment, __ATOMIC_RELAXED);

	if (h == NULL)
		return;
	/* A record pointer from before a fork's stats_writer_forget() points
	 * into a mapping this process no longer has: only count into records
	 * of the current segment. */
	if (record_in_segment(h, d))
		__atomic_fetch_add(&d->counters.c[c], (uint64_t)delta, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->global.c[c], (uint64_t)delta, __ATOMIC_RELAXED);
}

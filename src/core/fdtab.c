/*
 * fdtab.c: reserving the fd table (see fdtab.h).
 */
#include "fdtab.h"

#include <sys/mman.h>

struct conn **fdtab_slots;
unsigned char *fdtab_private;
size_t fdtab_size;

static void *reserve(size_t bytes)
{
	void *mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return mem == MAP_FAILED ? NULL : mem;
}

int fdtab_init(size_t max_fds)
{
	void *slots = reserve(max_fds * sizeof(struct conn *));
	void *marks = reserve(max_fds);

	if (slots == NULL || marks == NULL) {
		if (slots != NULL)
			munmap(slots, max_fds * sizeof(struct conn *));
		return -1;
	}
	fdtab_slots = slots;
	fdtab_private = marks;
	__atomic_store_n(&fdtab_size, max_fds, __ATOMIC_RELEASE);
	return 0;
}

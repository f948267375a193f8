/*
 * fdtab.c: reserving the fd table (see fdtab.h).
 */
#include "fdtab.h"

#include <sys/mman.h>

struct conn **fdtab_slots;
size_t fdtab_size;

int fdtab_init(size_t max_fds)
{
	void *mem = mmap(NULL, max_fds * sizeof(struct conn *),
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);

	if (mem == MAP_FAILED)
		return -1;
	fdtab_slots = mem;
	__atomic_store_n(&fdtab_size, max_fds, __ATOMIC_RELEASE);
	return 0;
}

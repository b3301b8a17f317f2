#ifndef VIOSCOPE__BUS_H
#define VIOSCOPE__BUS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * An address space (port I/O or MMIO) of non-overlapping regions. Exits are
 * dispatched by binary search over the regions sorted by base, so the cost
 * does not grow with the number of devices.
 */
typedef void (*bus_handler_t)(void *opaque, uint64_t offset, void *data,
			      uint32_t len, bool is_write);

struct bus_region {
	uint64_t base;
	uint64_t len;
	bus_handler_t fn;
	void *opaque;
	const char *name;	/* owner, for logs and the published region map */
};

struct bus {
	const char *name;	/* "pio" or "mmio" */
	pthread_rwlock_t lock;
	struct bus_region *regions;
	size_t nr;
	size_t cap;
	uint64_t unhandled;	/* accesses that hit no region (guest-caused) */
	/* Called (outside the lock) after a region is added or removed. */
	void (*changed)(void *opaque);
	void *changed_opaque;
};

void bus__init(struct bus *bus, const char *name);
void bus__exit(struct bus *bus);
int bus__register(struct bus *bus, uint64_t base, uint64_t len,
		  bus_handler_t fn, void *opaque, const char *name);
int bus__deregister(struct bus *bus, uint64_t base);
/* Returns false (and counts it) when no region covers [addr, addr + len). */
bool bus__dispatch(struct bus *bus, uint64_t addr, void *data, uint32_t len,
		   bool is_write);
/* Copies the region covering addr into *out; false when there is none. */
bool bus__lookup(struct bus *bus, uint64_t addr, struct bus_region *out);

#endif /* VIOSCOPE__BUS_H */

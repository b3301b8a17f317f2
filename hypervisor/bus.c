#include "hypervisor/bus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void bus__init(struct bus *bus, const char *name)
{
	memset(bus, 0, sizeof(*bus));
	bus->name = name;
	pthread_rwlock_init(&bus->lock, NULL);
}

void bus__exit(struct bus *bus)
{
	free(bus->regions);
	bus->regions = NULL;
	bus->nr = bus->cap = 0;
	pthread_rwlock_destroy(&bus->lock);
}

/* Index of the first region whose base is > addr. */
static size_t upper_bound(const struct bus *bus, uint64_t addr)
{
	size_t lo = 0, hi = bus->nr;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (bus->regions[mid].base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static const struct bus_region *find(const struct bus *bus, uint64_t addr,
				     uint32_t len)
{
	size_t i = upper_bound(bus, addr);
	const struct bus_region *r;

	if (i == 0)
		return NULL;
	r = &bus->regions[i - 1];
	/* Written so that addr + len cannot overflow. */
	if (addr - r->base >= r->len || len > r->len - (addr - r->base))
		return NULL;
	return r;
}

int bus__register(struct bus *bus, uint64_t base, uint64_t len,
		  bus_handler_t fn, void *opaque, const char *name)
{
	size_t i;
	int ret = 0;

	if (len == 0 || base + len - 1 < base || !fn)
		return -EINVAL;

	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	if ((i > 0 && bus->regions[i - 1].base + bus->regions[i - 1].len > base) ||
	    (i < bus->nr && base + len > bus->regions[i].base)) {
		ret = -EEXIST;
		goto out;
	}
	if (bus->nr == bus->cap) {
		size_t cap = bus->cap ? bus->cap * 2 : 16;
		struct bus_region *r = realloc(bus->regions, cap * sizeof(*r));

		if (!r) {
			ret = -ENOMEM;
			goto out;
		}
		bus->regions = r;
		bus->cap = cap;
	}
	memmove(&bus->regions[i + 1], &bus->regions[i],
		(bus->nr - i) * sizeof(*bus->regions));
	bus->regions[i] = (struct bus_region){
		.base = base, .len = len, .fn = fn, .opaque = opaque, .name = name,
	};
	bus->nr++;
out:
	pthread_rwlock_unlock(&bus->lock);
	if (!ret && bus->changed)
		bus->changed(bus->changed_opaque);
	return ret;
}

int bus__deregister(struct bus *bus, uint64_t base)
{
	size_t i;
	int ret = -ENOENT;

	pthread_rwlock_wrlock(&bus->lock);
	i = upper_bound(bus, base);
	if (i > 0 && bus->regions[i - 1].base == base) {
		memmove(&bus->regions[i - 1], &bus->regions[i],
			(bus->nr - i) * sizeof(*bus->regions));
		bus->nr--;
		ret = 0;
	}
	pthread_rwlock_unlock(&bus->lock);
	if (!ret && bus->changed)
		bus->changed(bus->changed_opaque);
	return ret;
}

bool bus__dispatch(struct bus *bus, uint64_t addr, void *data, uint32_t len,
		   bool is_write)
{
	const struct bus_region *r;
	bus_handler_t fn = NULL;
	void *opaque = NULL;
	uint64_t offset = 0;

	pthread_rwlock_rdlock(&bus->lock);
	r = find(bus, addr, len);
	if (r) {
		fn = r->fn;
		opaque = r->opaque;
		offset = addr - r->base;
	}
	pthread_rwlock_unlock(&bus->lock);

	if (!fn) {
		__atomic_add_fetch(&bus->unhandled, 1, __ATOMIC_RELAXED);
		return false;
	}
	/*
	 * The handler runs outside the lock: a BAR write may remap regions
	 * from inside a config-space handler on the same bus.
	 */
	fn(opaque, offset, data, len, is_write);
	return true;
}

bool bus__lookup(struct bus *bus, uint64_t addr, struct bus_region *out)
{
	const struct bus_region *r;

	pthread_rwlock_rdlock(&bus->lock);
	r = find(bus, addr, 1);
	if (r)
		*out = *r;
	pthread_rwlock_unlock(&bus->lock);
	return r != NULL;
}

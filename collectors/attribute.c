#include "collectors/attribute.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void group_name(const struct kx_addr *a, const struct region_map *map, char *buf,
		       size_t len)
{
	enum region_space s = a->key.space == KX_PIO ? REGION_PIO : REGION_MMIO;
	const struct region *r = map ? region_map__find(map, s, a->key.addr) : NULL;

	if (r)
		snprintf(buf, len, "%s", r->name);
	else if (a->key.space == KX_PIO)
		snprintf(buf, len, "pio %#llx", (unsigned long long)a->key.addr);
	else
		snprintf(buf, len, "mmio %#llx", (unsigned long long)(a->key.addr & ~0xfffULL));
}

static int by_events(const void *a, const void *b)
{
	const struct kx_device *x = a, *y = b;

	return x->events < y->events ? 1 : x->events > y->events ? -1 : strcmp(x->name, y->name);
}

int kx__attribute(const struct kx_snapshot *s, const struct region_map *map,
		  struct kx_device **out)
{
	struct kx_device *d = calloc(s->nr_addrs + 1, sizeof(*d));
	size_t i, j, n = 0;
	char name[48];

	if (!d)
		return -ENOMEM;
	for (i = 0; i < s->nr_addrs; i++) {
		const struct kx_addr *a = &s->addrs[i];

		group_name(a, map, name, sizeof(name));
		for (j = 0; j < n; j++)
			if (d[j].space == a->key.space && d[j].write == a->key.write &&
			    !strcmp(d[j].name, name))
				break;
		if (j == n) {
			snprintf(d[n].name, sizeof(d[n].name), "%s", name);
			d[n].space = a->key.space;
			d[n].write = a->key.write;
			hist__init(&d[n].user);
			n++;
		}
		d[j].events += a->events;
		hist__merge(&d[j].user, &a->user);
	}
	qsort(d, n, sizeof(*d), by_events);
	*out = d;
	return (int)n;
}

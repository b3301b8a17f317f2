/*
 * Publishes the VMM's port and MMIO regions (lib/regions.h) so that the
 * collectors can attribute KVM's kvm_pio/kvm_mmio events to our devices.
 * Rewritten whenever a region is added or removed (BARs move at boot).
 */
#include "hypervisor/regions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "lib/regions.h"

static size_t collect(struct bus *bus, enum region_space s, struct region *out, size_t at,
		      size_t cap)
{
	size_t i;

	pthread_rwlock_rdlock(&bus->lock);
	for (i = 0; i < bus->nr && at < cap; i++, at++) {
		out[at] = (struct region){ .space = s, .base = bus->regions[i].base,
					   .len = bus->regions[i].len };
		snprintf(out[at].name, sizeof(out[at].name), "%s",
			 bus->regions[i].name ? bus->regions[i].name : "?");
	}
	pthread_rwlock_unlock(&bus->lock);
	return at;
}

static void regions__changed(void *opaque)
{
	struct kvm *kvm = opaque;
	size_t cap, n;
	struct region *r;
	int ret;

	pthread_rwlock_rdlock(&kvm->pio_bus.lock);
	cap = kvm->pio_bus.nr;
	pthread_rwlock_unlock(&kvm->pio_bus.lock);
	pthread_rwlock_rdlock(&kvm->mmio_bus.lock);
	cap += kvm->mmio_bus.nr;
	pthread_rwlock_unlock(&kvm->mmio_bus.lock);
	r = calloc(cap + 1, sizeof(*r));
	if (!r)
		return;
	n = collect(&kvm->pio_bus, REGION_PIO, r, 0, cap);
	n = collect(&kvm->mmio_bus, REGION_MMIO, r, n, cap);
	ret = regions__write(getpid(), r, n);
	free(r);
	if (ret)
		pr_warn_ratelimited("region map not published: %s", strerror(-ret));
}

void regions__publish(struct kvm *kvm)
{
	kvm->pio_bus.changed = kvm->mmio_bus.changed = regions__changed;
	kvm->pio_bus.changed_opaque = kvm->mmio_bus.changed_opaque = kvm;
	regions__changed(kvm);
}

void regions__unpublish(struct kvm *kvm)
{
	kvm->pio_bus.changed = kvm->mmio_bus.changed = NULL;
	regions__remove(getpid());
}

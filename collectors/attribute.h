#ifndef VIOSCOPE__COLLECTORS_ATTRIBUTE_H
#define VIOSCOPE__COLLECTORS_ATTRIBUTE_H

#include <stddef.h>

#include "collectors/kvm_exits.h"
#include "lib/regions.h"

/*
 * PIO/MMIO accesses grouped by the device that owns them (the VMM's
 * published region map), or, for addresses outside it (other VMMs, the
 * in-kernel LAPIC/IOAPIC/PIT), by raw port or 4 KiB MMIO page.
 */
struct kx_device {
	char name[48];			/* region name, or "pio 0x3f8" / "mmio 0xfee00000" */
	unsigned int space;		/* KX_PIO, KX_MMIO */
	unsigned int write;
	uint64_t events;
	struct hist user;		/* ns, exits handled in user space */
};

/* Returns the number of groups in *out (malloc'd), sorted by events, or -ENOMEM. */
int kx__attribute(const struct kx_snapshot *s, const struct region_map *map,
		  struct kx_device **out);

#endif /* VIOSCOPE__COLLECTORS_ATTRIBUTE_H */

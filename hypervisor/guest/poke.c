/*
 * "poke": touches addresses no device owns, to show that the VMM counts and
 * survives what a misbehaving guest does. poke count=N does N reads and N
 * writes each to an unmapped port and an unmapped MMIO address.
 */
#include "hypervisor/guest/guest.h"

#define UNMAPPED_PORT	0x0e0	/* nothing decodes 0xe0 in vioscope-vmm */
#define UNMAPPED_MMIO	0xd0000000ULL	/* inside the PCI hole, above every BAR */

static const char *const poke_args[] = { "count", NULL };

int poke_run(const char *args)
{
	uint64_t count = 100, i, bad = 0;

	if (arg_check("poke", args, poke_args) ||
	    arg_u64("poke", args, "count", 0, 1000000, &count) < 0)
		return VIO_ERR_WORKLOAD;
	for (i = 0; i < count; i++) {
		outl(UNMAPPED_PORT, (uint32_t)i);
		mmio_write32(UNMAPPED_MMIO, (uint32_t)i);
		/* Unmapped reads float high, as on a PC bus. */
		if (inl(UNMAPPED_PORT) != 0xffffffffu)
			bad++;
		if (mmio_read32(UNMAPPED_MMIO) != 0xffffffffu)
			bad++;
	}
	printf("guest: poke: %lu accesses, %lu reads not all-ones\n", 4 * count, bad);
	return bad ? VIO_ERR_WORKLOAD : VIO_OK;
}

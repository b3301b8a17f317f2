/*
 * libFuzzer target: the AHCI command path. The input is guest RAM (command
 * list, tables, PRDTs, FISes all fuzzer-written) followed by a sequence of
 * register writes (offset, value); every write may start commands.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "tests/fuzz/fuzz_kvm.h"

#define RAM (256u << 10)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvm kvm;
	static struct device *dev;
	static uint64_t abar;
	size_t ram_part = size < 8192 ? size : 8192, off;

	if (!dev) {
		char args[128];

		fuzz__kvm(&kvm, RAM);
		snprintf(args, sizeof(args), "/tmp/vioscope-fuzz-ahci-%d.img,size=1M,engine=sync",
			 (int)getpid());
		dev = device__create(&kvm, "ahci", args);
		if (!dev)
			abort();
		*strchr(args, ',') = 0;
		unlink(args);	/* the backend keeps it open */
		abar = pci__bar_address(kvm.pci.slots[0], 5);
	}
	/* The fuzzer's bytes land at the start of RAM, where tables point. */
	memset(kvm.ram, 0, 8192);
	memcpy(kvm.ram, data, ram_part);
	for (off = ram_part; off + 6 <= size; off += 6) {
		uint16_t reg = (uint16_t)((data[off] | data[off + 1] << 8) & 0x1fc);
		uint32_t v;

		memcpy(&v, data + off + 2, 4);
		bus__dispatch(&kvm.mmio_bus, abar + reg, &v, 4, true);
	}
	/* Engine on and every slot issued, whatever the fuzzer did. */
	{
		uint32_t v = 0x11;

		bus__dispatch(&kvm.mmio_bus, abar + 0x118, &v, 4, true);
		v = 0xffffffff;
		bus__dispatch(&kvm.mmio_bus, abar + 0x138, &v, 4, true);
	}
	return 0;
}

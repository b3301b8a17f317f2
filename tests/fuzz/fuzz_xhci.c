/*
 * libFuzzer target: the xHCI rings. Each input starts from a running
 * controller whose DCBAA, command ring, event ring segment and port 1
 * are set up as a driver would, all in the first 16 KiB of guest RAM; the
 * input is that RAM (TRBs, contexts, buffers: fuzzer-written) followed by
 * register writes (offset, value) that ring doorbells, move ERDP, reset
 * ports and so on. The USB disk behind port 1 sees whatever gets through.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "tests/fuzz/fuzz_kvm.h"

#define RAM		(256u << 10)
#define RAM_PART	16384
#define DCBAA		0x0000		/* slot n's context pointer at 8 * n */
#define CMD_RING	0x1000
#define EVENTS		0x2000
#define ERST		0x3000
#define OP		0x40
#define RT		0x1000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void wr(struct kvm *kvm, uint64_t bar, uint32_t off, uint32_t v)
{
	bus__dispatch(&kvm->mmio_bus, bar + off, &v, 4, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvm kvm;
	static struct device *dev;
	static uint64_t bar;
	size_t ram_part = size < RAM_PART ? size : RAM_PART, i;
	uint64_t erst[2] = { EVENTS, 64 };

	if (!dev) {
		char args[128];

		fuzz__kvm(&kvm, RAM);
		snprintf(args, sizeof(args), "/tmp/vioscope-fuzz-xhci-%d.img,size=1M", (int)getpid());
		dev = device__create(&kvm, "xhci", args);
		if (!dev)
			abort();
		*strchr(args, ',') = 0;
		unlink(args);	/* the backend keeps it open */
		bar = pci__bar_address(kvm.pci.slots[0], 0);
	}
	memset(kvm.ram, 0, RAM_PART);
	memcpy(kvm.ram, data, ram_part);
	memcpy((uint8_t *)kvm.ram + ERST, erst, sizeof(erst));
	wr(&kvm, bar, OP + 0x00, 2);				/* HCRST */
	wr(&kvm, bar, OP + 0x38, 8);
	wr(&kvm, bar, OP + 0x30, DCBAA);
	wr(&kvm, bar, OP + 0x18, CMD_RING | 1);
	wr(&kvm, bar, OP + 0x1c, 0);
	wr(&kvm, bar, RT + 0x28, 1);
	wr(&kvm, bar, RT + 0x38, EVENTS);
	wr(&kvm, bar, RT + 0x30, ERST);
	wr(&kvm, bar, RT + 0x34, 0);
	wr(&kvm, bar, RT + 0x20, 2);
	wr(&kvm, bar, OP + 0x00, 1 | 4);			/* run */
	wr(&kvm, bar, OP + 0x400, 1u << 9 | 1u << 4);		/* port 1 reset */
	/* Then the fuzzer's writes, 6 bytes each: offset (16 bits, dword
	 * aligned, inside the 16 KiB BAR) and value. */
	for (i = ram_part; i + 6 <= size; i += 6) {
		uint32_t reg = (uint32_t)(data[i] | data[i + 1] << 8) & 0x3ffc, v;

		memcpy(&v, data + i + 2, 4);
		wr(&kvm, bar, reg, v);
	}
	return 0;
}

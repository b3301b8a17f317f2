/*
 * libFuzzer target: the e1000 descriptor rings. The input is register
 * writes (offset, value) that may start transmits and receives, one frame
 * the backend delivers, and guest RAM (rings, descriptors, buffers all
 * fuzzer-written).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "tests/fuzz/fuzz_kvm.h"

#define RAM (256u << 10)
#define RAM_PART 8192

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct kvm kvm;
	static struct device *dev;
	static uint64_t bar;
	static int peer = -1;
	size_t ram_part, off, len;
	uint8_t drain[70000];

	if (!dev) {
		char args[32];

		fuzz__kvm(&kvm, RAM);
		peer = fuzz__nic_backend(args, sizeof(args));
		dev = device__create(&kvm, "e1000", args);
		if (!dev)
			abort();
		bar = pci__bar_address(kvm.pci.slots[0], 0);
	}
	/* Byte 0: how many register writes follow (6 bytes each), then a
	 * frame for the receive side (2 bytes of length, its bytes), then guest
	 * RAM: small inputs reach the registers first. */
	{
		size_t nw = size ? data[0] : 0, w = 1 + 6 * nw, i;

		off = w < size ? w : size;
		if (off + 2 <= size) {
			len = (size_t)(data[off] | data[off + 1] << 8);
			off += 2;
			if (len > size - off)
				len = size - off;
			send(peer, data + off, len, MSG_DONTWAIT);
			off += len;
		}
		ram_part = size - off < RAM_PART ? size - off : RAM_PART;
		memset(kvm.ram, 0, RAM_PART);
		memcpy(kvm.ram, data + off, ram_part);
		for (i = 1; i + 6 <= w && i + 6 <= size; i += 6) {
			uint32_t reg = (uint32_t)(data[i] | data[i + 1] << 8 | (data[i] & 1) << 16) &
				       0x1fffc;
			uint32_t v;

			memcpy(&v, data + i + 2, 4);
			bus__dispatch(&kvm.mmio_bus, bar + reg, &v, 4, true);
		}
	}
	/* Whatever was sent is not kept for the next input. */
	while (recv(peer, drain, sizeof(drain), MSG_DONTWAIT) >= 0)
		;
	{
		uint32_t v = 1u << 26;	/* CTRL.RST: a clean device for the next input */

		bus__dispatch(&kvm.mmio_bus, bar, &v, 4, true);
	}
	return 0;
}

/*
 * libFuzzer target: virtio-net's transmit, receive and control paths.
 * The input is the driver's feature bits, frames the backend delivers and
 * guest RAM (three queues' rings, descriptors, headers, control commands:
 * all fuzzer-written); every queue is then kicked.
 */
#include <linux/virtio_pci.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "tests/fuzz/fuzz_kvm.h"

#define RAM (256u << 10)
#define RAM_PART 0x8000
#define RING(q) ((q) * 0x300u)	/* desc +0, avail +0x100, used +0x180 */
#define QSIZE 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct kvm kvm;
static uint64_t bar;

static void wr(uint64_t off, uint32_t v, uint32_t len)
{
	bus__dispatch(&kvm.mmio_bus, bar + off, &v, len, true);
}

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct device *dev;
	static int peer = -1;
	size_t ram_part, off;
	uint32_t features = 0, q;
	uint8_t drain[70000];

	if (!dev) {
		char args[32];

		fuzz__kvm(&kvm, RAM);
		peer = fuzz__nic_backend(args, sizeof(args));
		dev = device__create(&kvm, "virtio-net", args);
		if (!dev)
			abort();
		bar = pci__bar_address(kvm.pci.slots[0], 0);
	}
	/* Bytes 0-3: the driver's features; byte 4: frames for the receive
	 * side (each 2 bytes of length, then its bytes); the rest is guest RAM
	 * with the rings first, so small inputs reach them. */
	if (size < 5)
		return 0;
	memcpy(&features, data, 4);
	for (off = 5, q = 0; q < (data[4] & 3u) && off + 2 <= size; q++) {
		size_t len = (size_t)(data[off] | data[off + 1] << 8);

		off += 2;
		if (len > size - off)
			len = size - off;
		send(peer, data + off, len, MSG_DONTWAIT);
		off += len;
	}
	ram_part = size - off < RAM_PART ? size - off : RAM_PART;
	memset(kvm.ram, 0, RAM_PART);
	memcpy(kvm.ram, data + off, ram_part);
	fuzz__virtio_bring_up(&kvm, bar, features, 3, QSIZE, RING(0), RING(1) - RING(0), 0x180);
	for (q = 0; q < 3; q++)
		wr(0x3000 + 4 * q, q, 2);	/* notify: trapped, handled inline */
	while (recv(peer, drain, sizeof(drain), MSG_DONTWAIT) >= 0)
		;
	wr(COMMON(device_status), 0, 1);
	return 0;
}

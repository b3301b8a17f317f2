/*
 * libFuzzer target: virtio-gpu's command parser (2D, the cursor queue).
 * The input is guest RAM (backing pages and their pixels: fuzzer-written)
 * followed by commands, each 2 bytes of length (bit 15: the cursor queue)
 * and its bytes, placed in guest RAM and kicked as one chain with a
 * response buffer. Resources, backing and the scanout carry over from one
 * command to the next within an input; the device is reset between
 * inputs. The 3D commands go to virglrenderer's own decoder and are not
 * fuzzed here (a GL stack under ASan is another project's target).
 */
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/device.h"
#include "tests/fuzz/fuzz_kvm.h"

#define RAM		(1u << 20)
#define RAM_PART	0x8000		/* fuzzer-written: backing and pixels */
#define RING(q)		(0x80000 + (q) * 0x1000u)	/* desc, avail +0x100, used +0x200 */
#define REQ		0x90000
#define RESP		0x98000
#define QSIZE		16

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
	static uint16_t idx[2];
	size_t ram_part = size < RAM_PART ? size : RAM_PART, off;
	uint32_t q;

	if (!dev) {
		fuzz__kvm(&kvm, RAM);
		dev = device__create(&kvm, "virtio-gpu", "mode=320x200");
		if (!dev)
			abort();
		bar = pci__bar_address(kvm.pci.slots[0], 0);
	}
	memset(kvm.ram, 0, RAM);
	memcpy(kvm.ram, data, ram_part);
	fuzz__virtio_bring_up(&kvm, bar, 2, 2, QSIZE, RING(0), RING(1) - RING(0), 0x200); /* EDID */
	idx[0] = idx[1] = 0;
	for (off = ram_part; off + 2 <= size; ) {
		size_t len = (size_t)(data[off] | (data[off + 1] & 0x7f) << 8);
		struct vring_desc *desc;
		struct vring_avail *avail;

		q = data[off + 1] >> 7;
		off += 2;
		if (len > size - off)
			len = size - off;
		memcpy((uint8_t *)kvm.ram + REQ, data + off, len);
		off += len;
		desc = (struct vring_desc *)((uint8_t *)kvm.ram + RING(q));
		avail = (struct vring_avail *)((uint8_t *)kvm.ram + RING(q) + 0x100);
		desc[0] = (struct vring_desc){ REQ, (uint32_t)len, VRING_DESC_F_NEXT, 1 };
		desc[1] = (struct vring_desc){ RESP, 2048, VRING_DESC_F_WRITE, 0 };
		avail->ring[idx[q] % QSIZE] = 0;
		avail->idx = ++idx[q];
		wr(0x3000 + 4 * q, q, 2);	/* notify: trapped, handled inline */
	}
	wr(COMMON(device_status), 0, 1);	/* reset: every resource goes */
	return 0;
}

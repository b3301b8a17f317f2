/*
 * Modern virtio-pci from the driver's side (virtio 1.2, 3.1.1 and 4.1):
 * find the vendor capabilities, reset, negotiate, place queue 0, DRIVER_OK.
 * Ring memory comes from the bump allocator, zeroed by the VMM's memfd.
 */
#include "hypervisor/guest/virtio.h"

#define CAP_VNDR	0x09
#define ST_ACK		1
#define ST_DRIVER	2
#define ST_DRIVER_OK	4
#define ST_FEATURES_OK	8

/* struct virtio_pci_common_cfg offsets */
#define C_DFSELECT	0x00
#define C_DF		0x04
#define C_GFSELECT	0x08
#define C_GF		0x0c
#define C_MSIX		0x10
#define C_STATUS	0x14
#define C_QSELECT	0x16
#define C_QSIZE		0x18
#define C_QMSIX		0x1a
#define C_QENABLE	0x1c
#define C_QNOTIFY	0x1e
#define C_QDESC		0x20
#define C_QAVAIL	0x28
#define C_QUSED		0x30

static inline void w8(uint64_t a, uint8_t v) { *(volatile uint8_t *)a = v; }
static inline uint8_t r8(uint64_t a) { return *(volatile uint8_t *)a; }
static inline void w16(uint64_t a, uint16_t v) { *(volatile uint16_t *)a = v; }
static inline uint16_t r16(uint64_t a) { return *(volatile uint16_t *)a; }

static void find_caps(struct gvirtio *v)
{
	uint8_t cap = (uint8_t)pci_read32(v->pci.slot, 0x34) & 0xfc;
	int guard = 48;

	while (cap && guard--) {
		uint32_t hdr = pci_read32(v->pci.slot, cap);
		uint8_t type = (uint8_t)(hdr >> 24), bar = (uint8_t)pci_read32(v->pci.slot, (uint8_t)(cap + 4));
		uint64_t addr = v->pci.bar[bar & 7] + pci_read32(v->pci.slot, (uint8_t)(cap + 8));

		if ((hdr & 0xff) == CAP_VNDR) {
			if (type == 1) v->common = addr;
			else if (type == 2) {
				v->notify = addr;
				v->notify_mult = pci_read32(v->pci.slot, (uint8_t)(cap + 16));
			} else if (type == 3) v->isr = addr;
			else if (type == 4) v->device = addr;
		}
		cap = (uint8_t)(hdr >> 8) & 0xfc;
	}
}

int gvirtio_init(struct gvirtio *v, uint16_t type, uint16_t max_q, uint8_t vector)
{
	uint16_t size;

	memset(v, 0, sizeof(*v));
	if (pci_find(0x1af4, (uint16_t)(0x1040 + type), &v->pci))
		return -1;
	find_caps(v);
	if (!v->common || !v->notify)
		return -2;
	w8(v->common + C_STATUS, 0);
	w8(v->common + C_STATUS, ST_ACK | ST_DRIVER);
	mmio_write32(v->common + C_GFSELECT, 0);
	mmio_write32(v->common + C_GF, 0);
	mmio_write32(v->common + C_GFSELECT, 1);
	mmio_write32(v->common + C_GF, 1);	/* VIRTIO_F_VERSION_1 only */
	w8(v->common + C_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(r8(v->common + C_STATUS) & ST_FEATURES_OK))
		return -3;

	w16(v->common + C_QSELECT, 0);
	size = r16(v->common + C_QSIZE);
	while (size > max_q)
		size >>= 1;
	if (!size)
		return -4;
	v->qsize = size;
	w16(v->common + C_QSIZE, size);
	v->desc = guest_alloc(16ULL * size);
	v->avail = guest_alloc(6 + 2ULL * size);
	v->used = guest_alloc(6 + 8ULL * size);
	if (!v->desc || !v->avail || !v->used)
		return -5;
	mmio_write32(v->common + C_QDESC, (uint32_t)(uint64_t)v->desc);
	mmio_write32(v->common + C_QDESC + 4, 0);
	mmio_write32(v->common + C_QAVAIL, (uint32_t)(uint64_t)v->avail);
	mmio_write32(v->common + C_QAVAIL + 4, 0);
	mmio_write32(v->common + C_QUSED, (uint32_t)(uint64_t)v->used);
	mmio_write32(v->common + C_QUSED + 4, 0);
	if (pci_msix_enable(&v->pci, 0, vector) == 0) {
		w16(v->common + C_QMSIX, 0);
		v->msix = r16(v->common + C_QMSIX) == 0;
	}
	w16(v->common + C_QENABLE, 1);
	w8(v->common + C_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return r16(v->common + C_QENABLE) == 1 ? 0 : -6;
}

uint64_t gvirtio_submit(struct gvirtio *v, uint16_t head, int stamp)
{
	uint64_t t = 0;

	v->avail[2 + (v->avail_idx & (v->qsize - 1))] = head;
	asm volatile("" ::: "memory");	/* x86: stores stay in order */
	v->avail[1] = ++v->avail_idx;
	/* Notify: queue 0's register (ioeventfd in the VMM). */
	if (stamp)
		t = rdtsc();
	w16(v->notify, 0);
	return t;
}

int gvirtio_used(struct gvirtio *v, uint32_t *len)
{
	uint16_t idx = ((volatile uint16_t *)v->used)[1];
	uint32_t slot;

	if (idx == v->last_used)
		return -1;
	slot = 1 + 2 * (v->last_used & (v->qsize - 1));	/* u32 units: skip flags/idx */
	*len = v->used[slot + 1];
	v->last_used++;
	return (int)v->used[slot];
}

uint64_t gvirtio_config64(struct gvirtio *v, uint32_t off)
{
	return (uint64_t)mmio_read32(v->device + off) | (uint64_t)mmio_read32(v->device + off + 4) << 32;
}

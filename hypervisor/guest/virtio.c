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
#define C_QNOTIFY	0x1e	/* queue_notify_off */
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

/* Queue q's size, rings from the bump allocator, addresses, vector. */
static int setup_queue(struct gvirtio *v, uint16_t qi, uint16_t max_q)
{
	struct gvq *q = &v->q[qi];
	uint16_t size;

	w16(v->common + C_QSELECT, qi);
	size = r16(v->common + C_QSIZE);
	while (size > max_q)
		size >>= 1;
	if (!size)
		return -4;
	q->index = qi;
	q->size = size;
	w16(v->common + C_QSIZE, size);
	q->desc = guest_alloc(16ULL * size);
	q->avail = guest_alloc(6 + 2ULL * size);
	q->used = guest_alloc(6 + 8ULL * size);
	if (!q->desc || !q->avail || !q->used)
		return -5;
	q->notify = v->notify + (uint64_t)r16(v->common + C_QNOTIFY) * v->notify_mult;
	mmio_write32(v->common + C_QDESC, (uint32_t)(uint64_t)q->desc);
	mmio_write32(v->common + C_QDESC + 4, 0);
	mmio_write32(v->common + C_QAVAIL, (uint32_t)(uint64_t)q->avail);
	mmio_write32(v->common + C_QAVAIL + 4, 0);
	mmio_write32(v->common + C_QUSED, (uint32_t)(uint64_t)q->used);
	mmio_write32(v->common + C_QUSED + 4, 0);
	if (v->msix)
		w16(v->common + C_QMSIX, 0);
	w16(v->common + C_QENABLE, 1);
	return r16(v->common + C_QENABLE) == 1 ? 0 : -6;
}

int gvirtio_init(struct gvirtio *v, uint16_t type, uint32_t want, unsigned int nr,
		 uint16_t max_q, uint8_t vector)
{
	uint32_t offered;
	unsigned int i;
	int ret;

	memset(v, 0, sizeof(*v));
	if (nr > GVIRTIO_MAX_QUEUES || pci_find(0x1af4, (uint16_t)(0x1040 + type), &v->pci))
		return -1;
	find_caps(v);
	if (!v->common || !v->notify)
		return -2;
	w8(v->common + C_STATUS, 0);
	w8(v->common + C_STATUS, ST_ACK | ST_DRIVER);
	mmio_write32(v->common + C_DFSELECT, 0);
	offered = mmio_read32(v->common + C_DF);
	mmio_write32(v->common + C_GFSELECT, 0);
	mmio_write32(v->common + C_GF, offered & want);
	mmio_write32(v->common + C_GFSELECT, 1);
	mmio_write32(v->common + C_GF, 1);	/* VIRTIO_F_VERSION_1 */
	v->features = (uint64_t)(offered & want) | 1ULL << 32;
	w8(v->common + C_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(r8(v->common + C_STATUS) & ST_FEATURES_OK))
		return -3;
	v->msix = pci_msix_enable(&v->pci, 0, vector) == 0;
	for (i = 0; i < nr; i++) {
		ret = setup_queue(v, (uint16_t)i, max_q);
		if (ret)
			return ret;
		if (v->msix) {
			w16(v->common + C_QSELECT, (uint16_t)i);
			v->msix = r16(v->common + C_QMSIX) == 0;
		}
	}
	w8(v->common + C_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
	return 0;
}

void gvirtio_add(struct gvq *q, uint16_t head)
{
	q->avail[2 + (q->avail_idx & (q->size - 1))] = head;
	asm volatile("" ::: "memory");	/* x86: stores stay in order */
	q->avail[1] = ++q->avail_idx;
}

uint64_t gvirtio_kick(struct gvq *q, int stamp)
{
	uint64_t t = stamp ? rdtsc() : 0;

	asm volatile("" ::: "memory");
	w16(q->notify, q->index);	/* an ioeventfd in the VMM */
	return t;
}

uint64_t gvirtio_submit(struct gvq *q, uint16_t head, int stamp)
{
	gvirtio_add(q, head);
	return gvirtio_kick(q, stamp);
}

int gvirtio_used(struct gvq *q, uint32_t *len)
{
	uint16_t idx = ((volatile uint16_t *)q->used)[1];
	uint32_t slot;

	if (idx == q->last_used)
		return -1;
	asm volatile("" ::: "memory");
	slot = 1 + 2 * (q->last_used & (q->size - 1));	/* u32 units: skip flags/idx */
	*len = q->used[slot + 1];
	q->last_used++;
	return (int)q->used[slot];
}

void gvirtio_interrupts(struct gvq *q, int on)
{
	q->avail[0] = on ? 0 : 1;	/* VRING_AVAIL_F_NO_INTERRUPT */
}

uint64_t gvirtio_config64(struct gvirtio *v, uint32_t off)
{
	return (uint64_t)mmio_read32(v->device + off) | (uint64_t)mmio_read32(v->device + off + 4) << 32;
}

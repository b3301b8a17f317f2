/* The probe guest's virtio-pci (modern) driver and split virtqueues. */
#ifndef VIOSCOPE__GUEST_VIRTIO_H
#define VIOSCOPE__GUEST_VIRTIO_H

#include "hypervisor/guest/guest.h"

struct vq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

#define VQ_F_NEXT	1
#define VQ_F_WRITE	2
#define GVIRTIO_MAX_QUEUES	3

struct gvq {
	uint16_t size;
	struct vq_desc *desc;
	volatile uint16_t *avail;		/* flags, idx, ring[size] */
	volatile uint32_t *used;		/* flags|idx as u16 pair, then {id, len} */
	uint16_t avail_idx, last_used;
	uint64_t notify;			/* this queue's notify register */
	uint16_t index;
};

struct gvirtio {
	struct pci_dev pci;
	uint64_t common, isr, device, notify;	/* MMIO addresses of the regions */
	uint32_t notify_mult;
	uint64_t features;			/* accepted, VERSION_1 included */
	struct gvq q[GVIRTIO_MAX_QUEUES];
	int msix;				/* 1: completions interrupt, 0: poll ISR */
};

/* Finds device 1af4:(0x1040 + type), takes VERSION_1 and those of `want`
 * (bits 0-31) the device offers, sets up queues 0..nr-1 with at most max_q
 * entries each, all on MSI-X entry 0 -> `vector`, then DRIVER_OK. */
int gvirtio_init(struct gvirtio *v, uint16_t type, uint32_t want, unsigned int nr,
		 uint16_t max_q, uint8_t vector);
/* Makes a chain starting at head available (no kick). */
void gvirtio_add(struct gvq *q, uint16_t head);
/* The doorbell; with stamp, returns the TSC read just before it (an rdtsc
 * traps on PVM: a few microseconds), else 0. */
uint64_t gvirtio_kick(struct gvq *q, int stamp);
/* gvirtio_add + gvirtio_kick. */
uint64_t gvirtio_submit(struct gvq *q, uint16_t head, int stamp);
/* Next used element, or -1 when none: *len gets its length. */
int gvirtio_used(struct gvq *q, uint32_t *len);
/* VRING_AVAIL_F_NO_INTERRUPT: whether the device should interrupt for q. */
void gvirtio_interrupts(struct gvq *q, int on);
uint64_t gvirtio_config64(struct gvirtio *v, uint32_t off);

#endif

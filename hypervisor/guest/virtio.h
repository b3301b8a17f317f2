/* The probe guest's virtio-pci (modern) driver and split virtqueue. */
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

struct gvirtio {
	struct pci_dev pci;
	uint64_t common, isr, device, notify;	/* MMIO addresses of the regions */
	uint32_t notify_mult;
	uint16_t qsize;
	struct vq_desc *desc;
	volatile uint16_t *avail;		/* flags, idx, ring[qsize] */
	volatile uint32_t *used;		/* flags|idx as u16 pair, then {id, len} */
	uint16_t avail_idx, last_used;
	int msix;				/* 1: completions interrupt, 0: poll ISR */
};

/* Finds device 1af4:(0x1040 + type), negotiates VERSION_1 only, sets up
 * queue 0 with at most max_q entries, MSI-X vector 0 -> `vector`. */
int gvirtio_init(struct gvirtio *v, uint16_t type, uint16_t max_q, uint8_t vector);
/* Makes a chain starting at head available and kicks. */
/* With stamp, returns the TSC read just before the doorbell write (an
 * rdtsc traps on PVM: a few microseconds), else 0. */
uint64_t gvirtio_submit(struct gvirtio *v, uint16_t head, int stamp);
/* Next used element, or -1 when none: *len gets its length. */
int gvirtio_used(struct gvirtio *v, uint32_t *len);
uint64_t gvirtio_config64(struct gvirtio *v, uint32_t off);

#endif

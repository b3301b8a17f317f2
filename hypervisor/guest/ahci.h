#ifndef VIOSCOPE__GUEST_AHCI_H
#define VIOSCOPE__GUEST_AHCI_H

#include "hypervisor/guest/guest.h"

int gahci_init(uint8_t vector);
/* Issues an ATA command on a slot with one buffer (PRDT of one entry);
 * with stamp, both submit calls return the TSC read just before the PxCI
 * doorbell (else 0). */
uint64_t gahci_submit(unsigned int slot, uint8_t cmd, uint64_t lba, uint32_t count, void *buf,
		      uint32_t bytes, int write, int stamp);
/* NCQ (after gahci_capacity): READ/WRITE FPDMA QUEUED on a slot. */
int gahci_has_ncq(void);
uint64_t gahci_submit_ncq(unsigned int slot, uint64_t lba, uint32_t count, void *buf,
			  uint32_t bytes, int write, int stamp);
/* A completed slot, or -1; reads PxIS/PxSACT/PxCI as a driver does. */
int gahci_reap(void);
int gahci_failed(unsigned int slot);
/* IDENTIFY: the disk's size in bytes (buf: 512 bytes of scratch). */
uint64_t gahci_capacity(void *buf512);

#endif

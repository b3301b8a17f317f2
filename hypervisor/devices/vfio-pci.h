#ifndef VIOSCOPE__VFIO_PCI_H
#define VIOSCOPE__VFIO_PCI_H

#include <linux/vfio.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/metrics.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"

struct device;
struct vfio_pci;

struct vfio_bar {
	struct vfio_region_info info;
	struct vfio_pci *vp;
	int idx;
	void *map;		/* the region mmap()ed, NULL when it must trap */
	int slots[3];		/* KVM memory slots of its mapped pieces */
	unsigned int nr_slots;
};

struct vfio_pci {
	struct device *dev;
	struct pci_device pci;
	struct msix msix;
	char bdf[32];
	int container, group, fd;
	struct vfio_region_info cfg;
	struct vfio_bar bars[PCI_NUM_BARS];
	int msix_bar;			/* -1 when the device has no MSI-X */
	uint32_t msix_table_off, msix_pba_off;
	bool msix_on;			/* VFIO triggers installed */
	bool trap_bars;			/* bars=trap: no BAR is mapped */
	struct metric_counter *bar_reads, *bar_writes, *cfg_writes;
};

/*
 * Builds the guest-visible header in vp->pci from the device's config
 * space (real) and vp->bars[].info.size: IDs and class copied, memory BARs
 * presented as 32-bit, MSI-X emulated at the device's table/PBA offsets,
 * MSI hidden, other capabilities copied read-only. vp->dev must be set.
 * Exposed for tests; vioscope-vmm calls it after reading the device.
 */
int vfio_pci__build_config(struct vfio_pci *vp, const uint8_t real[PCI_CFG_SIZE]);
/* Bus handler of every BAR (opaque: its struct vfio_bar). */
void vfio_pci__bar_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);
void vfio_pci__cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len);
void vfio_pci__msix_update(struct msix *m, void *opaque);
/* The parts of a BAR that can be mapped straight into the guest: all but
 * the pages holding the MSI-X table and PBA. Returns how many (<= 3). */
unsigned int vfio_pci__mappable(const struct vfio_pci *vp, const struct vfio_bar *bar,
				uint64_t start[3], uint64_t len[3]);

#endif /* VIOSCOPE__VFIO_PCI_H */

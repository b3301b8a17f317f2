#ifndef VIOSCOPE__PCI_H
#define VIOSCOPE__PCI_H

#include <linux/pci_regs.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/bus.h"

struct kvm;

#define PCI_CFG_SIZE		256
#define PCI_MAX_SLOTS		32
#define PCI_NUM_BARS		6
#define PCI_CONFIG_ADDRESS	0xCF8	/* configuration mechanism #1, PCI LB 3.0 3.2.2.3.2 */
#define PCI_CONFIG_DATA		0xCFC

struct pci_bar {
	uint32_t size;		/* power of two, 0 = unused */
	bool is_io;
	uint64_t mapped_at;	/* address registered on the bus, 0 = unmapped */
	bus_handler_t fn;
	void *opaque;
};

struct pci_device {
	const char *name;
	int slot;		/* bus 0, function 0 only */
	struct kvm *kvm;
	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	struct pci_bar bar[PCI_NUM_BARS];
	uint8_t last_cap;		/* offset of the last capability, 0 = none */
	uint8_t cap_free;		/* next free capability offset */
	/* Called after a guest write that touched [off, off + len). */
	void (*cfg_written)(struct pci_device *pdev, uint32_t off, uint32_t len);
	/* Called when BAR idx moved on its bus (0 = not mapped), e.g. to move
	 * the KVM memory slots of a pass-through BAR along. */
	void (*bar_moved)(struct pci_device *pdev, int idx, uint64_t old_addr, uint64_t new_addr);
	void *priv;
};

struct pci_host {
	struct kvm *kvm;
	pthread_mutex_t lock;
	uint32_t config_address;
	struct pci_device *slots[PCI_MAX_SLOTS];
	struct pci_device bridge;
	uint32_t next_pio;
	uint64_t next_mmio;
	uint64_t bad_accesses;	/* absent functions, bad sizes */
};

void pci__host_init(struct pci_host *host, struct kvm *kvm);
void pci__host_exit(struct pci_host *host);
/* Registers the host bridge at 00:00.0 and the 0xCF8/0xCFC ports. */
int pci__host_register(struct pci_host *host);

void pci__device_init(struct pci_device *pdev, const char *name, uint16_t vendor,
		      uint16_t device, uint32_t class_code);
int pci__add_bar(struct pci_device *pdev, int idx, uint32_t size, bool is_io,
		 bus_handler_t fn, void *opaque);
/* Appends a capability of len bytes; returns its config offset or 0. */
uint8_t pci__add_cap(struct pci_device *pdev, uint8_t id, uint8_t len);
/* Places the device in a free slot, assigns BAR addresses as firmware would,
 * enables decoding and maps the BARs. */
int pci__register(struct pci_host *host, struct pci_device *pdev);
/* Address of a BAR as the guest programmed it. */
uint64_t pci__bar_address(const struct pci_device *pdev, int idx);

/* Config space access as seen through mechanism #1 (exposed for tests). */
void pci__config_read(struct pci_host *host, uint32_t off_in_data, void *data, uint32_t len);
void pci__config_write(struct pci_host *host, uint32_t off_in_data, const void *data, uint32_t len);
/* Device-level access, with the write mask and BAR/command side effects. */
void pci__cfg_read(struct pci_device *pdev, uint32_t off, void *data, uint32_t len);
void pci__cfg_write(struct pci_device *pdev, uint32_t off, const void *data, uint32_t len);

static inline uint16_t pci__cfg16(const struct pci_device *p, uint32_t off)
{
	return (uint16_t)(p->cfg[off] | p->cfg[off + 1] << 8);
}

static inline uint32_t pci__cfg32(const struct pci_device *p, uint32_t off)
{
	return (uint32_t)p->cfg[off] | (uint32_t)p->cfg[off + 1] << 8 |
	       (uint32_t)p->cfg[off + 2] << 16 | (uint32_t)p->cfg[off + 3] << 24;
}

#endif /* VIOSCOPE__PCI_H */

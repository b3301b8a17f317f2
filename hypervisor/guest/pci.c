/* PCI enumeration through configuration mechanism #1 (0xCF8 / 0xCFC). */
#include "hypervisor/guest/guest.h"

#define CONFIG_ADDRESS	0xcf8
#define CONFIG_DATA	0xcfc
#define PCI_COMMAND	0x04
#define PCI_STATUS	0x06
#define PCI_BAR0	0x10
#define PCI_CAP_PTR	0x34
#define PCI_STATUS_CAP	0x10
#define PCI_CAP_MSIX	0x11

static void select_reg(uint8_t slot, uint8_t off)
{
	outl(CONFIG_ADDRESS, 0x80000000u | (uint32_t)slot << 11 | (off & 0xfc));
}

uint32_t pci_read32(uint8_t slot, uint8_t off)
{
	select_reg(slot, off);
	return inl(CONFIG_DATA);
}

void pci_write32(uint8_t slot, uint8_t off, uint32_t v)
{
	select_reg(slot, off);
	outl(CONFIG_DATA, v);
}

uint16_t pci_read16(uint8_t slot, uint8_t off)
{
	return (uint16_t)(pci_read32(slot, off) >> ((off & 2) * 8));
}

void pci_write16(uint8_t slot, uint8_t off, uint16_t v)
{
	uint32_t d = pci_read32(slot, off);
	unsigned int shift = (off & 2) * 8;

	d = (d & ~(0xffffu << shift)) | (uint32_t)v << shift;
	pci_write32(slot, off, d);
}

static void read_bars(struct pci_dev *d)
{
	unsigned int i;

	for (i = 0; i < 6; i++) {
		uint32_t v = pci_read32(d->slot, (uint8_t)(PCI_BAR0 + 4 * i));

		d->bar[i] = (v & 1) ? (v & ~3u) : (v & ~15u);
	}
}

int pci_scan(void (*cb)(struct pci_dev *dev))
{
	struct pci_dev d;
	int n = 0;
	uint8_t slot;

	for (slot = 0; slot < 32; slot++) {
		uint32_t id = pci_read32(slot, 0);

		if ((id & 0xffff) == 0xffff)
			continue;
		memset(&d, 0, sizeof(d));
		d.slot = slot;
		d.vendor = (uint16_t)id;
		d.device = (uint16_t)(id >> 16);
		read_bars(&d);
		if (cb)
			cb(&d);
		n++;
	}
	return n;
}

int pci_find(uint16_t vendor, uint16_t device, struct pci_dev *out)
{
	uint8_t slot;

	for (slot = 0; slot < 32; slot++) {
		uint32_t id = pci_read32(slot, 0);

		if ((uint16_t)id != vendor || (uint16_t)(id >> 16) != device)
			continue;
		memset(out, 0, sizeof(*out));
		out->slot = slot;
		out->vendor = vendor;
		out->device = device;
		read_bars(out);
		return 0;
	}
	return -1;
}

uint8_t pci_find_cap(uint8_t slot, uint8_t id)
{
	uint8_t off;
	int guard = 48;	/* a capability loop must not hang the guest */

	if (!(pci_read16(slot, PCI_STATUS) & PCI_STATUS_CAP))
		return 0;
	off = (uint8_t)pci_read32(slot, PCI_CAP_PTR) & 0xfc;
	while (off && guard--) {
		uint32_t hdr = pci_read32(slot, off);

		if ((hdr & 0xff) == id)
			return off;
		off = (uint8_t)(hdr >> 8) & 0xfc;
	}
	return 0;
}

int pci_msix_enable(struct pci_dev *dev, unsigned int entry, uint8_t vector)
{
	uint8_t cap = pci_find_cap(dev->slot, PCI_CAP_MSIX);
	uint32_t table, ctrl;
	uint64_t base;

	if (!cap)
		return -1;
	ctrl = pci_read16(dev->slot, (uint8_t)(cap + 2));
	if (entry > (ctrl & 0x7ff))
		return -1;
	table = pci_read32(dev->slot, (uint8_t)(cap + 4));
	base = dev->bar[table & 7] + (table & ~7u) + 16 * entry;
	/* Message address: LAPIC of this CPU, fixed delivery, edge (SDM 10.11). */
	mmio_write32(base + 0, 0xfee00000u | lapic_id() << 12);
	mmio_write32(base + 4, 0);
	mmio_write32(base + 8, vector);
	mmio_write32(base + 12, 0);	/* unmask */
	pci_write16(dev->slot, (uint8_t)(cap + 2), (uint16_t)((ctrl & ~0x4000u) | 0x8000u));
	return 0;
}

/*
 * PCI host bridge with configuration mechanism #1 (PCI Local Bus 3.0,
 * 3.2.2.3.2) and type-0 configuration headers (6.1). BARs follow the sizing
 * protocol of 6.2.5.1: writable bits are the address bits above the size, so
 * writing all ones reads back the size mask.
 */
#include "hypervisor/pci.h"

#include <errno.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "lib/log.h"

#define PCI_CAP_FIRST	0x40
#define CMD_WMASK	(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | \
			 PCI_COMMAND_INTX_DISABLE)

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

void pci__device_init(struct pci_device *pdev, const char *name, uint16_t vendor,
		      uint16_t device, uint32_t class_code)
{
	memset(pdev, 0, sizeof(*pdev));
	pdev->name = name;
	pdev->slot = -1;
	pdev->cap_free = PCI_CAP_FIRST;
	put16(&pdev->cfg[PCI_VENDOR_ID], vendor);
	put16(&pdev->cfg[PCI_DEVICE_ID], device);
	pdev->cfg[PCI_CLASS_PROG] = (uint8_t)class_code;
	put16(&pdev->cfg[PCI_CLASS_DEVICE], (uint16_t)(class_code >> 8));
	pdev->cfg[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	put16(&pdev->cfg[PCI_SUBSYSTEM_VENDOR_ID], vendor);
	put16(&pdev->cfg[PCI_SUBSYSTEM_ID], device);
	put16(&pdev->wmask[PCI_COMMAND], CMD_WMASK);
	pdev->wmask[PCI_CACHE_LINE_SIZE] = 0xff;
	pdev->wmask[PCI_LATENCY_TIMER] = 0xff;
	pdev->wmask[PCI_INTERRUPT_LINE] = 0xff;
}

int pci__add_bar(struct pci_device *pdev, int idx, uint32_t size, bool is_io,
		 bus_handler_t fn, void *opaque)
{
	uint32_t off = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)idx;
	uint32_t flags_mask = is_io ? ~PCI_BASE_ADDRESS_IO_MASK : ~PCI_BASE_ADDRESS_MEM_MASK;

	if (idx < 0 || idx >= PCI_NUM_BARS || size == 0 || (size & (size - 1)) ||
	    (is_io && (size < 4 || size > 256)) || (!is_io && size < 16))
		return -EINVAL;
	pdev->bar[idx] = (struct pci_bar){
		.size = size, .is_io = is_io, .fn = fn, .opaque = opaque,
	};
	put32(&pdev->cfg[off], is_io ? PCI_BASE_ADDRESS_SPACE_IO : 0);
	put32(&pdev->wmask[off], ~(size - 1) & ~flags_mask);
	return 0;
}

uint8_t pci__add_cap(struct pci_device *pdev, uint8_t id, uint8_t len)
{
	uint8_t off = pdev->cap_free;

	if (len < 2 || (unsigned int)off + len > PCI_CFG_SIZE)
		return 0;
	pdev->cfg[off + PCI_CAP_LIST_ID] = id;
	pdev->cfg[off + PCI_CAP_LIST_NEXT] = 0;
	if (pdev->last_cap)
		pdev->cfg[pdev->last_cap + PCI_CAP_LIST_NEXT] = off;
	else
		pdev->cfg[PCI_CAPABILITY_LIST] = off;
	pdev->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	pdev->last_cap = off;
	pdev->cap_free = (uint8_t)((off + len + 3) & ~3);
	return off;
}

uint64_t pci__bar_address(const struct pci_device *pdev, int idx)
{
	uint32_t v = pci__cfg32(pdev, PCI_BASE_ADDRESS_0 + 4 * (uint32_t)idx);

	return pdev->bar[idx].is_io ? (v & PCI_BASE_ADDRESS_IO_MASK)
				    : (v & PCI_BASE_ADDRESS_MEM_MASK);
}

/* Keeps the bus mappings equal to what the command register and BARs say. */
static void pci__update_bars(struct pci_device *pdev)
{
	uint16_t cmd = pci__cfg16(pdev, PCI_COMMAND);
	int i;

	if (!pdev->kvm)
		return;
	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &pdev->bar[i];
		struct bus *bus;
		uint64_t want;

		if (!bar->size)
			continue;
		bus = bar->is_io ? &pdev->kvm->pio_bus : &pdev->kvm->mmio_bus;
		want = pci__bar_address(pdev, i);
		if (!(cmd & (bar->is_io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) ||
		    (bar->is_io && want + bar->size > 0x10000))
			want = 0;
		uint64_t old = bar->mapped_at;

		if (want == old)
			continue;
		if (old)
			bus__deregister(bus, old);
		bar->mapped_at = 0;
		if (want && bus__register(bus, want, bar->size, bar->fn, bar->opaque, pdev->name)) {
			pr_warn_ratelimited("%s: BAR%d at %#llx overlaps another region, left unmapped",
					    pdev->name, i, (unsigned long long)want);
			want = 0;
		}
		bar->mapped_at = want;
		if (pdev->bar_moved && old != want)
			pdev->bar_moved(pdev, i, old, want);
	}
}

void pci__cfg_read(struct pci_device *pdev, uint32_t off, void *data, uint32_t len)
{
	if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(data, &pdev->cfg[off], len);
}

void pci__cfg_write(struct pci_device *pdev, uint32_t off, const void *data, uint32_t len)
{
	const uint8_t *v = data;
	uint32_t i;

	if (off >= PCI_CFG_SIZE || len > PCI_CFG_SIZE - off)
		return;
	for (i = 0; i < len; i++) {
		uint8_t m = pdev->wmask[off + i];

		pdev->cfg[off + i] = (uint8_t)((pdev->cfg[off + i] & ~m) | (v[i] & m));
	}
	if (off < PCI_COMMAND + 2 && off + len > PCI_COMMAND)
		pci__update_bars(pdev);
	else if (off < PCI_BASE_ADDRESS_5 + 4 && off + len > PCI_BASE_ADDRESS_0)
		pci__update_bars(pdev);
	if (pdev->cfg_written)
		pdev->cfg_written(pdev, off, len);
}

static struct pci_device *pci__selected(struct pci_host *host, uint32_t *reg)
{
	uint32_t a = host->config_address;
	unsigned int bus = (a >> 16) & 0xff, dev = (a >> 11) & 0x1f, fn = (a >> 8) & 7;

	if (!(a & 0x80000000u) || bus != 0 || fn != 0)
		return NULL;
	*reg = a & 0xfc;
	return host->slots[dev];
}

void pci__config_read(struct pci_host *host, uint32_t off, void *data, uint32_t len)
{
	struct pci_device *pdev;
	uint32_t reg;

	pthread_mutex_lock(&host->lock);
	pdev = pci__selected(host, &reg);
	if (pdev && off + len <= 4)
		pci__cfg_read(pdev, reg + off, data, len);
	else
		memset(data, 0xff, len);	/* no device: master abort reads all ones */
	pthread_mutex_unlock(&host->lock);
}

void pci__config_write(struct pci_host *host, uint32_t off, const void *data, uint32_t len)
{
	struct pci_device *pdev;
	uint32_t reg;

	pthread_mutex_lock(&host->lock);
	pdev = pci__selected(host, &reg);
	if (pdev && off + len <= 4)
		pci__cfg_write(pdev, reg + off, data, len);
	pthread_mutex_unlock(&host->lock);
}

static void pci__address_io(void *opaque, uint64_t off, void *data, uint32_t len,
			    bool is_write)
{
	struct pci_host *host = opaque;

	/* Only dword accesses hit CONFIG_ADDRESS (0xCF9 is the reset register). */
	if (off != 0 || len != 4) {
		if (!is_write)
			memset(data, 0xff, len);
		__atomic_add_fetch(&host->bad_accesses, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&host->lock);
	if (is_write)
		memcpy(&host->config_address, data, 4);
	else
		memcpy(data, &host->config_address, 4);
	pthread_mutex_unlock(&host->lock);
}

static void pci__data_io(void *opaque, uint64_t off, void *data, uint32_t len,
			 bool is_write)
{
	if (is_write)
		pci__config_write(opaque, (uint32_t)off, data, len);
	else
		pci__config_read(opaque, (uint32_t)off, data, len);
}

void pci__host_init(struct pci_host *host, struct kvm *kvm)
{
	memset(host, 0, sizeof(*host));
	host->kvm = kvm;
	pthread_mutex_init(&host->lock, NULL);
	host->next_pio = KVM_PCI_PIO_BASE;
	host->next_mmio = KVM_PCI_MMIO_BASE;
}

void pci__host_exit(struct pci_host *host)
{
	pthread_mutex_destroy(&host->lock);
}

int pci__host_register(struct pci_host *host)
{
	int ret;

	/* Intel 440FX host bridge IDs: what guests expect at 00:00.0. */
	pci__device_init(&host->bridge, "pci-host", 0x8086, 0x1237, 0x060000);
	ret = pci__register(host, &host->bridge);
	if (ret)
		return ret;
	ret = bus__register(&host->kvm->pio_bus, PCI_CONFIG_ADDRESS, 4,
			    pci__address_io, host, "pci-config-address");
	if (ret)
		return ret;
	return bus__register(&host->kvm->pio_bus, PCI_CONFIG_DATA, 4,
			     pci__data_io, host, "pci-config-data");
}

int pci__register(struct pci_host *host, struct pci_device *pdev)
{
	uint16_t cmd = 0;
	int slot, i;

	for (slot = 0; slot < PCI_MAX_SLOTS && host->slots[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS)
		return -ENOSPC;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct pci_bar *bar = &pdev->bar[i];
		uint32_t off = PCI_BASE_ADDRESS_0 + 4 * (uint32_t)i;
		uint64_t addr;

		if (!bar->size)
			continue;
		if (bar->is_io) {
			addr = (host->next_pio + bar->size - 1) & ~(uint64_t)(bar->size - 1);
			if (addr + bar->size > 0x10000)
				return -ENOSPC;
			host->next_pio = (uint32_t)(addr + bar->size);
			cmd |= PCI_COMMAND_IO;
		} else {
			addr = (host->next_mmio + bar->size - 1) & ~(uint64_t)(bar->size - 1);
			if (addr + bar->size > KVM_PCI_MMIO_END)
				return -ENOSPC;
			host->next_mmio = addr + bar->size;
			cmd |= PCI_COMMAND_MEMORY;
		}
		put32(&pdev->cfg[off], (uint32_t)addr |
		      (bar->is_io ? PCI_BASE_ADDRESS_SPACE_IO : 0));
	}
	pdev->kvm = host->kvm;
	pdev->slot = slot;
	host->slots[slot] = pdev;
	/* As firmware leaves it: decoding and bus mastering on. */
	put16(&pdev->cfg[PCI_COMMAND], cmd | PCI_COMMAND_MASTER);
	pci__update_bars(pdev);
	return 0;
}

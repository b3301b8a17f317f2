/*
 * Generic PCI pass-through with VFIO (Documentation/driver-api/vfio.rst):
 * the host device, bound to vfio-pci, is given to the guest. Guest RAM is
 * mapped for DMA through the IOMMU at IOVA = guest-physical address; the
 * device's MSI-X vectors signal eventfds that are KVM irqfds, so device
 * interrupts reach the guest without passing through this process.
 *
 * What the guest sees is our own configuration header, filled from the
 * device's: BARs are emulated (every memory BAR as 32-bit, sized from the
 * VFIO regions), the MSI-X capability is emulated (its table is trapped),
 * MSI is hidden so drivers pick MSI-X, and other capabilities are shown
 * read-only. Command-register writes go through to the device (memory
 * decode and bus mastering must reach it). Memory BARs that VFIO lets us
 * mmap become KVM memory slots wherever the guest puts them, except the
 * pages of the MSI-X table and PBA, which trap; other BARs trap whole and
 * are forwarded with pread/pwrite on the region. INTx is not offered.
 *
 * Usage: vioscope-vmm --passthrough 0000:00:04.0[,bars=trap] (the device
 * bound to vfio-pci, its IOMMU group viable; bars=trap forwards every BAR
 * access instead of mapping, to measure what mapping saves).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/vfio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/vfio-pci.h"
#include "hypervisor/kvm.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"
#include "lib/log.h"

static int vfio_cfg_pread(struct vfio_pci *vp, void *buf, size_t len, uint64_t off)
{
	return pread(vp->fd, buf, len, (off_t)(vp->cfg.offset + off)) == (ssize_t)len ? 0 : -EIO;
}

/* BAR accesses: the MSI-X table and PBA are ours, the rest is the device's. */
void vfio_pci__bar_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct vfio_bar *bar = opaque;
	struct vfio_pci *vp = bar->vp;
	ssize_t n;

	if (bar->idx == vp->msix_bar &&
	    ((off >= vp->msix_table_off && off < vp->msix_table_off + vp->msix.nr * MSIX_ENTRY_SIZE) ||
	     (off >= vp->msix_pba_off && off < vp->msix_pba_off + 8))) {
		msix__mmio(&vp->msix, off, data, len, is_write);
		return;
	}
	DTRACE_PROBE4(vioscope, vfio_bar, bar->idx, off, len, is_write);
	if (is_write) {
		counter__inc(vp->bar_writes);
		n = pwrite(vp->fd, data, len, (off_t)(bar->info.offset + off));
	} else {
		counter__inc(vp->bar_reads);
		n = pread(vp->fd, data, len, (off_t)(bar->info.offset + off));
	}
	if (n != (ssize_t)len) {
		if (!is_write)
			memset(data, 0xff, len);
		pr_warn_ratelimited("%s: BAR%d %s at %#llx failed", vp->dev->name, bar->idx,
				    is_write ? "write" : "read", (unsigned long long)off);
	}
}

/* Installs (or removes) the device's MSI-X triggers: each vector's eventfd
 * is the irqfd of its KVM route. */
void vfio_pci__msix_update(struct msix *m, void *opaque)
{
	struct vfio_pci *vp = opaque;
	bool want = msix__enabled(m);
	struct vfio_irq_set *set;
	size_t sz = sizeof(*set) + m->nr * sizeof(int32_t);
	int32_t *fds;
	unsigned int v;

	/* Routes follow the table even while triggers stay installed. */
	if (want)
		for (v = 0; v < m->nr; v++)
			msix__vector_fd(m, v);
	if (want == vp->msix_on)
		return;
	set = calloc(1, sz);
	if (!set)
		return;
	set->argsz = (uint32_t)sz;
	set->index = VFIO_PCI_MSIX_IRQ_INDEX;
	set->start = 0;
	if (want) {
		set->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->count = m->nr;
		fds = (int32_t *)set->data;
		for (v = 0; v < m->nr; v++)
			fds[v] = msix__vector_fd(m, v);
	} else {
		set->argsz = sizeof(*set);
		set->flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
		set->count = 0;
	}
	if (ioctl(vp->fd, VFIO_DEVICE_SET_IRQS, set) == 0)
		vp->msix_on = want;
	else
		pr_warn("%s: VFIO_DEVICE_SET_IRQS (MSI-X %s): %s", vp->dev->name,
			want ? "on" : "off", strerror(errno));
	free(set);
}

void vfio_pci__cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len)
{
	struct vfio_pci *vp = pdev->priv;

	counter__inc(vp->cfg_writes);
	/* Memory/IO decode and bus mastering must reach the real device. */
	if (off < PCI_COMMAND + 2 && off + len > PCI_COMMAND &&
	    pwrite(vp->fd, &pdev->cfg[PCI_COMMAND], 2, (off_t)(vp->cfg.offset + PCI_COMMAND)) != 2)
		pr_warn("%s: command register write failed", vp->dev->name);
	if (vp->msix_bar >= 0)
		msix__cfg_written(&vp->msix, off, len);
}

static int vfio_open(struct vfio_pci *vp)
{
	struct vfio_group_status status = { .argsz = sizeof(status) };
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", vp->bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		pr_err("--passthrough %s: no such device or no IOMMU group (%s)", vp->bdf,
		       strerror(errno));
		return -ENODEV;
	}
	link[n] = 0;
	vp->container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (vp->container < 0) {
		pr_err("--passthrough: /dev/vfio/vfio: %s (load vfio-pci)", strerror(errno));
		return -errno;
	}
	if (ioctl(vp->container, VFIO_GET_API_VERSION) != VFIO_API_VERSION ||
	    ioctl(vp->container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("--passthrough: VFIO type1v2 IOMMU not supported");
		return -ENOTSUP;
	}
	snprintf(path, sizeof(path), "/dev/vfio/%s", basename(link));
	vp->group = open(path, O_RDWR | O_CLOEXEC);
	if (vp->group < 0) {
		pr_err("--passthrough %s: %s: %s (is it bound to vfio-pci?)", vp->bdf, path,
		       strerror(errno));
		return -errno;
	}
	if (ioctl(vp->group, VFIO_GROUP_GET_STATUS, &status) < 0 ||
	    !(status.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("--passthrough %s: IOMMU group not viable (bind every device in it to vfio-pci)",
		       vp->bdf);
		return -EBUSY;
	}
	if (ioctl(vp->group, VFIO_GROUP_SET_CONTAINER, &vp->container) < 0 ||
	    ioctl(vp->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0) {
		pr_err("--passthrough %s: attaching the IOMMU: %s", vp->bdf, strerror(errno));
		return -errno;
	}
	vp->fd = ioctl(vp->group, VFIO_GROUP_GET_DEVICE_FD, vp->bdf);
	if (vp->fd < 0) {
		pr_err("--passthrough %s: VFIO_GROUP_GET_DEVICE_FD: %s", vp->bdf, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Guest RAM at IOVA = GPA: what the guest driver programs is a GPA. */
static int vfio_map_ram(struct vfio_pci *vp, struct kvm *kvm)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)kvm->ram,
		.iova = 0,
		.size = kvm->ram_size,
	};

	if (ioctl(vp->container, VFIO_IOMMU_MAP_DMA, &map) < 0) {
		pr_err("--passthrough %s: VFIO_IOMMU_MAP_DMA of guest RAM: %s", vp->bdf,
		       strerror(errno));
		return -errno;
	}
	return 0;
}

/* Reads the device's config space and BAR regions, then builds ours. */
static int vfio_setup_config(struct vfio_pci *vp)
{
	uint8_t real[PCI_CFG_SIZE];
	int i;

	vp->cfg = (struct vfio_region_info){ .argsz = sizeof(vp->cfg),
					     .index = VFIO_PCI_CONFIG_REGION_INDEX };
	if (ioctl(vp->fd, VFIO_DEVICE_GET_REGION_INFO, &vp->cfg) < 0 ||
	    vfio_cfg_pread(vp, real, sizeof(real), 0))
		return -EIO;
	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *bar = &vp->bars[i];

		bar->info = (struct vfio_region_info){ .argsz = sizeof(bar->info), .index = (uint32_t)i };
		if (ioctl(vp->fd, VFIO_DEVICE_GET_REGION_INFO, &bar->info) < 0)
			bar->info.size = 0;
	}
	return vfio_pci__build_config(vp, real);
}

int vfio_pci__build_config(struct vfio_pci *vp, const uint8_t real[PCI_CFG_SIZE])
{
	uint32_t class_code;
	uint8_t cap;
	int i, ret, guard = 48;

	class_code = (uint32_t)real[PCI_CLASS_PROG] | (uint32_t)real[PCI_CLASS_DEVICE] << 8 |
		     (uint32_t)real[PCI_CLASS_DEVICE + 1] << 16;
	pci__device_init(&vp->pci, vp->dev->name, (uint16_t)(real[0] | real[1] << 8),
			 (uint16_t)(real[2] | real[3] << 8), class_code);
	vp->pci.cfg[PCI_REVISION_ID] = real[PCI_REVISION_ID];
	memcpy(&vp->pci.cfg[PCI_SUBSYSTEM_VENDOR_ID], &real[PCI_SUBSYSTEM_VENDOR_ID], 4);
	vp->pci.priv = vp;
	vp->pci.cfg_written = vfio_pci__cfg_written;

	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *bar = &vp->bars[i];
		uint32_t raw;
		uint64_t size;

		bar->vp = vp;
		bar->idx = i;
		if (!bar->info.size)
			continue;
		size = bar->info.size;
		memcpy(&raw, &real[PCI_BASE_ADDRESS_0 + 4 * i], 4);
		if (size > (1u << 30) || (size & (size - 1))) {
			pr_warn("%s: BAR%d of %llu bytes not passed through", vp->dev->name, i,
				(unsigned long long)size);
			continue;
		}
		ret = pci__add_bar(&vp->pci, i, (uint32_t)(size < 16 ? 16 : size),
				   raw & PCI_BASE_ADDRESS_SPACE_IO, vfio_pci__bar_io, bar);
		if (ret)
			return ret;
	}

	/* Capabilities: MSI-X emulated, MSI hidden, the others read-only. */
	vp->msix_bar = -1;
	cap = (real[PCI_STATUS] & PCI_STATUS_CAP_LIST) ? real[PCI_CAPABILITY_LIST] & 0xfc : 0;
	while (cap && guard--) {
		uint8_t id = real[cap], next = real[cap + 1] & 0xfc;

		if (id == PCI_CAP_ID_MSIX) {
			uint16_t ctrl = (uint16_t)(real[cap + 2] | real[cap + 3] << 8);
			uint32_t table, pba;

			memcpy(&table, &real[cap + PCI_MSIX_TABLE], 4);
			memcpy(&pba, &real[cap + PCI_MSIX_PBA], 4);
			if ((table & 7) != (pba & 7)) {
				pr_warn("%s: MSI-X table and PBA in different BARs: MSI-X hidden",
					vp->dev->name);
			} else {
				unsigned int nr = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;

				vp->msix_bar = (int)(table & 7);
				vp->msix_table_off = table & ~7u;
				vp->msix_pba_off = pba & ~7u;
				ret = msix__init(&vp->msix, &vp->pci,
						 nr > MSIX_MAX_VECTORS ? MSIX_MAX_VECTORS : nr,
						 vp->msix_bar, vp->msix_table_off, vp->msix_pba_off);
				if (ret)
					return ret;
				vp->msix.changed = vfio_pci__msix_update;
				vp->msix.changed_opaque = vp;
			}
		} else if (id != PCI_CAP_ID_MSI) {
			uint8_t len = (uint8_t)((next > cap ? next : PCI_CFG_SIZE) - cap);
			uint8_t off = pci__add_cap(&vp->pci, id, len > 64 ? 64 : len);

			if (off)
				memcpy(&vp->pci.cfg[off + 2], &real[cap + 2], (len > 64 ? 64 : len) - 2);
		}
		cap = next;
	}
	return 0;
}

#define PAGE 4096ULL

unsigned int vfio_pci__mappable(const struct vfio_pci *vp, const struct vfio_bar *bar,
				uint64_t start[3], uint64_t len[3])
{
	uint64_t size = bar->info.size, holes[2][2], pos = 0;
	unsigned int n = 0, h, nh = 0;

	if (bar->idx == vp->msix_bar) {
		holes[0][0] = vp->msix_table_off & ~(PAGE - 1);
		holes[0][1] = (vp->msix_table_off + vp->msix.nr * MSIX_ENTRY_SIZE + PAGE - 1) & ~(PAGE - 1);
		holes[1][0] = vp->msix_pba_off & ~(PAGE - 1);
		holes[1][1] = (vp->msix_pba_off + 8 + PAGE - 1) & ~(PAGE - 1);
		nh = 2;
		if (holes[1][0] < holes[0][0]) {	/* keep them in order */
			uint64_t t0 = holes[0][0], t1 = holes[0][1];

			holes[0][0] = holes[1][0];
			holes[0][1] = holes[1][1];
			holes[1][0] = t0;
			holes[1][1] = t1;
		}
	}
	for (h = 0; h <= nh; h++) {
		uint64_t end = h < nh ? holes[h][0] : size;

		if (end > size)
			end = size;
		if (end > pos) {
			start[n] = pos;
			len[n++] = end - pos;
		}
		if (h < nh && holes[h][1] > pos)
			pos = holes[h][1];
	}
	return n;
}

static void vfio_bar_mmap(struct vfio_pci *vp, struct vfio_bar *bar)
{
	void *p;

	if (!(bar->info.flags & VFIO_REGION_INFO_FLAG_MMAP) || bar->info.size < PAGE ||
	    vp->pci.bar[bar->idx].is_io)
		return;
	p = mmap(NULL, bar->info.size, PROT_READ | PROT_WRITE, MAP_SHARED, vp->fd,
		 (off_t)bar->info.offset);
	if (p == MAP_FAILED) {
		pr_warn("%s: BAR%d cannot be mapped (%s): it traps", vp->dev->name, bar->idx,
			strerror(errno));
		return;
	}
	bar->map = p;
}

/* The guest moved (or enabled, or disabled) a BAR: its memory slots follow. */
static void vfio_bar_moved(struct pci_device *pdev, int idx, uint64_t old_addr, uint64_t new_addr)
{
	struct vfio_pci *vp = pdev->priv;
	struct vfio_bar *bar = &vp->bars[idx];
	uint64_t start[3], len[3];
	unsigned int i, n;

	(void)old_addr;
	if (!bar->map)
		return;
	for (i = 0; i < bar->nr_slots; i++)
		kvm__unmap_user(vp->dev->kvm, bar->slots[i]);
	bar->nr_slots = 0;
	if (!new_addr)
		return;
	n = vfio_pci__mappable(vp, bar, start, len);
	for (i = 0; i < n; i++) {
		int slot = kvm__map_user(vp->dev->kvm, new_addr + start[i], len[i],
					 (uint8_t *)bar->map + start[i]);

		if (slot < 0) {
			pr_warn("%s: BAR%d piece at %#llx traps instead (%s)", vp->dev->name, idx,
				(unsigned long long)(new_addr + start[i]), strerror(-slot));
			continue;
		}
		bar->slots[bar->nr_slots++] = slot;
	}
}

static void vfio_close(struct vfio_pci *vp)
{
	if (vp->fd >= 0)
		close(vp->fd);
	if (vp->group >= 0)
		close(vp->group);
	if (vp->container >= 0)
		close(vp->container);
}

static int vfio_pci__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_pci *vp = calloc(1, sizeof(*vp));
	int i, ret, mapped = 0;

	if (!vp)
		return -ENOMEM;
	vp->dev = dev;
	vp->container = vp->group = vp->fd = -1;
	vp->msix_bar = -1;
	dev->priv = vp;
	if (!args || !*args || strcspn(args, ",") >= sizeof(vp->bdf)) {
		pr_err("--passthrough needs a PCI address like 0000:00:04.0");
		return -EINVAL;
	}
	snprintf(vp->bdf, sizeof(vp->bdf), "%.*s", (int)strcspn(args, ","), args);
	/* BDF,bars=trap: forward every BAR access (to compare with mapped BARs). */
	if (args[strlen(vp->bdf)]) {
		const char *opt = args + strlen(vp->bdf) + 1;

		if (!strcmp(opt, "bars=trap")) {
			vp->trap_bars = true;
		} else if (strcmp(opt, "bars=map")) {
			pr_err("--passthrough %s: unknown option '%s' (bars=map or bars=trap)", vp->bdf, opt);
			return -EINVAL;
		}
	}
	vp->bar_reads = metrics__counter(&dev->metrics, "bar_reads");
	vp->bar_writes = metrics__counter(&dev->metrics, "bar_writes");
	vp->cfg_writes = metrics__counter(&dev->metrics, "config_writes");

	ret = vfio_open(vp);
	if (ret)
		return ret;
	if (ioctl(vp->fd, VFIO_DEVICE_GET_INFO, &info) < 0 || !(info.flags & VFIO_DEVICE_FLAGS_PCI)) {
		pr_err("--passthrough %s: not a PCI device", vp->bdf);
		return -ENODEV;
	}
	/* Start from a clean device when it can be reset (FLR, PM or bus). */
	if ((info.flags & VFIO_DEVICE_FLAGS_RESET) && ioctl(vp->fd, VFIO_DEVICE_RESET) < 0)
		pr_warn("%s: VFIO_DEVICE_RESET: %s", vp->bdf, strerror(errno));
	ret = vfio_map_ram(vp, kvm);
	if (!ret)
		ret = vfio_setup_config(vp);
	if (ret)
		return ret;
	for (i = 0; i < PCI_NUM_BARS && !vp->trap_bars; i++)
		if (vp->pci.bar[i].size)
			vfio_bar_mmap(vp, &vp->bars[i]);
	vp->pci.bar_moved = vfio_bar_moved;
	ret = pci__register(&kvm->pci, &vp->pci);
	if (ret)
		return ret;
	/* The device's own command register follows ours (decode, mastering). */
	vfio_pci__cfg_written(&vp->pci, PCI_COMMAND, 2);
	for (i = 0; i < PCI_NUM_BARS; i++)
		mapped += (int)vp->bars[i].nr_slots;
	pr_info("%s: %s passed through (%04x:%04x, MSI-X %s, %d BAR pieces mapped, the rest traps)",
		dev->name, vp->bdf, pci__cfg16(&vp->pci, PCI_VENDOR_ID),
		pci__cfg16(&vp->pci, PCI_DEVICE_ID), vp->msix_bar >= 0 ? "emulated" : "absent", mapped);
	return 0;
}

static void vfio_pci__exit(struct device *dev)
{
	struct vfio_pci *vp = dev->priv;
	int i;

	if (vp->msix_on) {
		struct vfio_irq_set set = {
			.argsz = sizeof(set), .index = VFIO_PCI_MSIX_IRQ_INDEX,
			.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
		};

		ioctl(vp->fd, VFIO_DEVICE_SET_IRQS, &set);
	}
	if (vp->msix_bar >= 0)
		msix__exit(&vp->msix);
	for (i = 0; i < PCI_NUM_BARS; i++) {
		struct vfio_bar *bar = &vp->bars[i];

		while (bar->nr_slots)
			kvm__unmap_user(dev->kvm, bar->slots[--bar->nr_slots]);
		if (bar->map)
			munmap(bar->map, bar->info.size);
	}
	vfio_close(vp);
	free(vp);
}

static const struct device_ops vfio_pci_ops = {
	.name = "vfio-pci",
	.help = "PCI pass-through of a host device bound to vfio-pci (--passthrough BDF)",
	.init = vfio_pci__init,
	.exit = vfio_pci__exit,
};
device_register(vfio_pci_ops);

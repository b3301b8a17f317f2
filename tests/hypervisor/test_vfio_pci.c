/* The guest-visible config space vfio-pci builds from a device's own: no
 * VFIO needed, the device is a synthetic NVMe-like config space. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/vfio-pci.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "tests/helpers.h"

static struct kvm *kvm;
static struct device dev;
static struct vfio_pci vp;
static uint8_t real[PCI_CFG_SIZE];

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* QEMU's NVMe, roughly: 64-bit BAR0 of 16 KiB, PM, MSI, PCIe and MSI-X
 * (64 vectors, table at 0x2000 and PBA at 0x3000 of BAR0). */
static void make_device(uint32_t pba_bir)
{
	memset(real, 0, sizeof(real));
	put16(real + PCI_VENDOR_ID, 0x1b36);
	put16(real + PCI_DEVICE_ID, 0x0010);
	real[PCI_REVISION_ID] = 2;
	real[PCI_CLASS_PROG] = 0x02;
	put16(real + PCI_CLASS_DEVICE, 0x0108);
	put16(real + PCI_SUBSYSTEM_VENDOR_ID, 0x1af4);
	put16(real + PCI_SUBSYSTEM_ID, 0x1100);
	put32(real + PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_MEM_TYPE_64);
	real[PCI_STATUS] = PCI_STATUS_CAP_LIST;
	real[PCI_CAPABILITY_LIST] = 0x40;
	real[0x40] = PCI_CAP_ID_PM; real[0x41] = 0x50;
	real[0x50] = PCI_CAP_ID_MSI; real[0x51] = 0x60;
	real[0x60] = PCI_CAP_ID_EXP; real[0x61] = 0x80;
	real[0x62] = 0x02; real[0x64] = 0xa5;	/* PCIe version 2, some device caps */
	real[0x80] = PCI_CAP_ID_MSIX; real[0x81] = 0;
	put16(real + 0x82, 63);			/* 64 vectors */
	put32(real + 0x84, 0x2000 | 0);
	put32(real + 0x88, 0x3000 | pba_bir);
	memset(&vp, 0, sizeof(vp));
	vp.dev = &dev;
	vp.fd = vp.group = vp.container = -1;
	vp.bars[0].info.size = 0x4000;
}

static void setup(void)
{
	log_level = LOG_ERR;
	kvm = test_fake_kvm();
	memset(&dev, 0, sizeof(dev));
	snprintf(dev.name, sizeof(dev.name), "vfio-pci0");
	dev.kvm = kvm;
	make_device(0);
	vp.bar_reads = metrics__counter(&dev.metrics, "bar_reads");
	vp.bar_writes = metrics__counter(&dev.metrics, "bar_writes");
	vp.cfg_writes = metrics__counter(&dev.metrics, "config_writes");
	cr_assert_eq(vfio_pci__build_config(&vp, real), 0);
	cr_assert_eq(pci__register(&kvm->pci, &vp.pci), 0);
}

static void teardown(void)
{
	if (vp.msix_bar >= 0)
		msix__exit(&vp.msix);
	test_fake_kvm_free(kvm);
}

TestSuite(vfio_pci, .init = setup, .fini = teardown);

static uint32_t cfg32(uint32_t off)
{
	uint32_t v;

	pci__cfg_read(&vp.pci, off, &v, 4);
	return v;
}

Test(vfio_pci, identity_comes_from_the_device)
{
	cr_assert_eq(cfg32(0), 0x00101b36);
	cr_assert_eq(cfg32(PCI_CLASS_REVISION), 0x01080202);
	cr_assert_eq(cfg32(PCI_SUBSYSTEM_VENDOR_ID), 0x11001af4);
}

Test(vfio_pci, memory_bars_are_32_bit_and_size_like_the_region)
{
	uint32_t ones = 0xffffffff;

	pci__cfg_write(&vp.pci, PCI_BASE_ADDRESS_0, &ones, 4);
	pci__cfg_write(&vp.pci, PCI_BASE_ADDRESS_1, &ones, 4);
	cr_assert_eq(cfg32(PCI_BASE_ADDRESS_0), 0xffffc000, "16 KiB, 32-bit, non-prefetchable");
	cr_assert_eq(cfg32(PCI_BASE_ADDRESS_1), 0, "no upper half");
}

Test(vfio_pci, msi_is_hidden_msix_emulated_others_kept)
{
	uint8_t ids[8], n = 0, cap = vp.pci.cfg[PCI_CAPABILITY_LIST];

	while (cap && n < 8) {
		ids[n++] = vp.pci.cfg[cap];
		cap = vp.pci.cfg[cap + 1];
	}
	cr_assert_eq(n, 3);
	cr_assert_eq(ids[0], PCI_CAP_ID_PM);
	cr_assert_eq(ids[1], PCI_CAP_ID_EXP);
	cr_assert_eq(ids[2], PCI_CAP_ID_MSIX);
	cr_assert_eq(vp.msix_bar, 0);
	cr_assert_eq(pci__cfg32(&vp.pci, vp.msix.cap + PCI_MSIX_TABLE), 0x2000);
	cr_assert_eq(pci__cfg32(&vp.pci, vp.msix.cap + PCI_MSIX_PBA), 0x3000);
	cr_assert_eq(pci__cfg16(&vp.pci, vp.msix.cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE,
		     MSIX_MAX_VECTORS - 1, "vector count clamped to what we emulate");
}

Test(vfio_pci, copied_capabilities_are_read_only)
{
	uint8_t pcie = vp.pci.cfg[vp.pci.cfg[PCI_CAPABILITY_LIST] + 1];
	uint32_t v = 0;

	cr_assert_eq(vp.pci.cfg[pcie + 4], 0xa5);
	pci__cfg_write(&vp.pci, pcie + 4, &v, 4);
	cr_assert_eq(vp.pci.cfg[pcie + 4], 0xa5);
}

Test(vfio_pci, msix_table_in_the_bar_is_ours)
{
	uint32_t v = 0x4d, r = 0;

	vfio_pci__bar_io(&vp.bars[0], 0x2000 + 3 * 16 + 8, &v, 4, true);
	vfio_pci__bar_io(&vp.bars[0], 0x2000 + 3 * 16 + 8, &r, 4, false);
	cr_assert_eq(r, 0x4d);
	vfio_pci__bar_io(&vp.bars[0], 0x2000 + 3 * 16 + 12, &r, 4, false);
	cr_assert_eq(r, 1, "vectors start masked");
	vfio_pci__bar_io(&vp.bars[0], 0x3000, &r, 4, false);
	cr_assert_eq(r, 0, "PBA");
	cr_assert_eq(metrics__value(&dev.metrics, "bar_reads"), 0, "nothing reached the device");
}

Test(vfio_pci, other_bar_accesses_go_to_the_device)
{
	uint32_t r = 0;

	/* No device behind fd -1: the read fails and floats high. */
	vfio_pci__bar_io(&vp.bars[0], 0x1c, &r, 4, false);
	cr_assert_eq(r, 0xffffffff);
	cr_assert_eq(metrics__value(&dev.metrics, "bar_reads"), 1);
}

Test(vfio_pci, msix_split_across_bars_is_hidden)
{
	msix__exit(&vp.msix);
	make_device(4);
	vp.bars[0].info.size = 0x4000;
	cr_assert_eq(vfio_pci__build_config(&vp, real), 0);
	cr_assert_eq(vp.msix_bar, -1);
	cr_assert_eq(vp.pci.cfg[vp.pci.last_cap], PCI_CAP_ID_EXP);
}

Test(vfio_pci, only_the_msix_pages_of_a_bar_trap)
{
	uint64_t start[3], len[3];
	unsigned int n;

	/* NVMe: table 0x2000 (32 x 16 B), PBA 0x3000, BAR 16 KiB: map the registers and doorbells. */
	n = vfio_pci__mappable(&vp, &vp.bars[0], start, len);
	cr_assert_eq(n, 1);
	cr_assert_eq(start[0], 0);
	cr_assert_eq(len[0], 0x2000);

	/* Table and PBA sharing the first page of a bigger BAR. */
	vp.bars[0].info.size = 0x20000;
	vp.msix_table_off = 0;
	vp.msix_pba_off = 0x800;
	n = vfio_pci__mappable(&vp, &vp.bars[0], start, len);
	cr_assert_eq(n, 1);
	cr_assert_eq(start[0], 0x1000);
	cr_assert_eq(len[0], 0x1f000);

	/* Table in the middle, PBA before it: three pieces. */
	vp.msix_table_off = 0x8000;
	vp.msix_pba_off = 0x2000;
	n = vfio_pci__mappable(&vp, &vp.bars[0], start, len);
	cr_assert_eq(n, 3);
	cr_assert_eq(start[0], 0);
	cr_assert_eq(len[0], 0x2000);
	cr_assert_eq(start[1], 0x3000);
	cr_assert_eq(len[1], 0x5000);
	cr_assert_eq(start[2], 0x9000);
	cr_assert_eq(len[2], 0x17000);

	/* A BAR without the MSI-X structures maps whole. */
	vp.bars[2].idx = 2;
	vp.bars[2].info.size = 0x1000;
	n = vfio_pci__mappable(&vp, &vp.bars[2], start, len);
	cr_assert_eq(n, 1);
	cr_assert_eq(len[0], 0x1000);
}

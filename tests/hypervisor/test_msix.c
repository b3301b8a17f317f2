#include <criterion/criterion.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"
#include "lib/log.h"
#include "tests/helpers.h"

static struct kvm *kvm;
static struct pci_device dev;
static struct msix msix;

static void cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len)
{
	msix__cfg_written(&msix, off, len);
}

static void setup(void)
{
	log_level = LOG_ERR;	/* routing fails on purpose: there is no VM */
	kvm = test_fake_kvm();
	pci__device_init(&dev, "msix-dut", 0x1234, 1, 0xff0000);
	dev.cfg_written = cfg_written;
	cr_assert_eq(pci__add_bar(&dev, 2, 0x1000, false, msix__mmio, &msix), 0);
	cr_assert_eq(msix__init(&msix, &dev, 4, 2, 0, 0x800), 0);
	cr_assert_eq(pci__register(&kvm->pci, &dev), 0);
}

static void teardown(void)
{
	msix__exit(&msix);
	test_fake_kvm_free(kvm);
}

TestSuite(msix, .init = setup, .fini = teardown);

static uint32_t tbl_read(uint32_t off)
{
	uint32_t v = 0;

	msix__mmio(&msix, off, &v, 4, false);
	return v;
}

static void tbl_write(uint32_t off, uint32_t v)
{
	msix__mmio(&msix, off, &v, 4, true);
}

Test(msix, capability_describes_table_and_pba)
{
	uint8_t cap = msix.cap;

	cr_assert_eq(dev.cfg[cap], PCI_CAP_ID_MSIX);
	cr_assert_eq(pci__cfg16(&dev, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE, 3);
	cr_assert_eq(pci__cfg32(&dev, cap + PCI_MSIX_TABLE), 0 | 2);
	cr_assert_eq(pci__cfg32(&dev, cap + PCI_MSIX_PBA), 0x800 | 2);
}

Test(msix, only_enable_and_function_mask_are_writable)
{
	uint8_t cap = msix.cap;
	uint16_t v = 0xffff;

	pci__cfg_write(&dev, cap + PCI_MSIX_FLAGS, &v, 2);
	cr_assert_eq(pci__cfg16(&dev, cap + PCI_MSIX_FLAGS), 0xc003);
	v = 0;
	pci__cfg_write(&dev, cap + PCI_MSIX_FLAGS, &v, 2);
	cr_assert_eq(pci__cfg16(&dev, cap + PCI_MSIX_FLAGS), 0x0003);
	cr_assert_not(msix__enabled(&msix));
}

Test(msix, vectors_start_masked_and_keep_what_is_written)
{
	uint64_t q = 0x00000000fee01000ULL, r = 0;

	cr_assert_eq(tbl_read(3 * 16 + 12), 1, "reset state is masked");
	msix__mmio(&msix, 16, &q, 8, true);	/* qword write of address */
	tbl_write(16 + 8, 0x41);
	cr_assert_eq(tbl_read(16), 0xfee01000);
	cr_assert_eq(tbl_read(16 + 8), 0x41);
	msix__mmio(&msix, 16, &r, 8, false);
	cr_assert_eq(r, q);
	tbl_write(16 + 12, 0xfffffffe);	/* reserved control bits stay zero */
	cr_assert_eq(tbl_read(16 + 12), 0);
}

Test(msix, masked_notifications_set_the_pba_bit)
{
	cr_assert_eq(msix__notify(&msix, 2), 1);
	cr_assert_eq(tbl_read(0x800), 1u << 2);
	cr_assert_eq(msix.held, 1);
	cr_assert_lt(msix__notify(&msix, 9), 0, "vector out of range");
	tbl_write(0x800, 0);	/* PBA is read-only */
	cr_assert_eq(tbl_read(0x800), 1u << 2);
}

Test(msix, unmasking_a_pending_vector_sends_it)
{
	uint16_t ctrl = 0x8000;

	msix__notify(&msix, 1);
	pci__cfg_write(&dev, msix.cap + PCI_MSIX_FLAGS, &ctrl, 2);
	cr_assert_eq(tbl_read(0x800), 1u << 1, "entry still masked");
	tbl_write(16 + 12, 0);
	/* Sent: the PBA bit clears. No VM here, so the route cannot be
	 * installed and the attempt is counted as a routing error. */
	cr_assert_eq(tbl_read(0x800), 0);
	cr_assert_eq(msix.route_errors, 1);
}

Test(msix, misaligned_or_odd_sized_accesses_are_ignored)
{
	uint16_t w = 0x1234;
	uint32_t v = 0;

	msix__mmio(&msix, 8, &w, 2, true);
	cr_assert_eq(tbl_read(8), 0);
	msix__mmio(&msix, 2, &v, 4, false);
	cr_assert_eq(v, 0xffffffff);
}

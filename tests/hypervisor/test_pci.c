#include <criterion/criterion.h>
#include <string.h>

#include "hypervisor/kvm.h"
#include "hypervisor/pci.h"
#include "tests/helpers.h"

static struct kvm *kvm;
static struct pci_device dev;
static int bar_hits;

static void bar_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	bar_hits++;
	if (!is_write)
		memset(data, 0x5a, len);
}

static void setup(void)
{
	kvm = test_fake_kvm();
	cr_assert_eq(pci__host_register(&kvm->pci), 0);
	pci__device_init(&dev, "dut", 0x1234, 0xabcd, 0xff0000);
	cr_assert_eq(pci__add_bar(&dev, 0, 0x20, true, bar_io, NULL), 0);
	cr_assert_eq(pci__add_bar(&dev, 1, 0x1000, false, bar_io, NULL), 0);
	cr_assert_neq(pci__add_cap(&dev, PCI_CAP_ID_VNDR, 8), 0);
	cr_assert_eq(pci__register(&kvm->pci, &dev), 0);
	bar_hits = 0;
}

static void teardown(void)
{
	test_fake_kvm_free(kvm);
}

TestSuite(pci, .init = setup, .fini = teardown);

/* Accesses as a guest makes them: through ports 0xCF8 / 0xCFC on the bus. */
static uint32_t cfg_read(unsigned int slot, unsigned int off, uint32_t len)
{
	uint32_t addr = 0x80000000u | slot << 11 | (off & 0xfc), v = 0;

	cr_assert(bus__dispatch(&kvm->pio_bus, PCI_CONFIG_ADDRESS, &addr, 4, true));
	cr_assert(bus__dispatch(&kvm->pio_bus, PCI_CONFIG_DATA + (off & 3), &v, len, false));
	return v;
}

static void cfg_write(unsigned int slot, unsigned int off, uint32_t v, uint32_t len)
{
	uint32_t addr = 0x80000000u | slot << 11 | (off & 0xfc);

	cr_assert(bus__dispatch(&kvm->pio_bus, PCI_CONFIG_ADDRESS, &addr, 4, true));
	cr_assert(bus__dispatch(&kvm->pio_bus, PCI_CONFIG_DATA + (off & 3), &v, len, true));
}

Test(pci, host_bridge_and_device_are_enumerable)
{
	cr_assert_eq(cfg_read(0, 0, 4), 0x12378086);
	cr_assert_eq(cfg_read(0, PCI_CLASS_DEVICE, 2), 0x0600);
	cr_assert_eq(cfg_read(1, 0, 4), 0xabcd1234);
	cr_assert_eq(cfg_read(1, PCI_DEVICE_ID, 2), 0xabcd);
	cr_assert_eq(cfg_read(1, PCI_VENDOR_ID + 1, 1), 0x12);
}

Test(pci, absent_functions_read_all_ones)
{
	uint32_t addr = 0x80000000u | 1 << 11 | 1 << 8, v;	/* 00:01.1 */

	cr_assert_eq(cfg_read(7, 0, 4), 0xffffffff);
	bus__dispatch(&kvm->pio_bus, PCI_CONFIG_ADDRESS, &addr, 4, true);
	bus__dispatch(&kvm->pio_bus, PCI_CONFIG_DATA, &v, 4, false);
	cr_assert_eq(v, 0xffffffff);
	/* Enable bit clear: no configuration cycle at all. */
	addr = 1 << 11;
	bus__dispatch(&kvm->pio_bus, PCI_CONFIG_ADDRESS, &addr, 4, true);
	bus__dispatch(&kvm->pio_bus, PCI_CONFIG_DATA, &v, 4, false);
	cr_assert_eq(v, 0xffffffff);
}

Test(pci, config_address_latch_reads_back)
{
	uint32_t addr = 0x80000810, v = 0;

	bus__dispatch(&kvm->pio_bus, PCI_CONFIG_ADDRESS, &addr, 4, true);
	bus__dispatch(&kvm->pio_bus, PCI_CONFIG_ADDRESS, &v, 4, false);
	cr_assert_eq(v, addr);
}

Test(pci, read_only_fields_ignore_writes)
{
	cfg_write(1, 0, 0xffffffff, 4);
	cr_assert_eq(cfg_read(1, 0, 4), 0xabcd1234);
	cfg_write(1, PCI_CLASS_REVISION, 0, 4);
	cr_assert_eq(cfg_read(1, PCI_CLASS_DEVICE, 2), 0xff00);
	cfg_write(1, PCI_INTERRUPT_LINE, 0x0b, 1);
	cr_assert_eq(cfg_read(1, PCI_INTERRUPT_LINE, 1), 0x0b);
}

Test(pci, bar_sizing_reads_back_the_size_mask)
{
	uint32_t io_bar, mem_bar;

	cfg_write(1, PCI_COMMAND, 0, 2);	/* decode off while sizing, as Linux does */
	io_bar = cfg_read(1, PCI_BASE_ADDRESS_0, 4);
	mem_bar = cfg_read(1, PCI_BASE_ADDRESS_1, 4);
	cfg_write(1, PCI_BASE_ADDRESS_0, 0xffffffff, 4);
	cfg_write(1, PCI_BASE_ADDRESS_1, 0xffffffff, 4);
	cr_assert_eq(cfg_read(1, PCI_BASE_ADDRESS_0, 4), ~(0x20u - 1) | PCI_BASE_ADDRESS_SPACE_IO);
	cr_assert_eq(cfg_read(1, PCI_BASE_ADDRESS_1, 4), ~(0x1000u - 1));
	/* Unused BARs size to zero. */
	cfg_write(1, PCI_BASE_ADDRESS_3, 0xffffffff, 4);
	cr_assert_eq(cfg_read(1, PCI_BASE_ADDRESS_3, 4), 0);
	cfg_write(1, PCI_BASE_ADDRESS_0, io_bar, 4);
	cfg_write(1, PCI_BASE_ADDRESS_1, mem_bar, 4);
	cr_assert_eq(cfg_read(1, PCI_BASE_ADDRESS_0, 4), io_bar);
}

Test(pci, firmware_assignment_maps_bars_on_the_buses)
{
	uint64_t io = pci__bar_address(&dev, 0), mem = pci__bar_address(&dev, 1);
	uint32_t v = 0;

	cr_assert_geq(io, KVM_PCI_PIO_BASE);
	cr_assert_eq(io % 0x20, 0, "BARs are naturally aligned");
	cr_assert_geq(mem, KVM_PCI_MMIO_BASE);
	cr_assert_eq(mem % 0x1000, 0);
	cr_assert(bus__dispatch(&kvm->pio_bus, io + 4, &v, 4, false));
	cr_assert(bus__dispatch(&kvm->mmio_bus, mem + 0xffc, &v, 4, false));
	cr_assert_eq(v, 0x5a5a5a5a);
	cr_assert_eq(bar_hits, 2);
	cr_assert_eq(cfg_read(1, PCI_COMMAND, 2) & 7,
		     PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

Test(pci, moving_a_bar_and_disabling_decode_remap_it)
{
	uint64_t old = pci__bar_address(&dev, 1);
	uint32_t v;

	cfg_write(1, PCI_BASE_ADDRESS_1, 0xd0000000, 4);
	cr_assert_not(bus__dispatch(&kvm->mmio_bus, old, &v, 4, false));
	cr_assert(bus__dispatch(&kvm->mmio_bus, 0xd0000000, &v, 4, false));
	cfg_write(1, PCI_COMMAND, PCI_COMMAND_IO, 2);	/* memory decode off */
	cr_assert_not(bus__dispatch(&kvm->mmio_bus, 0xd0000000, &v, 4, false));
	cr_assert(bus__dispatch(&kvm->pio_bus, pci__bar_address(&dev, 0), &v, 4, false));
	cfg_write(1, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
	cr_assert(bus__dispatch(&kvm->mmio_bus, 0xd0000000, &v, 4, false));
}

Test(pci, capability_list_is_linked)
{
	unsigned int cap;

	cr_assert(cfg_read(1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	cap = cfg_read(1, PCI_CAPABILITY_LIST, 1);
	cr_assert_geq(cap, 0x40);
	cr_assert_eq(cfg_read(1, cap, 1), PCI_CAP_ID_VNDR);
	cr_assert_eq(cfg_read(1, cap + 1, 1), 0, "last capability ends the list");
}

Test(pci, bad_bar_parameters_are_rejected)
{
	struct pci_device d;

	pci__device_init(&d, "bad", 1, 2, 0);
	cr_assert_lt(pci__add_bar(&d, 6, 0x1000, false, bar_io, NULL), 0);
	cr_assert_lt(pci__add_bar(&d, 0, 0x1800, false, bar_io, NULL), 0);
	cr_assert_lt(pci__add_bar(&d, 0, 8, false, bar_io, NULL), 0);
	cr_assert_lt(pci__add_bar(&d, 0, 512, true, bar_io, NULL), 0);
}

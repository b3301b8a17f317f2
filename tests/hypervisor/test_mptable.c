#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/boot/mptable.h"
#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "tests/helpers.h"

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s += *p++;
	return s;
}

/* What Linux's mpparse checks: signature, checksums, lengths, entries. */
Test(mptable, linux_finds_cpus_ioapic_and_isa_irqs)
{
	struct kvm *kvm = test_fake_kvm_with_ram(1 << 20);
	uint8_t *mpf, *mpc, *e;
	uint32_t cfg;
	uint16_t len, n;
	int cpus = 0, ioapics = 0, ioints = 0, lints = 0;

	kvm->nr_cpus = 3;
	cr_assert_eq(mptable__write(kvm, MPTABLE_GPA, 0xa0000 - MPTABLE_GPA), 0);
	mpf = kvm__gpa_to_hva(kvm, MPTABLE_GPA, 16);
	cr_assert_eq(memcmp(mpf, "_MP_", 4), 0);
	cr_assert_eq(mpf[8], 1, "length in paragraphs");
	cr_assert_eq(sum(mpf, 16), 0, "floating pointer checksum");
	memcpy(&cfg, mpf + 4, 4);
	mpc = kvm__gpa_to_hva(kvm, cfg, 44);
	cr_assert_eq(memcmp(mpc, "PCMP", 4), 0);
	memcpy(&len, mpc + 4, 2);
	memcpy(&n, mpc + 34, 2);
	cr_assert_eq(sum(mpc, len), 0, "configuration table checksum");
	cr_assert_leq(cfg + len, 0xa0000, "inside the EBDA");
	cr_assert_eq(len, mptable__size(3, 0) - 16);
	for (e = mpc + 44; e < mpc + len; n--) {
		cr_assert_gt(n, 0, "more entries than the header says");
		switch (e[0]) {
		case 0:
			cr_assert_eq(e[1], cpus, "APIC id = vCPU index");
			cr_assert_eq(e[3] & 2, cpus == 0 ? 2 : 0, "bootstrap flag on CPU 0 only");
			cpus++;
			e += 20;
			break;
		case 2:
			cr_assert_eq(e[1], 3, "I/O APIC id after the CPUs'");
			ioapics++;
			e += 8;
			break;
		case 3:
			cr_assert_eq(e[5], e[7], "ISA IRQ n on pin n");
			cr_assert_neq(e[5], 2, "IRQ 2 is the cascade");
			ioints++;
			e += 8;
			break;
		case 4:
			lints++;
			e += 8;
			break;
		default:
			e += 8;
		}
	}
	cr_assert_eq(n, 0);
	cr_assert_eq(cpus, 3);
	cr_assert_eq(ioapics, 1);
	cr_assert_eq(ioints, 15);
	cr_assert_eq(lints, 2);
	cr_assert_eq(mptable__write(kvm, MPTABLE_GPA, 64), -ENOSPC);
	test_fake_kvm_free(kvm);
}

/* A PCI function with INTA (the e1000) gets its I/O interrupt entry: PCI
 * bus, device << 2 | pin - 1, on the pin of its Interrupt Line. */
Test(mptable, pci_intx_has_its_entry)
{
	struct kvm *kvm = test_fake_kvm_with_ram(1 << 20);
	struct device *dev;
	uint8_t *mpf, *mpc, *e;
	uint32_t cfg;
	uint16_t len;
	char args[16];
	int peer, found = 0, slot;

	kvm->nr_cpus = 1;
	peer = test_nic_backend(args, sizeof(args));
	dev = device__create(kvm, "e1000", args);
	cr_assert_not_null(dev);
	slot = kvm->pci.slots[0] ? 0 : -1;
	cr_assert_eq(slot, 0);
	cr_assert_eq(mptable__write(kvm, MPTABLE_GPA, 0xa0000 - MPTABLE_GPA), 0);
	mpf = kvm__gpa_to_hva(kvm, MPTABLE_GPA, 16);
	memcpy(&cfg, mpf + 4, 4);
	mpc = kvm__gpa_to_hva(kvm, cfg, 44);
	memcpy(&len, mpc + 4, 2);
	cr_assert_eq(sum(mpc, len), 0);
	cr_assert_eq(len, mptable__size(1, 1) - 16);
	for (e = mpc + 44 + 20; e < mpc + len; e += 8)
		if (e[0] == 3 && e[4] == 0 /* PCI bus */) {
			cr_assert_eq(e[5], slot << 2, "device 0, INTA");
			cr_assert_eq(e[7], kvm->pci.slots[0]->cfg[PCI_INTERRUPT_LINE]);
			found++;
		}
	cr_assert_eq(found, 1);
	device__destroy_all(kvm);
	close(peer);
	test_fake_kvm_free(kvm);
}

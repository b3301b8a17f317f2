/*
 * The Intel MultiProcessor Specification 1.4 tables for Linux guests.
 *
 * Without them (and without ACPI) Linux finds no local APIC timer or I/O
 * APIC: it runs in PIC "virtual wire" mode with the PIT as its clock event,
 * and every tick and device interrupt costs port I/O exits (PIT programming,
 * PIC EOI and mask writes) that are not part of the device path being
 * measured. With them it uses the in-kernel LAPIC and IOAPIC as on QEMU.
 * The tables sit in the EBDA (reserved in e820), where Linux scans for
 * "_MP_" (MP spec 4.1: the first KiB of the EBDA).
 */
#include "hypervisor/boot/mptable.h"

#include <errno.h>
#include <string.h>

#include "hypervisor/kvm.h"

#define MP_SPEC_REV		4	/* 1.4 */
#define LAPIC_GPA		0xfee00000U
#define IOAPIC_GPA		0xfec00000U
#define LAPIC_VERSION		0x14
#define IOAPIC_VERSION		0x11
#define ISA_IRQS		16

/* MP spec 4.1: the floating pointer structure (16 bytes). */
struct mpf {
	char signature[4];		/* "_MP_" */
	uint32_t config_gpa;
	uint8_t length;			/* in 16-byte paragraphs: 1 */
	uint8_t spec_rev;
	uint8_t checksum;
	uint8_t feature[5];		/* all 0: a configuration table follows,
					 * virtual wire mode (no IMCR) */
} __attribute__((packed));

/* MP spec 4.2: the configuration table header (44 bytes). */
struct mpc_header {
	char signature[4];		/* "PCMP" */
	uint16_t length;		/* header + base entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem[8];
	char product[12];
	uint32_t oem_table;
	uint16_t oem_size;
	uint16_t entries;
	uint32_t lapic_gpa;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

/* MP spec 4.3.1, Table 4-4: processor entry (20 bytes). */
struct mpc_cpu {
	uint8_t type;			/* 0 */
	uint8_t lapic_id;
	uint8_t lapic_version;
	uint8_t flags;			/* bit 0 enabled, bit 1 bootstrap */
	uint32_t signature;		/* CPUID.1:EAX stepping/model/family */
	uint32_t features;		/* CPUID.1:EDX */
	uint32_t reserved[2];
} __attribute__((packed));

/* 4.3.2 bus (type 1), 4.3.3 I/O APIC (type 2), 4.3.4 I/O interrupt
 * (type 3) and 4.3.5 local interrupt (type 4) entries: 8 bytes each. */
struct mpc_bus {
	uint8_t type;
	uint8_t id;
	char name[6];			/* "PCI   ", "ISA   " */
} __attribute__((packed));

struct mpc_ioapic {
	uint8_t type;
	uint8_t id;
	uint8_t version;
	uint8_t flags;			/* bit 0 enabled */
	uint32_t gpa;
} __attribute__((packed));

struct mpc_irq {
	uint8_t type;
	uint8_t irq_type;		/* 0 INT, 1 NMI, 3 ExtINT */
	uint16_t flags;			/* 0: polarity and trigger of the bus */
	uint8_t src_bus;
	uint8_t src_irq;
	uint8_t dst;			/* I/O APIC id, or 0xff: every local APIC */
	uint8_t dst_pin;		/* INTIN, or LINTIN 0/1 */
} __attribute__((packed));

enum { MP_CPU, MP_BUS, MP_IOAPIC, MP_IOINT, MP_LINT };
enum { MP_INT = 0, MP_NMI = 1, MP_EXTINT = 3 };
enum { BUS_PCI, BUS_ISA };

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return (uint8_t)-sum;
}

size_t mptable__size(int nr_cpus, int nr_pci_intx)
{
	return sizeof(struct mpf) + sizeof(struct mpc_header) +
	       (size_t)nr_cpus * sizeof(struct mpc_cpu) + 2 * sizeof(struct mpc_bus) +
	       sizeof(struct mpc_ioapic) +
	       (ISA_IRQS - 1 + 2 + (size_t)nr_pci_intx) * sizeof(struct mpc_irq);
}

/* A PCI function with an interrupt pin (INTx: the e1000), or NULL. */
static const struct pci_device *pci_intx(const struct kvm *kvm, int slot)
{
	const struct pci_device *d = kvm->pci.slots[slot];

	return d && d->cfg[PCI_INTERRUPT_PIN] ? d : NULL;
}

static int pci_intx_count(const struct kvm *kvm)
{
	int slot, n = 0;

	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		n += pci_intx(kvm, slot) != NULL;
	return n;
}

int mptable__write(struct kvm *kvm, uint64_t gpa, size_t room)
{
	size_t size = mptable__size(kvm->nr_cpus, pci_intx_count(kvm));
	uint8_t ioapic_id = (uint8_t)kvm->nr_cpus;	/* after the CPUs' APIC ids */
	struct mpc_header *h;
	struct mpf *mpf;
	uint8_t *p, *base;
	uint16_t n = 0;
	int i;

	if (kvm->nr_cpus < 1 || kvm->nr_cpus > 254 || size > room)
		return -ENOSPC;
	base = kvm__gpa_to_hva(kvm, gpa, size);
	if (!base)
		return -EFAULT;
	memset(base, 0, size);
	mpf = (struct mpf *)base;
	h = (struct mpc_header *)(mpf + 1);
	p = (uint8_t *)(h + 1);

	for (i = 0; i < kvm->nr_cpus; i++, n++) {
		struct mpc_cpu *c = (struct mpc_cpu *)p;

		/* APIC id = vCPU index, as vcpu.c reports in CPUID. */
		*c = (struct mpc_cpu){ .type = MP_CPU, .lapic_id = (uint8_t)i,
			.lapic_version = LAPIC_VERSION, .flags = 1 | (i == 0 ? 2 : 0),
			.signature = 0x600, .features = (1u << 0) | (1u << 9) };	/* FPU, APIC */
		p += sizeof(*c);
	}
	memcpy(((struct mpc_bus *)p)->name, "PCI   ", 6);
	((struct mpc_bus *)p)->type = MP_BUS;
	((struct mpc_bus *)p)->id = BUS_PCI;
	p += sizeof(struct mpc_bus);
	memcpy(((struct mpc_bus *)p)->name, "ISA   ", 6);
	((struct mpc_bus *)p)->type = MP_BUS;
	((struct mpc_bus *)p)->id = BUS_ISA;
	p += sizeof(struct mpc_bus);
	n += 2;
	*(struct mpc_ioapic *)p = (struct mpc_ioapic){ .type = MP_IOAPIC, .id = ioapic_id,
		.version = IOAPIC_VERSION, .flags = 1, .gpa = IOAPIC_GPA };
	p += sizeof(struct mpc_ioapic);
	n++;
	/*
	 * ISA IRQ i on I/O APIC pin i: the GSI routes irq.c installs (KVM's
	 * defaults). IRQ 2 is the PIC cascade and has no ISA source.
	 */
	for (i = 0; i < ISA_IRQS; i++) {
		if (i == 2)
			continue;
		*(struct mpc_irq *)p = (struct mpc_irq){ .type = MP_IOINT, .irq_type = MP_INT,
			.src_bus = BUS_ISA, .src_irq = (uint8_t)i, .dst = ioapic_id,
			.dst_pin = (uint8_t)i };
		p += sizeof(struct mpc_irq);
		n++;
	}
	/*
	 * PCI INTx (4.3.4: source bus IRQ = device << 2 | pin - 1) on the pin
	 * the function's Interrupt Line names; flags 0: PCI's own level,
	 * active low (KVM's I/O APIC takes an asserted line as asserted).
	 */
	for (i = 0; i < PCI_MAX_SLOTS; i++) {
		const struct pci_device *d = pci_intx(kvm, i);

		if (!d)
			continue;
		*(struct mpc_irq *)p = (struct mpc_irq){ .type = MP_IOINT, .irq_type = MP_INT,
			.src_bus = BUS_PCI, .src_irq = (uint8_t)(i << 2 | (d->cfg[PCI_INTERRUPT_PIN] - 1)),
			.dst = ioapic_id, .dst_pin = d->cfg[PCI_INTERRUPT_LINE] };
		p += sizeof(struct mpc_irq);
		n++;
	}
	/* Virtual wire through LINT0 (ExtINT from the PIC), NMI on LINT1. */
	*(struct mpc_irq *)p = (struct mpc_irq){ .type = MP_LINT, .irq_type = MP_EXTINT,
		.src_bus = BUS_ISA, .dst = 0xff, .dst_pin = 0 };
	p += sizeof(struct mpc_irq);
	*(struct mpc_irq *)p = (struct mpc_irq){ .type = MP_LINT, .irq_type = MP_NMI,
		.src_bus = BUS_ISA, .dst = 0xff, .dst_pin = 1 };
	p += sizeof(struct mpc_irq);
	n += 2;

	memcpy(h->signature, "PCMP", 4);
	h->length = (uint16_t)(p - (uint8_t *)h);
	h->spec_rev = MP_SPEC_REV;
	memcpy(h->oem, "VIOSCOPE", 8);
	memcpy(h->product, "vioscope-vmm", 12);
	h->entries = n;
	h->lapic_gpa = LAPIC_GPA;
	h->checksum = checksum(h, h->length);

	memcpy(mpf->signature, "_MP_", 4);
	mpf->config_gpa = (uint32_t)(gpa + sizeof(*mpf));
	mpf->length = 1;
	mpf->spec_rev = MP_SPEC_REV;
	mpf->checksum = checksum(mpf, sizeof(*mpf));
	return 0;
}

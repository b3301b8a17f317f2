#ifndef VIOSCOPE__BOOT_MPTABLE_H
#define VIOSCOPE__BOOT_MPTABLE_H

#include <stddef.h>
#include <stdint.h>

struct kvm;

/* Where Linux guests get their MP tables: the EBDA, reserved in e820. */
#define MPTABLE_GPA	0x9fc00ULL

/* Bytes the tables take for nr_cpus processors and nr_pci_intx PCI
 * functions with an interrupt pin. */
size_t mptable__size(int nr_cpus, int nr_pci_intx);
/*
 * Writes the MP floating pointer and configuration table (MP spec 1.4) at
 * gpa: one processor entry per vCPU, PCI and ISA buses, the in-kernel I/O
 * APIC with ISA IRQs on their pins and each PCI function's INTx on the pin
 * of its Interrupt Line, LINT0 ExtINT and LINT1 NMI.
 * 0, or -ENOSPC when they do not fit in room bytes, -EFAULT outside RAM.
 */
int mptable__write(struct kvm *kvm, uint64_t gpa, size_t room);

#endif /* VIOSCOPE__BOOT_MPTABLE_H */

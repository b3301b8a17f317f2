#ifndef VIOSCOPE__BOOT_X86_H
#define VIOSCOPE__BOOT_X86_H

#include <stdint.h>

struct kvm;
struct kvm_cpu;

/* Selectors of the boot GDT, as the Linux 64-bit boot protocol wants them. */
#define BOOT_CS		0x10
#define BOOT_DS		0x18

/* Writes the boot GDT and identity page tables (0-4 GiB, 2 MiB pages). */
int x86__setup_long_mode_tables(struct kvm *kvm);
/* Puts a vCPU in 64-bit mode at rip with rdi/rsi as given, interrupts off. */
int x86__enter_long_mode(struct kvm_cpu *cpu, uint64_t rip, uint64_t rdi, uint64_t rsi);

#endif /* VIOSCOPE__BOOT_X86_H */

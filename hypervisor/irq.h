#ifndef VIOSCOPE__IRQ_H
#define VIOSCOPE__IRQ_H

#include <stdint.h>

struct kvm;

/* GSIs 0-23 are the IOAPIC pins (and PIC 0-15); MSI routes start above. */
#define IRQ_FIRST_MSI_GSI	24

int irq__init(struct kvm *kvm);
void irq__exit(struct kvm *kvm);
/* Allocates a GSI for an MSI route; returns it or -errno. */
int irq__alloc_msi(struct kvm *kvm);
/* Points an MSI GSI at (addr, data) and commits the routing table. */
int irq__set_msi_route(struct kvm *kvm, int gsi, uint64_t addr, uint32_t data);
/* Binds (assign != 0) or unbinds an eventfd to a GSI with KVM_IRQFD. */
int irq__irqfd(struct kvm *kvm, int fd, int gsi, int assign);
/* Drives a legacy interrupt line (IOAPIC/PIC pin). */
int irq__line(struct kvm *kvm, int irq, int level);
/* Line assertions (level 1) so far, all devices: INTx interrupts sent. */
uint64_t irq__total_raised(void);

#endif /* VIOSCOPE__IRQ_H */

/*
 * GSI routing. KVM_SET_GSI_ROUTING replaces the whole table, so the default
 * irqchip routes that KVM_CREATE_IRQCHIP installed are rebuilt here and MSI
 * routes are appended to them.
 */
#include "hypervisor/irq.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "hypervisor/kvm.h"
#include "lib/log.h"

#define IRQ_MAX_ROUTES	256

struct irq_routing {
	pthread_mutex_t lock;
	int next_gsi;
	unsigned int nr;
	struct kvm_irq_routing_entry entries[IRQ_MAX_ROUTES];
};

static void add_irqchip(struct irq_routing *r, unsigned int chip, unsigned int pin,
			unsigned int gsi)
{
	r->entries[r->nr++] = (struct kvm_irq_routing_entry){
		.gsi = gsi,
		.type = KVM_IRQ_ROUTING_IRQCHIP,
		.u.irqchip = { .irqchip = chip, .pin = pin },
	};
}

static int irq__commit(struct kvm *kvm, struct irq_routing *r)
{
	struct kvm_irq_routing *tbl;
	int ret;

	if (kvm->vm_fd < 0)		/* unit tests run without a VM */
		return -EBADF;
	tbl = calloc(1, sizeof(*tbl) + r->nr * sizeof(r->entries[0]));
	if (!tbl)
		return -ENOMEM;
	tbl->nr = r->nr;
	memcpy(tbl->entries, r->entries, r->nr * sizeof(r->entries[0]));
	ret = kvm_ioctl(kvm->vm_fd, KVM_SET_GSI_ROUTING, tbl);
	free(tbl);
	return ret;
}

int irq__init(struct kvm *kvm)
{
	struct irq_routing *r = calloc(1, sizeof(*r));
	unsigned int i;

	if (!r)
		return -ENOMEM;
	pthread_mutex_init(&r->lock, NULL);
	/*
	 * KVM's own default table: GSI n is PIC pin n (n < 16) and IOAPIC pin
	 * n. A GSI may reach each irqchip once only, so no ISA overrides here.
	 */
	for (i = 0; i < 16; i++)
		add_irqchip(r, i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE, i % 8, i);
	for (i = 0; i < 24; i++)
		add_irqchip(r, KVM_IRQCHIP_IOAPIC, i, i);
	r->next_gsi = IRQ_FIRST_MSI_GSI;
	kvm->routing = r;
	return 0;
}

void irq__exit(struct kvm *kvm)
{
	free(kvm->routing);
	kvm->routing = NULL;
}

int irq__alloc_msi(struct kvm *kvm)
{
	struct irq_routing *r = kvm->routing;
	int gsi = -ENOSPC;

	pthread_mutex_lock(&r->lock);
	if (r->nr < IRQ_MAX_ROUTES) {
		gsi = r->next_gsi++;
		r->entries[r->nr++] = (struct kvm_irq_routing_entry){
			.gsi = (uint32_t)gsi,
			.type = KVM_IRQ_ROUTING_MSI,
		};
	}
	pthread_mutex_unlock(&r->lock);
	return gsi;
}

int irq__set_msi_route(struct kvm *kvm, int gsi, uint64_t addr, uint32_t data)
{
	struct irq_routing *r = kvm->routing;
	unsigned int i;
	int ret = -ENOENT;

	pthread_mutex_lock(&r->lock);
	for (i = 0; i < r->nr; i++) {
		struct kvm_irq_routing_entry *e = &r->entries[i];

		if (e->gsi != (uint32_t)gsi || e->type != KVM_IRQ_ROUTING_MSI)
			continue;
		e->u.msi.address_lo = (uint32_t)addr;
		e->u.msi.address_hi = (uint32_t)(addr >> 32);
		e->u.msi.data = data;
		ret = irq__commit(kvm, r);
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int irq__irqfd(struct kvm *kvm, int fd, int gsi, int assign)
{
	struct kvm_irqfd irqfd = {
		.fd = (uint32_t)fd,
		.gsi = (uint32_t)gsi,
		.flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN,
	};

	if (kvm->vm_fd < 0)
		return -EBADF;
	return kvm_ioctl(kvm->vm_fd, KVM_IRQFD, &irqfd);
}

static uint64_t raised;

uint64_t irq__total_raised(void)
{
	return __atomic_load_n(&raised, __ATOMIC_RELAXED);
}

int irq__line(struct kvm *kvm, int irq, int level)
{
	struct kvm_irq_level l = { .irq = (uint32_t)irq, .level = (uint32_t)level };

	if (kvm->vm_fd < 0)
		return -EBADF;
	if (level)
		__atomic_add_fetch(&raised, 1, __ATOMIC_RELAXED);
	return kvm_ioctl(kvm->vm_fd, KVM_IRQ_LINE, &l);
}

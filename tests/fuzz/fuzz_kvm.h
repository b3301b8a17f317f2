/* What the device fuzz targets share: a VM without KVM (buses, PCI host,
 * IRQ routing, zeroed RAM) and a NIC backend the fuzzer feeds. */
#ifndef VIOSCOPE__FUZZ_KVM_H
#define VIOSCOPE__FUZZ_KVM_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "hypervisor/irq.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

static inline void fuzz__kvm(struct kvm *kvm, uint64_t ram)
{
	log_level = LOG_ERR - 1;	/* guest mistakes are expected: quiet */
	kvm->vm_fd = kvm->sys_fd = kvm->ram_fd = kvm->stop_fd = -1;
	bus__init(&kvm->pio_bus, "pio");
	bus__init(&kvm->mmio_bus, "mmio");
	pci__host_init(&kvm->pci, kvm);
	irq__init(kvm);
	kvm->ram = calloc(1, ram);
	kvm->ram_size = ram;
	if (!kvm->ram)
		abort();
}

/* A datagram socketpair as the NIC's backend: the fuzzer's end, and
 * "fd=N" for the model in args. */
static inline int fuzz__nic_backend(char *args, size_t len)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
		abort();
	snprintf(args, len, "fd=%d", sv[1]);
	return sv[0];
}

#endif

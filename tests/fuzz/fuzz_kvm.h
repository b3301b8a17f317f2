/* What the device fuzz targets share: a VM without KVM (buses, PCI host,
 * IRQ routing, zeroed RAM) and a NIC backend the fuzzer feeds. */
#ifndef VIOSCOPE__FUZZ_KVM_H
#define VIOSCOPE__FUZZ_KVM_H

#include <linux/virtio_pci.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "hypervisor/bus.h"
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

/* A virtio-pci driver's bring-up (virtio 1.2, 3.1.1) on the device whose
 * common configuration is at bar: reset, features (bits 0-31 and
 * VERSION_1), queues 0..nr-1 of qsize entries with their rings at
 * ring + q * stride (avail +0x100, used +used_off), DRIVER_OK. */
static inline void fuzz__virtio_bring_up(struct kvm *kvm, uint64_t bar, uint32_t features,
					 unsigned int nr, uint16_t qsize, uint64_t ring,
					 uint64_t stride, uint64_t used_off)
{
#define FUZZ_WR(f, v, len)						\
	do {								\
		uint32_t v_ = (v);					\
		bus__dispatch(&kvm->mmio_bus,				\
			      bar + offsetof(struct virtio_pci_common_cfg, f), &v_, len, true); \
	} while (0)
	unsigned int q;

	FUZZ_WR(device_status, 0, 1);
	FUZZ_WR(device_status, 3, 1);
	FUZZ_WR(guest_feature_select, 0, 4);
	FUZZ_WR(guest_feature, features, 4);
	FUZZ_WR(guest_feature_select, 1, 4);
	FUZZ_WR(guest_feature, 1, 4);			/* VERSION_1 */
	FUZZ_WR(device_status, 0xb, 1);
	for (q = 0; q < nr; q++) {
		FUZZ_WR(queue_select, q, 2);
		FUZZ_WR(queue_size, qsize, 2);
		FUZZ_WR(queue_desc_lo, (uint32_t)(ring + q * stride), 4);
		FUZZ_WR(queue_avail_lo, (uint32_t)(ring + q * stride + 0x100), 4);
		FUZZ_WR(queue_used_lo, (uint32_t)(ring + q * stride + used_off), 4);
		FUZZ_WR(queue_enable, 1, 2);
	}
	FUZZ_WR(device_status, 0xf, 1);
#undef FUZZ_WR
}

#endif

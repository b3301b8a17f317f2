/* The probe guest: a freestanding program that runs workloads for the VMM. */
#include "hypervisor/guest/guest.h"

static void print_device(struct pci_dev *d)
{
	printf("guest: pci 00:%02x.0 %04x:%04x bar0 %lx bar1 %lx bar2 %lx\n",
	       d->slot, d->vendor, d->device, d->bar[0], d->bar[1], d->bar[2]);
}

void guest_main(const struct vio_boot_info *bi, uint64_t cpu);

void guest_main(const struct vio_boot_info *bi, uint64_t cpu)
{
	int status;

	serial_init();
	if (bi->magic != VIO_BOOT_MAGIC) {
		printf("guest: bad boot info\n");
		guest_exit(VIO_ERR_WORKLOAD);
	}
	guest_alloc_init(bi->ram_size);
	intr_init();
	printf("guest: vioscope probe guest, cpu %lu of %u, %lu MiB, tsc %lu kHz\n",
	       cpu, bi->nr_cpus, bi->ram_size >> 20, bi->tsc_khz);
	pci_scan(print_device);
	status = workload_run(bi);
	printf("guest: done, status %d\n", status);
	guest_exit((uint32_t)status);
}

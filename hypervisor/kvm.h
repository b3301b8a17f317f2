#ifndef VIOSCOPE__KVM_H
#define VIOSCOPE__KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/ioctl.h>

#include "hypervisor/bus.h"
#include "hypervisor/pci.h"

struct kvm_cpu;
struct device;
struct evloop;
struct irq_routing;
struct results;

/* The top of guest RAM stays below the 32-bit PCI hole. */
#define KVM_RAM_MAX		0xC0000000ULL
#define KVM_PCI_MMIO_BASE	0xC0000000ULL
#define KVM_PCI_MMIO_END	0xFEC00000ULL
#define KVM_PCI_PIO_BASE	0x6200
#define KVM_TSS_GPA		0xFFFBD000ULL

/* vioscope-vmm's own exit statuses; a probe guest's status passes through. */
enum vmm_exit {
	VMM_EXIT_OK = 0,
	VMM_EXIT_USAGE = 1,		/* bad options, images, no KVM */
	VMM_EXIT_VM_FAILED = 2,		/* triple fault, KVM internal error */
	VMM_EXIT_TIMEOUT = 3,
};

struct kvm_config {
	uint64_t ram_size;
	int nr_cpus;
	bool console;		/* UART output to stdout */
	bool samples;		/* every per-op latency in the JSON results */
};

struct kvm {
	int sys_fd;
	int vm_fd;
	int vcpu_mmap_size;
	struct kvm_config cfg;

	void *ram;
	uint64_t ram_size;
	int ram_fd;

	int nr_cpus;
	struct kvm_cpu **cpus;

	struct bus pio_bus;
	struct bus mmio_bus;
	struct pci_host pci;
	struct irq_routing *routing;
	struct evloop *evloop;
	struct device *devices;
	struct results *results;

	uint64_t tsc_khz;
	uint32_t used_slots;		/* KVM memory slots in use; slot 0 is RAM */
	pthread_mutex_t slots_lock;

	/* Raw phase: the vCPU loop skips dispatch for exits on raw_addr. */
	int raw_phase;
	uint64_t raw_addr;
	bool raw_is_pio;

	/* Stop request: set once, by the guest, a signal or the watchdog. */
	int stop_fd;			/* eventfd the main thread waits on */
	bool stopping;
	int exit_status;
	char stop_reason[128];
};

/* Raw ioctl: returns what ioctl(2) returns, errno set on failure. */
#define __kvm_ioctl(fd, req, arg)	ioctl((fd), (req), (arg))
/* Checked ioctl: logs "<IOCTL>: <error>" and returns -errno on failure. */
#define kvm_ioctl(fd, req, arg)	kvm__ioctl_checked((fd), (req), #req, (unsigned long)(arg))
int kvm__ioctl_checked(int fd, unsigned long req, const char *name, unsigned long arg);

/* Opens /dev/kvm and builds the VM: RAM, irqchip, PIT. Returns -errno with
 * one clear error line already printed. */
int kvm__init(struct kvm *kvm, const struct kvm_config *cfg);
void kvm__exit(struct kvm *kvm);

/* Bounds-checked guest-physical to host pointer; NULL when [gpa, gpa+len)
 * is not all RAM. Every guest-supplied address goes through this. */
void *kvm__gpa_to_hva(struct kvm *kvm, uint64_t gpa, uint64_t len);

/* Maps host memory (e.g. a pass-through BAR) at gpa as a KVM memory slot;
 * returns the slot or -errno. */
int kvm__map_user(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva);
/* The same with KVM_MEM_* flags (KVM_MEM_LOG_DIRTY_PAGES: a framebuffer). */
int kvm__map_user_flags(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva, uint32_t flags);
void kvm__unmap_user(struct kvm *kvm, int slot);
/* KVM_GET_DIRTY_LOG: the pages of a dirty-logged slot written since the
 * last call, one bit each, into bitmap (the slot's size / 4096 bits,
 * 64-bit aligned); 0 or -errno. */
int kvm__dirty_log(struct kvm *kvm, int slot, uint64_t *bitmap);

/* Ask the VM to stop (any thread, async-signal-safe apart from the reason). */
void kvm__request_stop(struct kvm *kvm, int status, const char *reason);

#endif /* VIOSCOPE__KVM_H */

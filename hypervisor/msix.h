#ifndef VIOSCOPE__MSIX_H
#define VIOSCOPE__MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm;
struct pci_device;

#define MSIX_MAX_VECTORS	32
#define MSIX_ENTRY_SIZE		16
#define MSIX_CAP_LEN		12

struct msix_vector {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t ctrl;		/* bit 0: masked */
	int gsi;		/* MSI route, -1 until first delivery */
	int irqfd;		/* eventfd bound to gsi with KVM_IRQFD */
	bool route_stale;	/* table entry changed since the route was set */
};

struct msix {
	struct pci_device *pdev;
	struct kvm *kvm;
	uint8_t cap;		/* config offset of the capability */
	unsigned int nr;
	uint32_t table_off;	/* inside the BAR */
	uint32_t pba_off;
	pthread_mutex_t lock;
	struct msix_vector vec[MSIX_MAX_VECTORS];
	uint32_t pending;	/* PBA bits */
	uint64_t delivered;
	uint64_t held;		/* notifications held pending while masked */
	uint64_t route_errors;
	/* Optional, for devices that signal irqfds themselves (VFIO): called
	 * without the lock after the guest changed the table or the enables. */
	void (*changed)(struct msix *m, void *opaque);
	void *changed_opaque;
};

/* Adds the capability (PCI 3.0 6.8.2) to pdev; the caller maps the BAR with
 * msix__mmio as handler and an msix as opaque. */
int msix__init(struct msix *m, struct pci_device *pdev, unsigned int nr, int bar,
	       uint32_t table_off, uint32_t pba_off);
void msix__exit(struct msix *m);
void msix__mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);
/* For the device's cfg_written hook: enable / function-mask changes. */
void msix__cfg_written(struct msix *m, uint32_t off, uint32_t len);
bool msix__enabled(struct msix *m);
/* Signals vector v. Returns 0 when sent, 1 when held pending (masked or
 * disabled), -errno on failure. */
int msix__notify(struct msix *m, unsigned int v);
/* The irqfd of vector v with its route brought up to date (allocated on
 * first use), for a device that signals it directly; or -errno. */
int msix__vector_fd(struct msix *m, unsigned int v);
/* MSI-X messages sent through irqfds so far, all devices. */
uint64_t msix__total_sent(void);

#endif /* VIOSCOPE__MSIX_H */

#ifndef VIOSCOPE__IOEVENTFD_H
#define VIOSCOPE__IOEVENTFD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct kvm;

/* Called on the event loop thread with the number of guest writes that
 * KVM coalesced into this wakeup. */
typedef void (*ioeventfd_cb_t)(void *opaque, uint64_t count);

struct ioeventfd {
	struct kvm *kvm;
	uint64_t addr;
	uint32_t len;
	bool is_pio;
	int fd;
	ioeventfd_cb_t cb;
	void *opaque;
	pthread_mutex_t lock;	/* one consumer at a time: event loop or flush */
};

/* Registers a KVM_IOEVENTFD doorbell (any value, len-byte writes) and hands
 * its eventfd to the event loop. */
int ioeventfd__add(struct ioeventfd *ioe, struct kvm *kvm, uint64_t addr, uint32_t len,
		   bool is_pio, ioeventfd_cb_t cb, void *opaque);
void ioeventfd__del(struct ioeventfd *ioe);
/* Consumes writes KVM signalled but the event loop has not handled yet, so
 * that counters read right after are exact. Any thread. */
void ioeventfd__flush(struct ioeventfd *ioe);
/* Guest writes signalled through any ioeventfd so far (all devices). */
uint64_t ioeventfd__total(void);

#endif /* VIOSCOPE__IOEVENTFD_H */

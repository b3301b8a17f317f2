#include "hypervisor/ioeventfd.h"

#include <errno.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/evloop.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

static uint64_t total_signals;

uint64_t ioeventfd__total(void)
{
	return __atomic_load_n(&total_signals, __ATOMIC_RELAXED);
}

static void ioeventfd__consume(struct ioeventfd *ioe)
{
	eventfd_t count;

	pthread_mutex_lock(&ioe->lock);
	if (eventfd_read(ioe->fd, &count) == 0 && count) {
		DTRACE_PROBE3(vioscope, ioeventfd, ioe->addr, ioe->is_pio, count);
		__atomic_add_fetch(&total_signals, count, __ATOMIC_RELAXED);
		ioe->cb(ioe->opaque, count);
	}
	pthread_mutex_unlock(&ioe->lock);
}

static void ioeventfd__ready(void *opaque, int fd, uint32_t events)
{
	(void)fd;
	(void)events;
	ioeventfd__consume(opaque);
}

void ioeventfd__flush(struct ioeventfd *ioe)
{
	if (ioe->fd >= 0)
		ioeventfd__consume(ioe);	/* non-blocking fd: EAGAIN when empty */
}

static int ioeventfd__ioctl(struct ioeventfd *ioe, bool assign)
{
	struct kvm_ioeventfd req = {
		.addr = ioe->addr,
		.len = ioe->len,
		.fd = ioe->fd,
		.flags = (ioe->is_pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return kvm_ioctl(ioe->kvm->vm_fd, KVM_IOEVENTFD, &req);
}

int ioeventfd__add(struct ioeventfd *ioe, struct kvm *kvm, uint64_t addr, uint32_t len,
		   bool is_pio, ioeventfd_cb_t cb, void *opaque)
{
	int ret;

	*ioe = (struct ioeventfd){
		.kvm = kvm, .addr = addr, .len = len, .is_pio = is_pio,
		.cb = cb, .opaque = opaque,
	};
	pthread_mutex_init(&ioe->lock, NULL);
	ioe->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ioe->fd < 0)
		return -errno;
	ret = ioeventfd__ioctl(ioe, true);
	if (ret)
		goto err;
	ret = evloop__add(kvm->evloop, ioe->fd, EPOLLIN, ioeventfd__ready, ioe);
	if (ret) {
		ioeventfd__ioctl(ioe, false);
		goto err;
	}
	return 0;
err:
	close(ioe->fd);
	ioe->fd = -1;
	return ret;
}

void ioeventfd__del(struct ioeventfd *ioe)
{
	if (ioe->fd < 0)
		return;
	evloop__del(ioe->kvm->evloop, ioe->fd);
	ioeventfd__ioctl(ioe, false);
	close(ioe->fd);
	ioe->fd = -1;
}

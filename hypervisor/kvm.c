#include "hypervisor/kvm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hypervisor/irq.h"
#include "lib/log.h"

int kvm__ioctl_checked(int fd, unsigned long req, const char *name, unsigned long arg)
{
	int ret = ioctl(fd, req, arg);

	if (ret < 0) {
		ret = -errno;
		pr_err("%s: %s", name, strerror(errno));
	}
	return ret;
}

static int kvm__open(struct kvm *kvm)
{
	int ver;

	kvm->sys_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm->sys_fd < 0) {
		int err = errno;

		if (err == ENOENT)
			pr_err("/dev/kvm does not exist: KVM is not available on this host");
		else if (err == EACCES || err == EPERM)
			pr_err("/dev/kvm: permission denied (run as root or join the kvm group)");
		else
			pr_err("/dev/kvm: %s", strerror(err));
		return -err;
	}
	ver = __kvm_ioctl(kvm->sys_fd, KVM_GET_API_VERSION, 0);
	if (ver != KVM_API_VERSION) {
		pr_err("/dev/kvm: API version %d, expected %d", ver, KVM_API_VERSION);
		return -EINVAL;
	}
	kvm->vcpu_mmap_size = kvm_ioctl(kvm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	return kvm->vcpu_mmap_size < 0 ? kvm->vcpu_mmap_size : 0;
}

static int kvm__init_ram(struct kvm *kvm, uint64_t size)
{
	struct kvm_userspace_memory_region region;

	/* memfd so that later issues can share RAM with backends and vhost. */
	kvm->ram_fd = memfd_create("vioscope-ram", MFD_CLOEXEC);
	if (kvm->ram_fd < 0 || ftruncate(kvm->ram_fd, (off_t)size) < 0) {
		pr_err("guest RAM (%llu MiB): %s", (unsigned long long)(size >> 20),
		       strerror(errno));
		return -errno;
	}
	kvm->ram = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE,
			kvm->ram_fd, 0);
	if (kvm->ram == MAP_FAILED) {
		kvm->ram = NULL;
		pr_err("mmap guest RAM: %s", strerror(errno));
		return -errno;
	}
	kvm->ram_size = size;
	madvise(kvm->ram, size, MADV_MERGEABLE);

	region = (struct kvm_userspace_memory_region){
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = size,
		.userspace_addr = (uint64_t)(uintptr_t)kvm->ram,
	};
	return kvm_ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
}

int kvm__init(struct kvm *kvm, const struct kvm_config *cfg)
{
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	int ret;

	memset(kvm, 0, sizeof(*kvm));
	kvm->sys_fd = kvm->vm_fd = kvm->ram_fd = kvm->stop_fd = -1;
	kvm->cfg = *cfg;
	kvm->used_slots = 1;	/* slot 0: guest RAM */
	pthread_mutex_init(&kvm->slots_lock, NULL);
	bus__init(&kvm->pio_bus, "pio");
	bus__init(&kvm->mmio_bus, "mmio");
	pci__host_init(&kvm->pci, kvm);

	if (cfg->ram_size < (4ULL << 20) || cfg->ram_size > KVM_RAM_MAX ||
	    cfg->ram_size & 0xfff) {
		pr_err("--mem must be between 4M and 3G, in whole pages");
		return -EINVAL;
	}
	kvm->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (kvm->stop_fd < 0)
		return -errno;

	ret = kvm__open(kvm);
	if (ret)
		return ret;
	kvm->vm_fd = kvm_ioctl(kvm->sys_fd, KVM_CREATE_VM, 0);
	if (kvm->vm_fd < 0)
		return kvm->vm_fd;

	/* Intel needs a TSS below 4 GiB; KVM ignores it where it is not needed. */
	__kvm_ioctl(kvm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA);
	ret = kvm_ioctl(kvm->vm_fd, KVM_CREATE_IRQCHIP, 0);
	if (ret)
		return ret;
	ret = kvm_ioctl(kvm->vm_fd, KVM_CREATE_PIT2, &pit);
	if (ret)
		return ret;
	ret = irq__init(kvm);
	if (ret)
		return ret;
	ret = kvm__init_ram(kvm, cfg->ram_size);
	if (ret)
		return ret;

	return 0;
}

void kvm__exit(struct kvm *kvm)
{
	irq__exit(kvm);
	pci__host_exit(&kvm->pci);
	if (kvm->ram)
		munmap(kvm->ram, kvm->ram_size);
	if (kvm->ram_fd >= 0)
		close(kvm->ram_fd);
	if (kvm->vm_fd >= 0)
		close(kvm->vm_fd);
	if (kvm->sys_fd >= 0)
		close(kvm->sys_fd);
	if (kvm->stop_fd >= 0)
		close(kvm->stop_fd);
	bus__exit(&kvm->pio_bus);
	bus__exit(&kvm->mmio_bus);
}

int kvm__map_user(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva)
{
	return kvm__map_user_flags(kvm, gpa, size, hva, 0);
}

int kvm__dirty_log(struct kvm *kvm, int slot, uint64_t *bitmap)
{
	struct kvm_dirty_log log = { .slot = (uint32_t)slot, .dirty_bitmap = bitmap };

	return kvm_ioctl(kvm->vm_fd, KVM_GET_DIRTY_LOG, &log);
}

int kvm__map_user_flags(struct kvm *kvm, uint64_t gpa, uint64_t size, void *hva, uint32_t flags)
{
	struct kvm_userspace_memory_region region = {
		.guest_phys_addr = gpa, .memory_size = size, .flags = flags,
		.userspace_addr = (uint64_t)(uintptr_t)hva,
	};
	int slot, ret;

	pthread_mutex_lock(&kvm->slots_lock);
	for (slot = 1; slot < 32 && (kvm->used_slots & (1u << slot)); slot++)
		;
	if (slot == 32) {
		ret = -ENOSPC;
	} else {
		region.slot = (uint32_t)slot;
		ret = kvm_ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
		if (!ret) {
			kvm->used_slots |= 1u << slot;
			ret = slot;
		}
	}
	pthread_mutex_unlock(&kvm->slots_lock);
	return ret;
}

void kvm__unmap_user(struct kvm *kvm, int slot)
{
	struct kvm_userspace_memory_region region = { .slot = (uint32_t)slot };

	pthread_mutex_lock(&kvm->slots_lock);
	if (slot > 0 && slot < 32 && (kvm->used_slots & (1u << slot))) {
		kvm_ioctl(kvm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);	/* size 0 deletes */
		kvm->used_slots &= ~(1u << slot);
	}
	pthread_mutex_unlock(&kvm->slots_lock);
}

void *kvm__gpa_to_hva(struct kvm *kvm, uint64_t gpa, uint64_t len)
{
	if (gpa >= kvm->ram_size || len > kvm->ram_size - gpa)
		return NULL;
	return (uint8_t *)kvm->ram + gpa;
}

void kvm__request_stop(struct kvm *kvm, int status, const char *reason)
{
	if (__atomic_exchange_n(&kvm->stopping, true, __ATOMIC_SEQ_CST))
		return;
	kvm->exit_status = status;
	snprintf(kvm->stop_reason, sizeof(kvm->stop_reason), "%s", reason);
	if (kvm->stop_fd >= 0)
		eventfd_write(kvm->stop_fd, 1);
}

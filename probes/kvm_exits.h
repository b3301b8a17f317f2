/*
 * Shared between probes/kvm_exits.bpf.c and its loader
 * (collectors/kvm_exits.c): the map layouts. __u32/__u64 come from
 * vmlinux.h in BPF programs and from <linux/types.h> in user space.
 */
#ifndef VIOSCOPE__PROBES_KVM_EXITS_H
#define VIOSCOPE__PROBES_KVM_EXITS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#include "analyzers/hist_bucket.h"

#define KX_MAX_THREADS	1024
#define KX_MAX_REASONS	512
#define KX_MAX_ADDRS	256

/*
 * Two views of an exit, both timed per vCPU thread:
 * - KX_GUEST: kvm_exit -> kvm_entry, the host's whole handling of a
 *   hardware exit (VT-x/SVM); reason = VMX or SVM exit code, isa 1/2.
 *   Never fires on PVM.
 * - KX_USER: kvm_userspace_exit -> the next KVM_RUN's guest FPU load
 *   (kvm_fpu load=1), the VMM's handling of an exit in user space;
 *   reason = KVM_EXIT_* (or KX_USER_ERRNO | -errno). Fires everywhere.
 */
enum kx_kind { KX_GUEST = 0, KX_USER = 1 };
#define KX_USER_ERRNO	0x10000

struct kx_key {
	__u32 kind;
	__u32 isa;
	__u32 reason;
	__u32 pad;
};

struct kx_hist {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 buckets[HIST_BUCKETS];
};

/* PIO/MMIO accesses by address (kvm_pio / kvm_mmio), with the time of the
 * ones that went to user space. */
enum kx_space { KX_PIO = 0, KX_MMIO = 1 };

struct kx_addr_key {
	__u64 addr;
	__u32 space;
	__u32 write;
};

struct kx_addr_val {
	__u64 events;		/* tracepoint hits (in-kernel handling included) */
	struct kx_hist user;	/* the ones handled by user space, timed */
};

enum kx_counter {
	KX_C_KVM_EXIT,		/* kvm_exit seen: the pairing path is live */
	KX_C_USER_EXIT,
	KX_C_MSI,		/* kvm_msi_set_irq: MSI injections (irqfd, ioctl) */
	KX_C_SET_IRQ,		/* kvm_set_irq: irqchip pin changes */
	KX_C_DROP_THREAD,	/* thread table full: exit not timed */
	KX_C_DROP_REASON,	/* reason table full */
	KX_C_DROP_ADDR,		/* address table full */
	KX_C_LOST,		/* tracefs back end: events the ring buffer dropped */
	KX_C_NR
};

#endif /* VIOSCOPE__PROBES_KVM_EXITS_H */

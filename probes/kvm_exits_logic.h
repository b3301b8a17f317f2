/*
 * The per-vCPU-thread state machine behind the exit collector, written
 * once for both of its back ends: the BPF program (probes/kvm_exits.bpf.c)
 * and the tracefs reader for hosts without BPF (collectors/kvm_exits_tracefs.c).
 * Each handler takes one tracepoint's fields and fills a struct kx_out with
 * what to record; the caller owns the tables. Plain C, no helpers, no libc.
 */
#ifndef VIOSCOPE__PROBES_KVM_EXITS_LOGIC_H
#define VIOSCOPE__PROBES_KVM_EXITS_LOGIC_H

#include "probes/kvm_exits.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define KVM_EXIT_IO			2
#define KVM_EXIT_MMIO			6
#define KVM_TRACE_MMIO_READ_UNSATISFIED	0
#define KVM_TRACE_MMIO_READ		1

struct kx_thread {
	__u64 exit_ns;		/* kvm_exit seen, kvm_entry not yet */
	__u32 exit_reason;
	__u32 exit_isa;
	__u64 user_ns;		/* kvm_userspace_exit seen, not re-entered */
	__u32 user_reason;
	__u32 pending;		/* last kvm_pio/kvm_mmio write: 1 + space */
	struct kx_addr_key addr;
	__u64 read_done_gpa;	/* user-space MMIO read whose completion to skip */
	__u64 pio_read_ns;	/* user-space PIO read, timed, port not known yet */
};

/* What one event asks the caller to record. */
struct kx_out {
	__u32 timed;		/* add ns to the histogram of key */
	__u32 addr_event;	/* count one access at addr */
	__u32 addr_timed;	/* add addr_ns to addr's user-space histogram */
	__u32 pad;
	struct kx_key key;
	__u64 ns;
	struct kx_addr_key addr;
	__u64 addr_ns;
};

static __always_inline void kx_time(struct kx_out *o, __u32 kind, __u32 isa, __u32 reason,
				    __u64 ns)
{
	o->timed = 1;
	o->key.kind = kind;
	o->key.isa = isa;
	o->key.reason = reason;
	o->ns = ns;
}

/* kvm_exit: a hardware exit starts (VT-x/SVM; never on PVM). */
static __always_inline void kx_on_exit(struct kx_thread *t, __u64 now, __u32 reason, __u32 isa)
{
	t->exit_ns = now;
	t->exit_reason = reason;
	t->exit_isa = isa;
}

/* kvm_entry: back into the guest; the in-kernel handling is over. */
static __always_inline void kx_on_entry(struct kx_thread *t, __u64 now, struct kx_out *o)
{
	if (t->exit_ns)
		kx_time(o, KX_GUEST, t->exit_isa, t->exit_reason, now - t->exit_ns);
	t->exit_ns = 0;
}

/* kvm_userspace_exit: KVM_RUN returns to the VMM (reason, or errno < 0). */
static __always_inline void kx_on_userspace_exit(struct kx_thread *t, __u64 now, int err,
						 __u32 reason, struct kx_out *o)
{
	/* The hardware exit's in-kernel part ends where user space begins. */
	kx_on_entry(t, now, o);
	t->user_ns = now;
	t->user_reason = err < 0 ? KX_USER_ERRNO | (__u32)-err : reason;
	/* Only the access that caused this exit is attributed to it. */
	if (!((t->user_reason == KVM_EXIT_IO && t->pending == 1 + KX_PIO) ||
	      (t->user_reason == KVM_EXIT_MMIO && t->pending == 1 + KX_MMIO)))
		t->pending = 0;
}

/* kvm_fpu load=1: the next KVM_RUN heads for the guest; the VMM is done. */
static __always_inline void kx_on_fpu_load(struct kx_thread *t, __u64 now, struct kx_out *o)
{
	__u64 ns;

	if (!t->user_ns)
		return;
	ns = now - t->user_ns;
	kx_time(o, KX_USER, 0, t->user_reason, ns);
	/* A port read is traced (kvm_pio) only when its data comes back, right
	 * after this: keep the time for that event. */
	if (t->user_reason == KVM_EXIT_IO && !t->pending)
		t->pio_read_ns = ns ? ns : 1;
	if (t->pending) {
		o->addr_timed = 1;
		o->addr = t->addr;
		o->addr_ns = ns;
		/* The read's completion fires kvm_mmio "read" again: no new access. */
		if (t->addr.space == KX_MMIO && !t->addr.write)
			t->read_done_gpa = t->addr.addr | 1;
	}
	t->pending = 0;
	t->user_ns = 0;
}

/* kvm_pio: writes before they are handled, reads when their data is in. */
static __always_inline void kx_on_pio(struct kx_thread *t, __u32 port, __u32 rw,
				      struct kx_out *o)
{
	o->addr_event = 1;
	o->addr.addr = port;
	o->addr.space = KX_PIO;
	o->addr.write = rw ? 1 : 0;
	if (!rw) {
		if (t->pio_read_ns) {
			o->addr_timed = 1;
			o->addr_ns = t->pio_read_ns;
		}
		t->pio_read_ns = 0;
		t->pending = 0;
		return;
	}
	t->addr = o->addr;
	t->pending = 1 + KX_PIO;
}

/* kvm_mmio: writes and unsatisfied reads before they go anywhere; a
 * user-space read's completion again (skipped). */
static __always_inline void kx_on_mmio(struct kx_thread *t, __u32 type, __u64 gpa,
				       struct kx_out *o)
{
	if (type == KVM_TRACE_MMIO_READ && t->read_done_gpa == (gpa | 1)) {
		t->read_done_gpa = 0;
		return;
	}
	o->addr_event = 1;
	o->addr.addr = gpa;
	o->addr.space = KX_MMIO;
	o->addr.write = type > KVM_TRACE_MMIO_READ ? 1 : 0;
	t->addr = o->addr;
	t->pending = 1 + KX_MMIO;
}

#endif /* VIOSCOPE__PROBES_KVM_EXITS_LOGIC_H */

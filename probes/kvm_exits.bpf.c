// SPDX-License-Identifier: GPL-2.0
/*
 * VM exits per vCPU thread from KVM's tracepoints: histograms per exit
 * reason (in-kernel: kvm_exit -> kvm_entry; user space: kvm_userspace_exit
 * -> next entry) and PIO/MMIO counts per address, which the loader maps to
 * the VMM's devices. Everything stays in maps: no per-event buffer, so
 * nothing is dropped on the way to user space, only when a table is full
 * (counted).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

/* Tracepoint records are read straight from ctx: CO-RE relocates the
 * field offsets (vmlinux.h types carry preserve_access_index). */

#include "probes/kvm_exits.h"

#define KVM_EXIT_IO		2
#define KVM_EXIT_MMIO		6
#define KVM_TRACE_MMIO_READ_UNSATISFIED	0
#define KVM_TRACE_MMIO_READ	1

const volatile __u32 targ_tgid = 0;	/* 0: every process */

struct thread {
	__u64 exit_ns;		/* kvm_exit seen, kvm_entry not yet */
	__u32 exit_reason;
	__u32 exit_isa;
	__u64 user_ns;		/* kvm_userspace_exit seen, not re-entered */
	__u32 user_reason;
	__u32 pending;		/* last kvm_pio/kvm_mmio: 1 + space */
	struct kx_addr_key addr;
	__u64 read_done_gpa;	/* user-space MMIO read whose completion to skip */
	__u64 pio_read_ns;	/* user-space PIO read, timed, port not known yet */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_MAX_REASONS);
	__type(key, struct kx_key);
	__type(value, struct kx_hist);
} reasons SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_MAX_ADDRS);
	__type(key, struct kx_addr_key);
	__type(value, struct kx_addr_val);
} addrs SEC(".maps");

/* Per CPU: counted without atomics, summed by the loader. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, KX_C_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Zero values to insert from (too large for the BPF stack). */
static struct thread zero_thread;
static struct kx_hist zero_hist;
static struct kx_addr_val zero_addr;

static __always_inline void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &c);

	if (v)
		(*v)++;
}

static __always_inline bool traced(void)
{
	return !targ_tgid || (bpf_get_current_pid_tgid() >> 32) == targ_tgid;
}

static __always_inline struct thread *thread_get(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct thread *t = bpf_map_lookup_elem(&threads, &tid);

	if (t)
		return t;
	if (bpf_map_update_elem(&threads, &tid, &zero_thread, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&threads, &tid)) {
		count(KX_C_DROP_THREAD);
		return NULL;
	}
	return bpf_map_lookup_elem(&threads, &tid);
}

static __always_inline void hist_add(struct kx_hist *h, __u64 ns)
{
	__u32 b = hist_bucket_of(ns);

	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum_ns, ns);
	if (ns > h->max_ns)
		h->max_ns = ns;		/* racy between CPUs: a bound, not exact */
	if (b < HIST_BUCKETS)
		__sync_fetch_and_add(&h->buckets[b], 1);
}

static __always_inline void reason_add(__u32 kind, __u32 isa, __u32 reason, __u64 ns)
{
	struct kx_key k = { .kind = kind, .isa = isa, .reason = reason };
	struct kx_hist *h = bpf_map_lookup_elem(&reasons, &k);

	if (!h) {
		bpf_map_update_elem(&reasons, &k, &zero_hist, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&reasons, &k);
		if (!h) {
			count(KX_C_DROP_REASON);
			return;
		}
	}
	hist_add(h, ns);
}

static __always_inline struct kx_addr_val *addr_get(struct kx_addr_key *k)
{
	struct kx_addr_val *v = bpf_map_lookup_elem(&addrs, k);

	if (v)
		return v;
	bpf_map_update_elem(&addrs, k, &zero_addr, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&addrs, k);
	if (!v)
		count(KX_C_DROP_ADDR);
	return v;
}

SEC("tracepoint/kvm/kvm_exit")
int kx_kvm_exit(struct trace_event_raw_kvm_exit *ctx)
{
	struct thread *t;

	if (!traced())
		return 0;
	count(KX_C_KVM_EXIT);
	t = thread_get();
	if (!t)
		return 0;
	t->exit_ns = bpf_ktime_get_ns();
	t->exit_reason = ctx->exit_reason;
	/* "isa" (1 VMX, 2 SVM) appeared in 5.8; older kernels: unknown (0). */
	t->exit_isa = bpf_core_field_exists(ctx->isa) ? ctx->isa : 0;
	return 0;
}

SEC("tracepoint/kvm/kvm_entry")
int kx_kvm_entry(void *ctx)
{
	struct thread *t;

	if (!traced())
		return 0;
	t = thread_get();
	if (!t || !t->exit_ns)
		return 0;
	reason_add(KX_GUEST, t->exit_isa, t->exit_reason, bpf_ktime_get_ns() - t->exit_ns);
	t->exit_ns = 0;
	return 0;
}

SEC("tracepoint/kvm/kvm_userspace_exit")
int kx_kvm_userspace_exit(struct trace_event_raw_kvm_userspace_exit *ctx)
{
	__u64 now = bpf_ktime_get_ns();
	int err = ctx->errno;
	struct thread *t;

	if (!traced())
		return 0;
	count(KX_C_USER_EXIT);
	t = thread_get();
	if (!t)
		return 0;
	/* The hardware exit's in-kernel part ends where user space begins. */
	if (t->exit_ns) {
		reason_add(KX_GUEST, t->exit_isa, t->exit_reason, now - t->exit_ns);
		t->exit_ns = 0;
	}
	t->user_ns = now;
	t->user_reason = err < 0 ? KX_USER_ERRNO | (__u32)-err : ctx->reason;
	/* Only the access that caused this exit is attributed to it. */
	if (!((t->user_reason == KVM_EXIT_IO && t->pending == 1 + KX_PIO) ||
	      (t->user_reason == KVM_EXIT_MMIO && t->pending == 1 + KX_MMIO)))
		t->pending = 0;
	return 0;
}

/* kvm_fpu fires with load=1 as each KVM_RUN heads for the guest. */
SEC("tracepoint/kvm/kvm_fpu")
int kx_kvm_fpu(struct trace_event_raw_kvm_fpu *ctx)
{
	struct kx_addr_val *v;
	struct thread *t;
	__u64 ns;

	if (!traced() || !ctx->load)
		return 0;
	t = thread_get();
	if (!t || !t->user_ns)
		return 0;
	ns = bpf_ktime_get_ns() - t->user_ns;
	reason_add(KX_USER, 0, t->user_reason, ns);
	/*
	 * A port read is traced (kvm_pio) only when its data comes back, right
	 * after this: keep the time for that event.
	 */
	if (t->user_reason == KVM_EXIT_IO && !t->pending)
		t->pio_read_ns = ns ? ns : 1;
	if (t->pending) {
		v = addr_get(&t->addr);
		if (v)
			hist_add(&v->user, ns);
		/* The read's completion fires kvm_mmio "read" again: not a new access. */
		if (t->addr.space == KX_MMIO && !t->addr.write)
			t->read_done_gpa = t->addr.addr | 1;
	}
	t->pending = 0;
	t->user_ns = 0;
	return 0;
}

SEC("tracepoint/kvm/kvm_pio")
int kx_kvm_pio(struct trace_event_raw_kvm_pio *ctx)
{
	struct kx_addr_val *v;
	struct thread *t;

	if (!traced())
		return 0;
	t = thread_get();
	if (!t)
		return 0;
	t->addr = (struct kx_addr_key){ .addr = ctx->port, .space = KX_PIO,
					.write = ctx->rw ? 1 : 0 };
	v = addr_get(&t->addr);
	if (v)
		__sync_fetch_and_add(&v->events, 1);
	if (!t->addr.write) {
		/* Reads are traced on completion: in-kernel, or back from user space. */
		if (t->pio_read_ns && v)
			hist_add(&v->user, t->pio_read_ns);
		t->pio_read_ns = 0;
		t->pending = 0;
		return 0;
	}
	t->pending = 1 + KX_PIO;
	return 0;
}

SEC("tracepoint/kvm/kvm_mmio")
int kx_kvm_mmio(struct trace_event_raw_kvm_mmio *ctx)
{
	__u32 type = ctx->type;
	__u64 gpa = ctx->gpa;
	struct kx_addr_val *v;
	struct thread *t;

	if (!traced())
		return 0;
	t = thread_get();
	if (!t)
		return 0;
	if (type == KVM_TRACE_MMIO_READ && t->read_done_gpa == (gpa | 1)) {
		t->read_done_gpa = 0;
		return 0;
	}
	t->addr = (struct kx_addr_key){ .addr = gpa, .space = KX_MMIO,
		.write = type > KVM_TRACE_MMIO_READ ? 1 : 0 };
	t->pending = 1 + KX_MMIO;
	v = addr_get(&t->addr);
	if (v)
		__sync_fetch_and_add(&v->events, 1);
	return 0;
}

SEC("tracepoint/kvm/kvm_msi_set_irq")
int kx_kvm_msi_set_irq(void *ctx)
{
	if (traced())
		count(KX_C_MSI);
	return 0;
}

SEC("tracepoint/kvm/kvm_set_irq")
int kx_kvm_set_irq(void *ctx)
{
	if (traced())
		count(KX_C_SET_IRQ);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

// SPDX-License-Identifier: GPL-2.0
/*
 * VM exits per vCPU thread from KVM's tracepoints: histograms per exit
 * reason (in-kernel: kvm_exit -> kvm_entry; user space: kvm_userspace_exit
 * -> next entry) and PIO/MMIO counts per address, which the loader maps to
 * the VMM's devices. The state machine is probes/kvm_exits_logic.h (shared
 * with the tracefs fallback); this file owns the maps. Everything stays in
 * maps: no per-event buffer, so nothing is dropped on the way to user
 * space, only when a table is full (counted).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* Tracepoint records are read straight from ctx: CO-RE relocates the
 * field offsets (vmlinux.h types carry preserve_access_index). */

#include "probes/kvm_exits_logic.h"

const volatile __u32 targ_tgid = 0;	/* 0: every process */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, KX_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct kx_thread);
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
static struct kx_thread zero_thread;
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

static __always_inline struct kx_thread *thread_get(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct kx_thread *t = bpf_map_lookup_elem(&threads, &tid);

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

/* Carries out what the state machine asked for. */
static __always_inline void record(struct kx_out *o)
{
	struct kx_addr_val *v;
	struct kx_hist *h;

	if (o->timed) {
		h = bpf_map_lookup_elem(&reasons, &o->key);
		if (!h) {
			bpf_map_update_elem(&reasons, &o->key, &zero_hist, BPF_NOEXIST);
			h = bpf_map_lookup_elem(&reasons, &o->key);
		}
		if (h)
			hist_add(h, o->ns);
		else
			count(KX_C_DROP_REASON);
	}
	if (!o->addr_event && !o->addr_timed)
		return;
	v = bpf_map_lookup_elem(&addrs, &o->addr);
	if (!v) {
		bpf_map_update_elem(&addrs, &o->addr, &zero_addr, BPF_NOEXIST);
		v = bpf_map_lookup_elem(&addrs, &o->addr);
	}
	if (!v) {
		count(KX_C_DROP_ADDR);
		return;
	}
	if (o->addr_event)
		__sync_fetch_and_add(&v->events, 1);
	if (o->addr_timed)
		hist_add(&v->user, o->addr_ns);
}

/*
 * The handlers, each reached three ways: tp_btf (typed arguments, the
 * cheapest), raw_tp (the same arguments, untyped) and the classic
 * tracepoint record (any kernel with tracefs). The loader keeps one way
 * (collectors/kvm_exits_bpf.c: probed at run time, reported).
 */
static __always_inline int on_userspace_exit(__u32 reason, int err)
{
	struct kx_out o = {};
	struct kx_thread *t;

	if (!traced())
		return 0;
	count(KX_C_USER_EXIT);
	if (!(t = thread_get()))
		return 0;
	kx_on_userspace_exit(t, bpf_ktime_get_ns(), err, reason, &o);
	record(&o);
	return 0;
}

/* kvm_fpu fires with load=1 as each KVM_RUN heads for the guest. */
static __always_inline int on_fpu(int load)
{
	struct kx_out o = {};
	struct kx_thread *t;

	if (!traced() || !load || !(t = thread_get()))
		return 0;
	kx_on_fpu_load(t, bpf_ktime_get_ns(), &o);
	record(&o);
	return 0;
}

static __always_inline int on_pio(__u32 rw, __u32 port)
{
	struct kx_out o = {};
	struct kx_thread *t;

	if (!traced() || !(t = thread_get()))
		return 0;
	kx_on_pio(t, port, rw, &o);
	record(&o);
	return 0;
}

static __always_inline int on_mmio(__u32 type, __u64 gpa)
{
	struct kx_out o = {};
	struct kx_thread *t;

	if (!traced() || !(t = thread_get()))
		return 0;
	kx_on_mmio(t, type, gpa, &o);
	record(&o);
	return 0;
}

static __always_inline int on_count(__u32 c)
{
	if (traced())
		count(c);
	return 0;
}

/*
 * kvm_exit/kvm_entry: classic tracepoints in every mode. Their typed
 * arguments are the vCPU, whose exit reason lives in VMX- or SVM-private
 * state; the record has it decoded.
 */
SEC("tracepoint/kvm/kvm_exit")
int kx_kvm_exit(struct trace_event_raw_kvm_exit *ctx)
{
	struct kx_thread *t;

	if (!traced())
		return 0;
	count(KX_C_KVM_EXIT);
	t = thread_get();
	/* "isa" (1 VMX, 2 SVM) appeared in 5.8; older kernels: unknown (0). */
	if (t)
		kx_on_exit(t, bpf_ktime_get_ns(), ctx->exit_reason,
			   bpf_core_field_exists(ctx->isa) ? ctx->isa : 0);
	return 0;
}

SEC("tracepoint/kvm/kvm_entry")
int kx_kvm_entry(void *ctx)
{
	struct kx_out o = {};
	struct kx_thread *t;

	if (!traced() || !(t = thread_get()))
		return 0;
	kx_on_entry(t, bpf_ktime_get_ns(), &o);
	record(&o);
	return 0;
}

SEC("tracepoint/kvm/kvm_userspace_exit")
int kx_kvm_userspace_exit(struct trace_event_raw_kvm_userspace_exit *ctx)
{
	return on_userspace_exit(ctx->reason, ctx->errno);
}

SEC("tp_btf/kvm_userspace_exit")
int BPF_PROG(kx_btf_userspace_exit, __u32 reason, int err)
{
	return on_userspace_exit(reason, err);
}

SEC("raw_tp/kvm_userspace_exit")
int BPF_PROG(kx_raw_userspace_exit, __u32 reason, int err)
{
	return on_userspace_exit(reason, err);
}

SEC("tracepoint/kvm/kvm_fpu")
int kx_kvm_fpu(struct trace_event_raw_kvm_fpu *ctx)
{
	return on_fpu(ctx->load);
}

SEC("tp_btf/kvm_fpu")
int BPF_PROG(kx_btf_fpu, int load)
{
	return on_fpu(load);
}

SEC("raw_tp/kvm_fpu")
int BPF_PROG(kx_raw_fpu, int load)
{
	return on_fpu(load);
}

SEC("tracepoint/kvm/kvm_pio")
int kx_kvm_pio(struct trace_event_raw_kvm_pio *ctx)
{
	return on_pio(ctx->rw, ctx->port);
}

SEC("tp_btf/kvm_pio")
int BPF_PROG(kx_btf_pio, unsigned int rw, unsigned int port)
{
	return on_pio(rw, port);
}

SEC("raw_tp/kvm_pio")
int BPF_PROG(kx_raw_pio, unsigned int rw, unsigned int port)
{
	return on_pio(rw, port);
}

SEC("tracepoint/kvm/kvm_mmio")
int kx_kvm_mmio(struct trace_event_raw_kvm_mmio *ctx)
{
	return on_mmio(ctx->type, ctx->gpa);
}

SEC("tp_btf/kvm_mmio")
int BPF_PROG(kx_btf_mmio, int type, int len, __u64 gpa)
{
	return on_mmio((__u32)type, gpa);
}

SEC("raw_tp/kvm_mmio")
int BPF_PROG(kx_raw_mmio, int type, int len, __u64 gpa)
{
	return on_mmio((__u32)type, gpa);
}

SEC("tracepoint/kvm/kvm_msi_set_irq")
int kx_kvm_msi_set_irq(void *ctx)
{
	return on_count(KX_C_MSI);
}

SEC("tp_btf/kvm_msi_set_irq")
int BPF_PROG(kx_btf_msi_set_irq)
{
	return on_count(KX_C_MSI);
}

SEC("raw_tp/kvm_msi_set_irq")
int BPF_PROG(kx_raw_msi_set_irq)
{
	return on_count(KX_C_MSI);
}

SEC("tracepoint/kvm/kvm_set_irq")
int kx_kvm_set_irq(void *ctx)
{
	return on_count(KX_C_SET_IRQ);
}

SEC("tp_btf/kvm_set_irq")
int BPF_PROG(kx_btf_set_irq)
{
	return on_count(KX_C_SET_IRQ);
}

SEC("raw_tp/kvm_set_irq")
int BPF_PROG(kx_raw_set_irq)
{
	return on_count(KX_C_SET_IRQ);
}

char LICENSE[] SEC("license") = "GPL";

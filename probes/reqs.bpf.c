// SPDX-License-Identifier: GPL-2.0
/*
 * Request probes: every step of a guest disk request in vioscope-vmm (its
 * USDT probes req_*, attached per process) plus the kernel's io_uring
 * completion of the backend I/O, as timestamped events for user space to
 * join by request id (analyzers/stages.c). Events go through a ring buffer,
 * or a perf buffer on kernels without one (the loader decides; use_ringbuf).
 * A full buffer drops the event and counts it.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/usdt.bpf.h>

#include "probes/reqs.h"

const volatile __u32 targ_tgid = 0;
const volatile bool use_ringbuf = true;

/* Its type becomes PERF_EVENT_ARRAY when the loader falls back. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, REQ_RINGBUF_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, REQ_C_NR);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* Device names, read from the VMM once per device (first pickup). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, REQ_MAX_DEVS);
	__type(key, __u32);
	__type(value, struct req_dev_name);
} dev_names SEC(".maps");

/* Block requests this VMM issued: their completion (in interrupt context,
 * any task) is kept only if its (device, sector) is here. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, REQ_MAX_BLK_INFLIGHT);
	__type(key, struct req_blk_key);
	__type(value, __u8);
} blk_inflight SEC(".maps");

static __always_inline void count(__u32 c)
{
	__u64 *v = bpf_map_lookup_elem(&counters, &c);

	if (v)
		(*v)++;
}

static __always_inline void emit(void *ctx, __u16 kind, __u64 req, __u64 arg, __s32 res,
				 __u32 dev, __u32 tag, __u64 ts)
{
	struct req_event e = {
		.ts = ts, .req = req, .arg = arg, .res = res, .kind = kind,
		.dev = (__u16)dev, .tag = tag, .tid = (__u32)bpf_get_current_pid_tgid(),
	};
	long err;

	/* No wake-up per event: the reader drains on a timer, which keeps
	 * the probes' cost off the request path. */
	if (use_ringbuf)
		err = bpf_ringbuf_output(&events, &e, sizeof(e), BPF_RB_NO_WAKEUP);
	else
		err = bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
	count(err ? REQ_C_DROPS : REQ_C_EVENTS);
}

SEC("usdt")
int BPF_USDT(req_pickup, __u32 dev, const char *name, __u64 req, __u32 tag, __u64 doorbell_ns)
{
	__u64 ts = bpf_ktime_get_ns();
	struct req_dev_name *n;

	if (dev < REQ_MAX_DEVS) {
		n = bpf_map_lookup_elem(&dev_names, &dev);
		if (n && !n->name[0])
			bpf_probe_read_user_str(n->name, sizeof(n->name), name);
	}
	emit(ctx, REQ_PICKUP, req, doorbell_ns, 0, dev, tag, ts);
	return 0;
}

SEC("usdt")
int BPF_USDT(req_submit, __u64 req, __u64 breq)
{
	emit(ctx, REQ_SUBMIT, req, breq, 0, 0, 0, bpf_ktime_get_ns());
	return 0;
}

SEC("usdt")
int BPF_USDT(req_backend_done, __u64 req, __s64 result)
{
	emit(ctx, REQ_BACKEND_DONE, req, 0, (__s32)result, 0, 0, bpf_ktime_get_ns());
	return 0;
}

SEC("usdt")
int BPF_USDT(req_done, __u64 req, __u32 status)
{
	emit(ctx, REQ_DONE, req, 0, (__s32)status, 0, 0, bpf_ktime_get_ns());
	return 0;
}

SEC("usdt")
int BPF_USDT(req_guest, __u32 dev, __u64 tag, __u64 submit_ns, __u64 doorbell_ns,
	     __u64 complete_ns)
{
	emit(ctx, REQ_GUEST, doorbell_ns, complete_ns, 0, dev, (__u32)tag, submit_ns);
	return 0;
}

/* The kernel posted the CQE of a backend I/O: io_uring's own view of the
 * I/O's end, before the VMM's event loop wakes to reap it. */
SEC("tracepoint/io_uring/io_uring_complete")
int uring_complete(struct trace_event_raw_io_uring_complete *tp)
{
	if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return 0;
	emit(tp, REQ_URING_DONE, 0, tp->user_data, tp->res, 0, 0, bpf_ktime_get_ns());
	return 0;
}

/*
 * The backend I/O at the block device, when the image is on one and the
 * page cache is bypassed (O_DIRECT): issued by the VMM's thread as it
 * submits, completed later from the device's interrupt.
 */
SEC("tracepoint/block/block_rq_issue")
int blk_issue(struct trace_event_raw_block_rq *tp)
{
	struct req_blk_key k = { .sector = tp->sector, .dev = tp->dev };
	__u8 one = 1;

	if (targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid)
		return 0;
	bpf_map_update_elem(&blk_inflight, &k, &one, BPF_ANY);
	emit(tp, REQ_BLK_ISSUE, 0, k.sector, 0, 0, k.dev, bpf_ktime_get_ns());
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int blk_complete(struct trace_event_raw_block_rq_completion *tp)
{
	struct req_blk_key k = { .sector = tp->sector, .dev = tp->dev };

	if (bpf_map_delete_elem(&blk_inflight, &k))
		return 0;	/* not one of the VMM's */
	emit(tp, REQ_BLK_DONE, 0, k.sector, tp->error, 0, k.dev, bpf_ktime_get_ns());
	return 0;
}

char LICENSE[] SEC("license") = "GPL";

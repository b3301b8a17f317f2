/*
 * Shared between probes/reqs.bpf.c and collectors/reqs.c: one event per
 * step of a guest request, streamed to user space (ring buffer, else perf
 * buffer) and joined there by analyzers/stages.c.
 */
#ifndef VIOSCOPE__PROBES_REQS_H
#define VIOSCOPE__PROBES_REQS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define REQ_MAX_DEVS		64
#define REQ_DEV_NAME_LEN	32	/* as struct device's name */
#define REQ_RINGBUF_BYTES	(16u << 20)
#define REQ_MAX_BLK_INFLIGHT	4096	/* block requests the VMM has issued, not completed */

struct req_blk_key {
	__u64 sector;
	__u32 dev;
	__u32 pad;
};

/* What happened; the fields of struct req_event say which value is where. */
enum req_kind {
	REQ_PICKUP = 1,		/* ts; req; dev; tag; arg = doorbell_ns */
	REQ_SUBMIT,		/* ts; req; arg = breq (io_uring user_data) */
	REQ_URING_DONE,		/* ts; arg = user_data; res (kernel: CQE posted) */
	REQ_BACKEND_DONE,	/* ts; req; res */
	REQ_DONE,		/* ts; req; res = status */
	REQ_GUEST,		/* ts = guest took the I/O; req = its doorbell write;
				   arg = completion seen; dev; tag */
	REQ_BLK_ISSUE,		/* ts; arg = sector; tag = block dev_t; tid (the issuer) */
	REQ_BLK_DONE,		/* ts; arg = sector; tag = block dev_t; res = error */
	REQ_NR_KINDS
};

struct req_event {
	__u64 ts;		/* CLOCK_MONOTONIC ns */
	__u64 req;
	__u64 arg;
	__s32 res;
	__u16 kind;
	__u16 dev;
	__u32 tag;
	__u32 tid;		/* the thread that fired it */
};

enum req_counter {
	REQ_C_EVENTS,		/* emitted */
	REQ_C_DROPS,		/* the buffer was full: event lost */
	REQ_C_NR
};

struct req_dev_name {
	char name[REQ_DEV_NAME_LEN];
};

#endif /* VIOSCOPE__PROBES_REQS_H */

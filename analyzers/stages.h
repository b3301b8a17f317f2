#ifndef VIOSCOPE__ANALYZERS_STAGES_H
#define VIOSCOPE__ANALYZERS_STAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analyzers/stats.h"
#include "probes/reqs.h"

/*
 * The per-request stage breakdown: request events (probes/reqs.h) in any
 * order, joined by request id, then with the kernel's view of the backend
 * I/O (block requests, io_uring CQE) and the guest's own times of each
 * I/O by device and tag, into the time each request spent in every stage.
 * The stages telescope: per request they add up exactly to the guest's
 * latency (doorbell -> done on the VMM's side when the guest reports no
 * times, as for Linux guests).
 */
enum stage {
	STAGE_DRIVER,	/* the guest takes the I/O -> writes the doorbell */
	STAGE_NOTIFY,	/* guest doorbell write -> the VMM learns of it */
	STAGE_PICKUP,	/* -> the model takes the request */
	STAGE_SUBMIT,	/* -> handed to the backend */
	STAGE_QUEUE,	/* -> the block layer issues it to the device (0 without one) */
	STAGE_DEVICE,	/* -> the device completes it (0 without one) */
	STAGE_CQE,	/* -> the kernel posts the io_uring CQE */
	STAGE_REAP,	/* -> the VMM takes the completion */
	STAGE_INJECT,	/* -> status posted, interrupt sent */
	STAGE_DELIVER,	/* -> the guest sees the completion */
	NR_STAGES
};

extern const char *const stage_names[NR_STAGES];
extern const char *const stage_help[NR_STAGES];

struct stage_device {
	unsigned int dev;
	uint64_t requests;	/* picked up by the model */
	uint64_t complete;	/* pickup, submit, backend done and done all seen */
	uint64_t no_backend;	/* answered without backend I/O (errors, GET_ID) */
	uint64_t partial;	/* some events missing: dropped, or cut by the window */
	uint64_t uring_missing;	/* no io_uring CQE seen: its reap counts as cqe */
	uint64_t blk_ios;	/* reached a block device (queue and device measured) */
	uint64_t guest_ios;	/* the guest's own records of its I/Os */
	uint64_t matched;	/* guest I/Os joined to a VMM request */
	uint64_t negative;	/* joined requests with a stage below zero (clock error) */
	uint64_t early;		/* taken before the guest wrote its doorbell (virtqueue) */
	bool guest_view;	/* stages include driver/notify/deliver; totals are
				   guest latency */
	size_t n;		/* requests in the breakdown */
	struct stats_summary stage[NR_STAGES];	/* ns; n == 0 where not measured */
	struct stats_summary total;		/* ns */
};

struct stages;

struct stages *stages__new(void);
void stages__free(struct stages *s);
/* 0 or -ENOMEM. Events may come in any order. */
int stages__add(struct stages *s, const struct req_event *e);
uint64_t stages__events(const struct stages *s);
/*
 * Joins what was added. *out gets one entry per device (caller frees);
 * returns their number or -ENOMEM.
 */
int stages__finish(struct stages *s, struct stage_device **out);

#endif /* VIOSCOPE__ANALYZERS_STAGES_H */

/*
 * The stage breakdown fed recorded event sequences: in order, shuffled,
 * with events missing, with io_uring user_data reused, with block
 * requests and without, with requests the guest did not time, and
 * without guest times (a Linux guest).
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/stages.h"

#define DEV_PV	3
#define DEV_EM	5
#define TID	77		/* the thread that submits to the backend */
#define BLKDEV	0x1000001	/* a dev_t */

/* One request, all times in ns from a common origin; 0 = event missing. */
struct script {
	uint64_t req, breq;
	unsigned int dev, tag;
	uint64_t g_submit, g_bell, doorbell, pickup, submit, blk_issue, blk_done, uring, backend,
		 done, g_complete;
	uint64_t sector;
};

static struct req_event ev(uint16_t kind, uint64_t ts, uint64_t req, uint64_t arg,
			   unsigned int dev, unsigned int tag)
{
	return (struct req_event){ .ts = ts, .req = req, .arg = arg, .kind = kind,
				   .dev = (uint16_t)dev, .tag = tag, .tid = TID };
}

/* Appends the events of s to v (skipping the zero times); returns the count. */
static size_t events_of(const struct script *s, struct req_event *v)
{
	size_t n = 0;

	if (s->pickup)
		v[n++] = ev(REQ_PICKUP, s->pickup, s->req, s->doorbell, s->dev, s->tag);
	if (s->submit)
		v[n++] = ev(REQ_SUBMIT, s->submit, s->req, s->breq, 0, 0);
	if (s->blk_issue)
		v[n++] = ev(REQ_BLK_ISSUE, s->blk_issue, 0, s->sector, 0, BLKDEV);
	if (s->blk_done)
		v[n++] = ev(REQ_BLK_DONE, s->blk_done, 0, s->sector, 0, BLKDEV);
	if (s->uring)
		v[n++] = ev(REQ_URING_DONE, s->uring, 0, s->breq, 0, 0);
	if (s->backend)
		v[n++] = ev(REQ_BACKEND_DONE, s->backend, s->req, 0, 0, 0);
	if (s->done)
		v[n++] = ev(REQ_DONE, s->done, s->req, 0, 0, 0);
	if (s->g_submit)
		v[n++] = ev(REQ_GUEST, s->g_submit, s->g_bell, s->g_complete, s->dev, s->tag);
	/* Each disk model submits from its own thread (vCPU, event loop);
	 * io_uring issues the block request inline, in that thread. */
	for (size_t i = 0; i < n; i++)
		v[i].tid = TID + s->dev;
	return n;
}

/* A QD1 request: every stage a known length (us: 1 2 3 ... 10). */
static struct script qd1(uint64_t req, uint64_t t, unsigned int dev, unsigned int tag)
{
	return (struct script){
		.req = req, .breq = 0x1000, .dev = dev, .tag = tag, .sector = 8 * req,
		.g_submit = t, .g_bell = t + 1000, .doorbell = t + 3000, .pickup = t + 6000,
		.submit = t + 10000, .blk_issue = t + 15000, .blk_done = t + 21000,
		.uring = t + 28000, .backend = t + 36000, .done = t + 45000, .g_complete = t + 55000,
	};
}

#define QD1_TOTAL	55000.0

static const struct stage_device *dev_of(const struct stage_device *d, int n, unsigned int dev)
{
	int i;

	for (i = 0; i < n; i++)
		if (d[i].dev == dev)
			return &d[i];
	return NULL;
}

static int run(struct req_event *v, size_t n, struct stage_device **out)
{
	struct stages *s = stages__new();
	size_t i;
	int ret;

	cr_assert_not_null(s);
	for (i = 0; i < n; i++)
		cr_assert_eq(stages__add(s, &v[i]), 0);
	cr_assert_eq(stages__events(s), n);
	ret = stages__finish(s, out);
	stages__free(s);
	return ret;
}

static void assert_exact_qd1(const struct stage_device *d, size_t n)
{
	int st;

	cr_assert_not_null(d);
	cr_assert(d->guest_view);
	cr_assert_eq(d->n, n);
	cr_assert_eq(d->matched, n);
	cr_assert_eq(d->negative, 0);
	for (st = 0; st < NR_STAGES; st++) {
		cr_assert_eq(d->stage[st].n, n, "%s", stage_names[st]);
		cr_assert_float_eq(d->stage[st].p50, (st + 1) * 1000.0, 1e-6, "%s", stage_names[st]);
	}
	cr_assert_float_eq(d->total.mean, QD1_TOTAL, 1e-6);
	cr_assert_eq(d->blk_ios, n);
}

Test(stages, in_order_every_stage_is_exact)
{
	struct req_event v[64 * 8];
	struct stage_device *d;
	size_t n = 0;
	int i, ndev;

	for (i = 0; i < 64; i++) {
		struct script s = qd1((uint64_t)i + 1, 100000ULL * (uint64_t)(i + 1), DEV_PV, 0);

		n += events_of(&s, v + n);
	}
	ndev = run(v, n, &d);
	cr_assert_eq(ndev, 1);
	assert_exact_qd1(dev_of(d, ndev, DEV_PV), 64);
	free(d);
}

/* Per-CPU buffers and late guest records: any order joins the same way. */
Test(stages, shuffled_events_join_the_same)
{
	struct req_event v[2 * 64 * 8];
	struct stage_device *d;
	size_t n = 0, i;
	int ndev;

	for (i = 0; i < 64; i++) {
		struct script a = qd1(2 * i + 1, 100000ULL * (i + 1), DEV_PV, 3 * (i % 4));
		struct script b = qd1(2 * i + 2, 100000ULL * (i + 1) + 500, DEV_EM, i % 4);

		a.breq = 0x1000 + (i % 4);	/* each in-flight request its own pointer */
		b.breq = 0x2000 + (i % 4);
		n += events_of(&a, v + n);
		n += events_of(&b, v + n);
	}
	srand(42);
	for (i = n - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1);
		struct req_event t = v[i];

		v[i] = v[j];
		v[j] = t;
	}
	ndev = run(v, n, &d);
	cr_assert_eq(ndev, 2);
	assert_exact_qd1(dev_of(d, ndev, DEV_PV), 64);
	assert_exact_qd1(dev_of(d, ndev, DEV_EM), 64);
	free(d);
}

/*
 * The same user_data comes back once a request is gone: each CQE belongs
 * to the latest submission before it, never to an earlier request.
 */
Test(stages, reused_uring_pointers_join_the_right_request)
{
	struct req_event v[3 * 8];
	struct stage_device *d;
	struct script s;
	size_t n = 0;
	int i, ndev;

	for (i = 0; i < 3; i++) {
		s = qd1((uint64_t)i + 1, 100000ULL * (uint64_t)(i + 1), DEV_PV, 0);
		n += events_of(&s, v + n);	/* all share breq 0x1000 */
	}
	ndev = run(v, n, &d);
	cr_assert_eq(d[0].uring_missing, 0);
	assert_exact_qd1(&d[0], 3);
	cr_assert_eq(ndev, 1);
	free(d);
}

/*
 * Dropped events: a request without its backend completion is partial
 * and left out; one without a CQE keeps its reap inside io; a guest I/O
 * whose request was not seen stays unmatched; requests before the guest's
 * window (its verify pass) are not joined to its I/Os.
 */
Test(stages, missing_events_are_counted_not_guessed)
{
	struct req_event v[16 * 8];
	struct stage_device *d;
	struct script s;
	size_t n = 0;
	int ndev;

	/* Before the window: VMM requests on the same tag, no guest times. */
	s = qd1(1, 100000, DEV_PV, 0);
	s.g_submit = 0;
	n += events_of(&s, v + n);
	s = qd1(2, 200000, DEV_PV, 0);
	s.g_submit = 0;
	n += events_of(&s, v + n);
	/* The window. */
	s = qd1(3, 1000000, DEV_PV, 0);
	n += events_of(&s, v + n);
	s = qd1(4, 1100000, DEV_PV, 0);
	s.backend = 0;			/* dropped: partial */
	n += events_of(&s, v + n);
	s = qd1(5, 1200000, DEV_PV, 0);
	s.uring = 0;			/* no CQE seen */
	n += events_of(&s, v + n);
	s = qd1(6, 1300000, DEV_PV, 0);
	s.pickup = s.submit = s.uring = s.backend = s.done = 0;	/* only the guest's record */
	n += events_of(&s, v + n);
	s = qd1(7, 1400000, DEV_PV, 0);
	n += events_of(&s, v + n);

	ndev = run(v, n, &d);
	cr_assert_eq(ndev, 1);
	cr_assert_eq(d[0].requests, 6);
	cr_assert_eq(d[0].guest_ios, 5);
	cr_assert_eq(d[0].matched, 4, "3, 4, 5 and 7; 6 was never seen by the VMM");
	cr_assert_eq(d[0].partial, 1);
	cr_assert_eq(d[0].uring_missing, 1);
	cr_assert_eq(d[0].n, 3, "3, 5 and 7 are complete and joined");
	cr_assert_float_eq(d[0].stage[STAGE_CQE].max, 7000.0 + 8000.0, 1e-6,
			   "5's reap counted as cqe");
	cr_assert_float_eq(d[0].stage[STAGE_REAP].min, 0.0, 1e-6);
	cr_assert_float_eq(d[0].total.mean, QD1_TOTAL, 1e-6, "the stages still add up");
	free(d);
}

/* A stage the clocks put below zero is kept (no fudging) and counted. */
Test(stages, negative_stages_are_counted)
{
	struct req_event v[8];
	struct stage_device *d;
	struct script s = qd1(1, 100000, DEV_EM, 2);
	size_t n;

	s.g_complete = s.done - 500;	/* guest clock behind the host's */
	n = events_of(&s, v);
	cr_assert_eq(run(v, n, &d), 1);
	cr_assert_eq(d[0].negative, 1);
	cr_assert_float_eq(d[0].stage[STAGE_DELIVER].p50, -500.0, 1e-6);
	free(d);
}

/*
 * A virtqueue request the VMM took before its own doorbell (it was in the
 * ring while an earlier kick was being handled): no notify, no pickup,
 * the driver stage ends at the pickup, nothing is negative.
 */
Test(stages, taken_before_its_doorbell)
{
	struct req_event v[8];
	struct stage_device *d;
	struct script s = qd1(1, 100000, DEV_PV, 3);
	size_t n;

	s.doorbell = s.g_submit + 200;		/* an earlier kick's handling began */
	s.pickup = s.g_submit + 500;		/* found in the ring ... */
	s.g_bell = s.g_submit + 900;		/* ... before the guest rang */
	n = events_of(&s, v);
	cr_assert_eq(run(v, n, &d), 1);
	cr_assert_eq(d[0].early, 1);
	cr_assert_eq(d[0].negative, 0);
	cr_assert_float_eq(d[0].stage[STAGE_DRIVER].p50, 500.0, 1e-6);
	cr_assert_float_eq(d[0].stage[STAGE_NOTIFY].p50, 0.0, 1e-6);
	cr_assert_float_eq(d[0].stage[STAGE_PICKUP].p50, 0.0, 1e-6);
	cr_assert_float_eq(d[0].total.mean, QD1_TOTAL, 1e-6);
	free(d);
}

/*
 * Block requests: from the page cache there are none (queue and device
 * zero, cqe the whole I/O); one issued by another thread (an io_uring
 * worker) or never completed is not guessed at; a completion for a sector
 * issued earlier by another request does not count for this one.
 */
Test(stages, block_requests_split_the_backend_io)
{
	struct req_event v[4 * 8];
	struct stage_device *d;
	struct script s;
	size_t n = 0;

	s = qd1(1, 100000, DEV_PV, 0);
	s.blk_issue = s.blk_done = 0;		/* page cache */
	n += events_of(&s, v + n);
	s = qd1(2, 200000, DEV_PV, 0);
	n += events_of(&s, v + n);
	v[n - 6].tid = 1;			/* its issue: an io_uring worker thread */
	cr_assert_eq(v[n - 6].kind, REQ_BLK_ISSUE);
	s = qd1(3, 300000, DEV_PV, 0);
	s.blk_done = 0;				/* completion lost */
	n += events_of(&s, v + n);
	s = qd1(4, 400000, DEV_PV, 0);
	n += events_of(&s, v + n);
	cr_assert_eq(run(v, n, &d), 1);
	cr_assert_eq(d[0].n, 4);
	cr_assert_eq(d[0].blk_ios, 1, "only request 4 has its block request, complete");
	cr_assert_float_eq(d[0].stage[STAGE_DEVICE].max, 6000.0, 1e-6);
	cr_assert_float_eq(d[0].stage[STAGE_CQE].max, 18000.0, 1e-6, "submit -> CQE without one");
	cr_assert_float_eq(d[0].total.mean, QD1_TOTAL, 1e-6);
	free(d);
}

/* Without guest times (Linux guests): doorbell -> done in the VMM. */
Test(stages, vmm_view_without_guest_times)
{
	struct req_event v[8 * 8 + 2];
	struct stage_device *d;
	size_t n = 0;
	int i;

	for (i = 0; i < 8; i++) {
		struct script s = qd1((uint64_t)i + 1, 100000ULL * (uint64_t)(i + 1), DEV_EM, 1);

		s.g_submit = 0;
		n += events_of(&s, v + n);
	}
	/* An error answered without backend I/O. */
	v[n++] = ev(REQ_PICKUP, 5000000, 99, 4999000, DEV_EM, 1);
	v[n++] = ev(REQ_DONE, 5001000, 99, 0, 0, 0);
	cr_assert_eq(run(v, n, &d), 1);
	cr_assert_not(d[0].guest_view);
	cr_assert_eq(d[0].n, 8);
	cr_assert_eq(d[0].no_backend, 1);
	cr_assert_eq(d[0].stage[STAGE_DRIVER].n, 0);
	cr_assert_eq(d[0].stage[STAGE_NOTIFY].n, 0);
	cr_assert_eq(d[0].stage[STAGE_DELIVER].n, 0);
	cr_assert_float_eq(d[0].total.mean, 42000.0, 1e-6, "doorbell -> done");
	free(d);
}

Test(stages, unknown_kinds_are_ignored)
{
	struct req_event e = ev(REQ_NR_KINDS, 1, 1, 0, 0, 0);
	struct stage_device *d;
	struct stages *s = stages__new();

	cr_assert_eq(stages__add(s, &e), 0);
	cr_assert_eq(stages__events(s), 0);
	cr_assert_eq(stages__finish(s, &d), 0);
	free(d);
	stages__free(s);
}

/*
 * The per-request stage breakdown (see stages.h). Joins, in order:
 * VMM events by request id; io_uring completions to the request whose
 * backend submission carried that user_data (the latest one before the
 * CQE: the pointer is reused once a request is gone); block requests to
 * the latest submission on the thread that issued them (io_uring issues
 * inline, in the submitter), their completions by device and sector; the
 * guest's I/Os to
 * the VMM's requests of the same device and tag, in order (a tag is busy
 * from submission to completion, so the two sequences pair one to one;
 * requests outside the guest's measured window are left over).
 */
#include "analyzers/stages.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

const char *const stage_names[NR_STAGES] = {
	"driver", "notify", "pickup", "submit", "queue", "device", "cqe", "reap", "inject",
	"deliver",
};

const char *const stage_help[NR_STAGES] = {
	"the guest takes the I/O -> its driver writes the doorbell",
	"guest doorbell write -> VMM sees it (exit to user space, or ioeventfd + event loop)",
	"doorbell -> the device model takes the request (queued behind earlier ones)",
	"request taken -> handed to the backend (parse, check, translate)",
	"backend submit -> the block layer issues it to the device (0: no block device)",
	"-> the device completes it (0: page cache, tmpfs, no block device)",
	"-> the kernel posts the io_uring CQE (a NIC: the TAP write returns)",
	"CQE posted -> the VMM's event loop takes the completion",
	"completion taken -> status posted and interrupt sent",
	"interrupt sent -> the guest sees the completion",
};

/* A guest I/O's pickup may precede its converted submission time by the
 * clock anchors' error; anything further off belongs to another window. */
#define JOIN_SLACK_NS	50000

/*
 * Events are kept in 1 Mi-event chunks (40 MiB): no copying as a trace
 * grows, and transparent huge pages where the kernel allows, since page
 * faults dominate taking in events on a VM host.
 */
#define CHUNK_SHIFT	20
#define CHUNK		(1u << CHUNK_SHIFT)

struct stages {
	struct req_event **chunk;
	size_t nchunks, nr;
};

#define EV(s, i) (&(s)->chunk[(i) >> CHUNK_SHIFT][(i) & (CHUNK - 1)])

struct rq {
	uint64_t req;
	uint64_t t[REQ_NR_KINDS];	/* by enum req_kind; 0 = not seen */
	uint64_t doorbell, breq;
	uint64_t g_submit, g_doorbell, g_complete;	/* joined guest I/O, or 0 */
	uint64_t blk_issue, blk_done;	/* first block request issued, last completed */
	unsigned int blk_n, blk_completed;
	unsigned int dev;
	uint32_t tag;
	uint32_t submit_tid;
};

/* A block request issued for some request, waiting for its completion. */
struct blk_io {
	uint64_t sector, ts;
	uint32_t dev;
	bool done;
	struct rq *r;
};

struct stages *stages__new(void)
{
	return calloc(1, sizeof(struct stages));
}

void stages__free(struct stages *s)
{
	size_t i;

	for (i = 0; s && i < s->nchunks; i++)
		munmap(s->chunk[i], CHUNK * sizeof(struct req_event));
	if (s)
		free(s->chunk);
	free(s);
}

int stages__add(struct stages *s, const struct req_event *e)
{
	if (e->kind == 0 || e->kind >= REQ_NR_KINDS)
		return 0;
	if (s->nr == s->nchunks * CHUNK) {
		struct req_event **c = realloc(s->chunk, (s->nchunks + 1) * sizeof(*c));
		size_t bytes = CHUNK * sizeof(struct req_event);

		if (!c)
			return -ENOMEM;
		s->chunk = c;
		/* Populated at once: one call instead of a fault per page. */
		c[s->nchunks] = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
				     MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (c[s->nchunks] == MAP_FAILED)
			return -ENOMEM;
		s->nchunks++;
	}
	*EV(s, s->nr) = *e;
	s->nr++;
	return 0;
}

uint64_t stages__events(const struct stages *s)
{
	return s->nr;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

static int by_dev_tag_ts(const void *a, const void *b)
{
	const struct req_event *x = a, *y = b;

	if (x->dev != y->dev)
		return CMP(x->dev, y->dev);
	return x->tag != y->tag ? CMP(x->tag, y->tag) : CMP(x->ts, y->ts);
}

static int rq_by_breq(const void *a, const void *b)
{
	const struct rq *x = *(struct rq *const *)a, *y = *(struct rq *const *)b;

	return x->breq != y->breq ? CMP(x->breq, y->breq) : CMP(x->t[REQ_SUBMIT], y->t[REQ_SUBMIT]);
}

static int rq_by_dev_tag(const void *a, const void *b)
{
	const struct rq *x = *(struct rq *const *)a, *y = *(struct rq *const *)b;

	if (x->dev != y->dev)
		return CMP(x->dev, y->dev);
	return x->tag != y->tag ? CMP(x->tag, y->tag) : CMP(x->t[REQ_PICKUP], y->t[REQ_PICKUP]);
}

static bool is_vmm(const struct req_event *e)
{
	return e->req && (e->kind == REQ_PICKUP || e->kind == REQ_SUBMIT ||
			  e->kind == REQ_BACKEND_DONE || e->kind == REQ_DONE);
}

/* Request ids -> index in the rq array: open addressing, linear probing,
 * the key in the slot (no trip to the request to compare). */
struct rq_slot {
	uint64_t req;
	uint32_t idx;		/* index + 1; 0 = empty */
};

struct rq_index {
	struct rq_slot *slot;
	size_t mask;
};

static struct rq_slot *rq_find(struct rq_index *h, uint64_t req)
{
	size_t i = (size_t)(req * 0x9e3779b97f4a7c15ULL >> 32) & h->mask;

	while (h->slot[i].idx && h->slot[i].req != req)
		i = (i + 1) & h->mask;
	return &h->slot[i];
}

static int rq_index_grow(struct rq_index *h)
{
	struct rq_index bigger = { calloc((h->mask + 1) * 2, sizeof(struct rq_slot)),
				   h->mask * 2 + 1 };
	size_t i;

	if (!bigger.slot)
		return -ENOMEM;
	for (i = 0; i <= h->mask; i++)
		if (h->slot[i].idx)
			*rq_find(&bigger, h->slot[i].req) = h->slot[i];
	free(h->slot);
	*h = bigger;
	return 0;
}

/*
 * One struct rq per request id that has a pickup (else its device is
 * unknown), built in one pass over the events in arrival order; a repeated
 * event keeps the earliest time.
 */
static struct rq *build_requests(const struct stages *s, size_t *nr)
{
	struct rq_index h = { calloc(1 << 16, sizeof(struct rq_slot)), (1 << 16) - 1 };
	struct rq *rqs = NULL;
	size_t i, n = 0, cap = 0;

	if (!h.slot)
		return NULL;
	for (i = 0; i < s->nr; i++) {
		const struct req_event *e = EV(s, i);
		struct rq_slot *slot;
		struct rq *r;

		if (!is_vmm(e))
			continue;
		slot = rq_find(&h, e->req);
		if (!slot->idx) {
			if (n == cap) {
				struct rq *p = realloc(rqs, (cap = cap ? cap * 2 : 4096) * sizeof(*p));

				if (!p || n >= UINT32_MAX - 1)
					goto fail;
				rqs = p;
			}
			memset(&rqs[n], 0, sizeof(rqs[n]));
			rqs[n].req = e->req;
			*slot = (struct rq_slot){ e->req, (uint32_t)++n };
			if (n * 2 > h.mask && rq_index_grow(&h))
				goto fail;
			slot = rq_find(&h, e->req);
		}
		r = &rqs[slot->idx - 1];
		if (r->t[e->kind] && r->t[e->kind] <= e->ts)
			continue;	/* a repeat: the earliest counts */
		r->t[e->kind] = e->ts;
		if (e->kind == REQ_PICKUP) {
			r->dev = e->dev;
			r->tag = e->tag;
			r->doorbell = e->arg;
		} else if (e->kind == REQ_SUBMIT) {
			r->breq = e->arg;
			r->submit_tid = e->tid;
		}
	}
	free(h.slot);
	/* Requests seen only after their pickup (attached late) are dropped. */
	for (i = *nr = 0; i < n; i++)
		if (rqs[i].t[REQ_PICKUP])
			rqs[(*nr)++] = rqs[i];
	if (!rqs)
		rqs = calloc(1, sizeof(*rqs));
	return rqs;
fail:
	free(h.slot);
	free(rqs);
	return NULL;
}

/* Each io_uring CQE goes to the latest submission of its user_data before it. */
static int join_uring(const struct stages *s, struct rq *rqs, size_t nr)
{
	struct rq **by = malloc((nr ? nr : 1) * sizeof(*by));
	size_t i, n = 0;

	if (!by)
		return -ENOMEM;
	for (i = 0; i < nr; i++)
		if (rqs[i].t[REQ_SUBMIT])
			by[n++] = &rqs[i];
	qsort(by, n, sizeof(*by), rq_by_breq);
	for (i = 0; i < s->nr; i++) {
		const struct req_event *e = EV(s, i);
		size_t lo = 0, hi = n;
		struct rq *r;

		if (e->kind != REQ_URING_DONE)
			continue;
		/* First entry past (user_data, ts); the one before is the candidate. */
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (by[mid]->breq < e->arg ||
			    (by[mid]->breq == e->arg && by[mid]->t[REQ_SUBMIT] <= e->ts))
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo)
			continue;
		r = by[lo - 1];
		if (r->breq != e->arg || r->t[REQ_URING_DONE] ||
		    (r->t[REQ_BACKEND_DONE] && e->ts > r->t[REQ_BACKEND_DONE]))
			continue;
		r->t[REQ_URING_DONE] = e->ts;
	}
	free(by);
	return 0;
}

static int rq_by_tid(const void *a, const void *b)
{
	const struct rq *x = *(struct rq *const *)a, *y = *(struct rq *const *)b;

	return x->submit_tid != y->submit_tid ? CMP(x->submit_tid, y->submit_tid) :
						CMP(x->t[REQ_SUBMIT], y->t[REQ_SUBMIT]);
}

static int blk_by_key(const void *a, const void *b)
{
	const struct blk_io *x = a, *y = b;

	if (x->dev != y->dev)
		return CMP(x->dev, y->dev);
	return x->sector != y->sector ? CMP(x->sector, y->sector) : CMP(x->ts, y->ts);
}

/*
 * Block requests: each issue goes to the latest backend submission on its
 * thread (not after the request's CQE); each completion to the latest
 * issue of its device and sector.
 */
static int join_block(const struct stages *s, struct rq *rqs, size_t nr)
{
	struct rq **by = malloc((nr ? nr : 1) * sizeof(*by));
	struct blk_io *io;
	size_t i, n = 0, nio = 0;

	for (i = 0; i < s->nr; i++)
		nio += EV(s, i)->kind == REQ_BLK_ISSUE;
	io = malloc((nio ? nio : 1) * sizeof(*io));
	if (!by || !io) {
		free(by);
		free(io);
		return -ENOMEM;
	}
	for (i = 0; i < nr; i++)
		if (rqs[i].t[REQ_SUBMIT])
			by[n++] = &rqs[i];
	qsort(by, n, sizeof(*by), rq_by_tid);
	for (i = nio = 0; i < s->nr; i++) {
		const struct req_event *e = EV(s, i);
		size_t lo = 0, hi = n;
		struct rq *r;
		uint64_t end;

		if (e->kind != REQ_BLK_ISSUE)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (by[mid]->submit_tid < e->tid ||
			    (by[mid]->submit_tid == e->tid && by[mid]->t[REQ_SUBMIT] <= e->ts))
				lo = mid + 1;
			else
				hi = mid;
		}
		r = lo ? by[lo - 1] : NULL;
		end = r ? (r->t[REQ_URING_DONE] ? r->t[REQ_URING_DONE] : r->t[REQ_BACKEND_DONE]) : 0;
		if (!r || r->submit_tid != e->tid || (end && e->ts > end))
			continue;	/* issued by an io_uring worker, or not for a request */
		if (!r->blk_n || e->ts < r->blk_issue)
			r->blk_issue = e->ts;
		r->blk_n++;
		io[nio++] = (struct blk_io){ .sector = e->arg, .ts = e->ts, .dev = e->tag, .r = r };
	}
	qsort(io, nio, sizeof(*io), blk_by_key);
	for (i = 0; i < s->nr; i++) {
		const struct req_event *e = EV(s, i);
		struct blk_io key = { .sector = e->arg, .ts = e->ts, .dev = e->tag };
		size_t lo = 0, hi = nio;

		if (e->kind != REQ_BLK_DONE)
			continue;
		while (lo < hi) {
			size_t mid = (lo + hi) / 2;

			if (blk_by_key(&io[mid], &key) <= 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (!lo || io[lo - 1].dev != key.dev || io[lo - 1].sector != key.sector ||
		    io[lo - 1].done)
			continue;
		io[lo - 1].done = true;
		io[lo - 1].r->blk_completed++;
		if (e->ts > io[lo - 1].r->blk_done)
			io[lo - 1].r->blk_done = e->ts;
	}
	free(by);
	free(io);
	return 0;
}

/* Pairs guest I/Os with requests of the same device and tag, in order. */
static int join_guest(const struct stages *s, struct rq *rqs, size_t nr)
{
	struct req_event *g;
	struct rq **by;
	size_t i, ng = 0, gi = 0, ri = 0;

	for (i = 0; i < s->nr; i++)
		ng += EV(s, i)->kind == REQ_GUEST;
	g = malloc((ng ? ng : 1) * sizeof(*g));
	by = malloc((nr ? nr : 1) * sizeof(*by));
	if (!g || !by) {
		free(g);
		free(by);
		return -ENOMEM;
	}
	for (i = ng = 0; i < s->nr; i++)
		if (EV(s, i)->kind == REQ_GUEST)
			g[ng++] = *EV(s, i);
	for (i = 0; i < nr; i++)
		by[i] = &rqs[i];
	qsort(g, ng, sizeof(*g), by_dev_tag_ts);
	qsort(by, nr, sizeof(*by), rq_by_dev_tag);
	while (gi < ng && ri < nr) {
		const struct req_event *e = &g[gi];
		struct rq *r = by[ri];
		int c = r->dev != e->dev ? CMP(r->dev, e->dev) : CMP(r->tag, e->tag);

		if (c < 0 || (c == 0 && r->t[REQ_PICKUP] + JOIN_SLACK_NS < e->req)) {
			ri++;	/* a request the guest did not time (outside its window) */
		} else if (c > 0 || r->t[REQ_PICKUP] > e->arg + JOIN_SLACK_NS) {
			gi++;	/* a guest I/O whose request was not seen */
		} else {
			r->g_submit = e->ts;
			r->g_doorbell = e->req;
			r->g_complete = e->arg;
			gi++;
			ri++;
		}
	}
	free(g);
	free(by);
	return 0;
}

static double diff(uint64_t later, uint64_t earlier)
{
	return (double)(int64_t)(later - earlier);
}

/*
 * The stage times of one request; false when it does not go in.
 * A virtqueue request can be taken before its own doorbell: the VMM,
 * still busy with an earlier kick, finds it in the ring (the guest has
 * published it, then writes the doorbell). Its driver stage then ends at
 * the pickup and notify and pickup are zero: it needed no doorbell.
 */
static bool stage_values(const struct rq *r, bool guest_view, double v[NR_STAGES], double *total,
			 bool *early, bool *blk_out)
{
	uint64_t io_end = r->t[REQ_URING_DONE] ? r->t[REQ_URING_DONE] : r->t[REQ_BACKEND_DONE];
	uint64_t pickup = r->t[REQ_PICKUP], vmm_bell = r->doorbell, bell = r->g_doorbell;
	bool blk = r->blk_n && r->blk_completed == r->blk_n && r->blk_done <= io_end;

	*blk_out = blk;

	if (!r->t[REQ_SUBMIT] || !r->t[REQ_BACKEND_DONE] || !r->t[REQ_DONE])
		return false;
	if (guest_view && !r->g_submit)
		return false;
	*early = guest_view && pickup < bell;
	if (*early)
		bell = pickup;
	if (guest_view && vmm_bell < bell)
		vmm_bell = bell;	/* that kick's handling began before this doorbell */
	v[STAGE_DRIVER] = guest_view ? diff(bell, r->g_submit) : 0;
	v[STAGE_NOTIFY] = guest_view ? diff(vmm_bell, bell) : 0;
	v[STAGE_PICKUP] = diff(pickup, vmm_bell);
	v[STAGE_SUBMIT] = diff(r->t[REQ_SUBMIT], r->t[REQ_PICKUP]);
	v[STAGE_QUEUE] = blk ? diff(r->blk_issue, r->t[REQ_SUBMIT]) : 0;
	v[STAGE_DEVICE] = blk ? diff(r->blk_done, r->blk_issue) : 0;
	v[STAGE_CQE] = diff(io_end, blk ? r->blk_done : r->t[REQ_SUBMIT]);
	v[STAGE_REAP] = diff(r->t[REQ_BACKEND_DONE], io_end);
	v[STAGE_INJECT] = diff(r->t[REQ_DONE], r->t[REQ_BACKEND_DONE]);
	v[STAGE_DELIVER] = guest_view ? diff(r->g_complete, r->t[REQ_DONE]) : 0;
	*total = guest_view ? diff(r->g_complete, r->g_submit) : diff(r->t[REQ_DONE], r->doorbell);
	return true;
}

static int summarize_device(struct stage_device *d, const struct rq *rqs, size_t nr)
{
	double *v[NR_STAGES], *tot, x[NR_STAGES];
	size_t i, n = 0;
	int st, ret = 0;
	bool early, blk;

	tot = malloc((nr ? nr : 1) * sizeof(double));
	for (st = 0; st < NR_STAGES; st++)
		v[st] = malloc((nr ? nr : 1) * sizeof(double));
	for (i = 0; i < nr; i++) {
		const struct rq *r = &rqs[i];
		bool neg = false;

		if (r->dev != d->dev)
			continue;
		d->requests++;
		if (r->g_submit)
			d->matched++;
		if (r->t[REQ_DONE] && !r->t[REQ_SUBMIT] && !r->t[REQ_BACKEND_DONE])
			d->no_backend++;
		else if (!r->t[REQ_SUBMIT] || !r->t[REQ_BACKEND_DONE] || !r->t[REQ_DONE])
			d->partial++;
		else
			d->complete++;
		if (!tot || !stage_values(r, d->guest_view, x, &tot[n], &early, &blk))
			continue;
		d->early += early;
		d->blk_ios += blk;
		if (!r->t[REQ_URING_DONE])
			d->uring_missing++;
		for (st = 0; st < NR_STAGES; st++) {
			if (v[st])
				v[st][n] = x[st];
			neg |= x[st] < 0;
		}
		d->negative += neg;
		n++;
	}
	d->n = n;
	for (st = 0; st < NR_STAGES; st++) {
		if (!v[st] || !tot)
			ret = -ENOMEM;
		else if (n && (d->guest_view || (st != STAGE_DRIVER && st != STAGE_NOTIFY &&
						 st != STAGE_DELIVER)))
			stats__summarize(v[st], n, &d->stage[st]);
		free(v[st]);
	}
	if (tot && n)
		stats__summarize(tot, n, &d->total);
	free(tot);
	return ret;
}

int stages__finish(struct stages *s, struct stage_device **out)
{
	struct stage_device *devs = NULL;
	struct rq *rqs;
	size_t nr = 0, i;
	int ndev = 0, j, ret;

	*out = NULL;
	rqs = build_requests(s, &nr);
	if (!rqs)
		return -ENOMEM;
	ret = join_uring(s, rqs, nr);
	if (!ret)
		ret = join_block(s, rqs, nr);
	if (!ret)
		ret = join_guest(s, rqs, nr);
	if (ret)
		goto done;
	devs = calloc(REQ_MAX_DEVS, sizeof(*devs));
	if (!devs) {
		ret = -ENOMEM;
		goto done;
	}
	/* Devices in first-seen order of their numbers, each once. */
	for (i = 0; i < nr + s->nr; i++) {
		unsigned int dev;
		bool guest = false;

		if (i < nr) {
			dev = rqs[i].dev;
		} else if (EV(s, i - nr)->kind == REQ_GUEST) {
			dev = EV(s, i - nr)->dev;
			guest = true;
		} else {
			continue;
		}
		for (j = 0; j < ndev && devs[j].dev != dev; j++)
			;
		if (j == ndev) {
			if (ndev == REQ_MAX_DEVS)
				continue;
			devs[ndev++].dev = dev;
		}
		if (guest) {
			devs[j].guest_ios++;
			devs[j].guest_view = true;
		}
	}
	for (j = 0; j < ndev && !ret; j++)
		ret = summarize_device(&devs[j], rqs, nr);
done:
	free(rqs);
	if (ret) {
		free(devs);
		return ret;
	}
	*out = devs;
	return ndev;
}

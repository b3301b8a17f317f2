/*
 * make bench-analyzers: how fast the stage analyzer takes in trace events
 * and reports. 10 M events (1.25 M requests of eight events each: pickup,
 * submit, block issue and completion, io_uring CQE, backend done, done,
 * and the guest's record), shuffled by CPU the way per-CPU buffers deliver
 * them, fed to analyzers/stages.c on one core. Goals: at least 10 M
 * events per second taken in, and the whole report in under 5 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "analyzers/stages.h"
#include "lib/clock.h"

#define EVENTS_PER_REQ	8

static struct req_event ev(uint16_t kind, uint64_t ts, uint64_t req, uint64_t arg,
			   unsigned int dev, unsigned int tag)
{
	return (struct req_event){ .ts = ts, .req = req, .arg = arg, .kind = kind,
				   .dev = (uint16_t)dev, .tag = tag, .tid = 100 + dev };
}

int main(int argc, char **argv)
{
	uint64_t nev = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000ULL;
	uint64_t nreq = nev / EVENTS_PER_REQ, i, n = 0, t0, t1, t2;
	struct req_event *v = malloc(nreq * EVENTS_PER_REQ * sizeof(*v));
	struct stage_device *d;
	struct stages *s = stages__new();
	double ingest, total;
	int ndev, ok;

	if (!v || !s || !nreq) {
		fprintf(stderr, "bench-analyzers: out of memory\n");
		return 1;
	}
	/* Two devices, 32 tags each, QD32-like overlap; times in ns. */
	for (i = 0; i < nreq; i++) {
		unsigned int dev = (unsigned int)(i & 1), tag = (unsigned int)((i >> 1) % 32);
		uint64_t t = 1000000 + i * 3000, r = i + 1;

		v[n++] = ev(REQ_PICKUP, t + 6000, r, t + 3000, dev, tag);
		v[n++] = ev(REQ_SUBMIT, t + 10000, r, 0x10000 + (i % 64) * 64, 0, 0);
		v[n++] = ev(REQ_BLK_ISSUE, t + 15000, 0, i * 8, 0, 0x800001);
		v[n++] = ev(REQ_BLK_DONE, t + 21000, 0, i * 8, 0, 0x800001);
		v[n++] = ev(REQ_URING_DONE, t + 28000, 0, 0x10000 + (i % 64) * 64, 0, 0);
		v[n++] = ev(REQ_BACKEND_DONE, t + 36000, r, 0, 0, 0);
		v[n++] = ev(REQ_DONE, t + 45000, r, 0, 0, 0);
		v[n++] = ev(REQ_GUEST, t, t + 1000, t + 55000, dev, tag);
		v[n - 6].tid = v[n - 7].tid;	/* the issue comes from the submitter */
	}
	/* Per-CPU delivery: interleave two halves, as two buffers drained in turn. */
	for (i = 0; i + 1 < n; i += 2) {
		struct req_event x = v[i];

		v[i] = v[i + 1];
		v[i + 1] = x;
	}
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (stages__add(s, &v[i])) {
			fprintf(stderr, "bench-analyzers: out of memory\n");
			return 1;
		}
	t1 = now_ns();
	ndev = stages__finish(s, &d);
	t2 = now_ns();
	ingest = (double)n / ((double)(t1 - t0) / 1e9);
	total = (double)(t2 - t0) / 1e9;
	ok = ndev == 2 && d[0].n == nreq / 2 && ingest >= 10e6 && total < 5;
	printf("bench-analyzers: %llu events (%llu requests, 2 devices) on one core\n",
	       (unsigned long long)n, (unsigned long long)nreq);
	printf("  ingest  %8.1f M events/s   (goal >= 10)\n", ingest / 1e6);
	printf("  join    %8.2f s            (sorting and joining every request)\n",
	       (double)(t2 - t1) / 1e9);
	printf("  total   %8.2f s            (goal < 5)\n", total);
	printf("  requests in the breakdown: %zu + %zu, every stage exact: %s\n",
	       ndev > 0 ? d[0].n : 0, ndev > 1 ? d[1].n : 0,
	       ndev == 2 && d[0].negative == 0 && d[0].total.mean == 55000 ? "yes" : "NO");
	printf("bench-analyzers: goal %s\n", ok ? "met" : "MISSED");
	free(d);
	stages__free(s);
	free(v);
	return ok ? 0 : 1;
}

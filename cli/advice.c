/*
 * The recommender's inputs from a run in the database: per class and
 * mode, the headline's mean over workloads, its geometric-mean ratio to
 * the native cell of the same workload, p99 and CPU per I/O. A class whose
 * headlines differ in unit or direction (the net class: frames/s and
 * round-trip time) is compared on a score instead of a mean: the
 * geometric mean of each headline taken the better-is-higher way
 * (1/latency), so a slower mode never wins by larger latencies.
 * Emulation and paravirtualization are compared on the workloads both
 * ran: a workload only one of them has (gfx's gl=virgl lines, pv only)
 * would otherwise move one mode's mean and not the other's.
 */
#include "cli/advice.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/resultsdb.h"

static double mean(const struct rdb_cell *c)
{
	double s = 0;
	size_t i;

	for (i = 0; i < c->n; i++)
		s += c->vals[i];
	return c->n ? s / (double)c->n : 0;
}

static int mode_id(const char *mode)
{
	return !strcmp(mode, "emul") ? REC_EMUL : !strcmp(mode, "pv") ? REC_PV :
	       !strcmp(mode, "pt") ? REC_PT : -1;
}

/* Whether c's workload was measured in `mode` too. */
static bool measured_in(const struct rdb_cell *h, size_t nh, const struct rdb_cell *c,
			const char *mode)
{
	struct rdb_cell key = *c;
	const struct rdb_cell *o;

	snprintf(key.mode, sizeof(key.mode), "%s", mode);
	o = rdb__find((struct rdb_cell *)h, nh, &key);
	return o && o->n;
}

/* Whether class has a workload that emul and pv both measured. */
static bool class_has_pair(const struct rdb_cell *h, size_t nh, const char *class)
{
	size_t i;

	for (i = 0; i < nh; i++)
		if (!strcmp(h[i].class, class) && !strcmp(h[i].mode, "emul") && h[i].n &&
		    measured_in(h, nh, &h[i], "pv"))
			return true;
	return false;
}

int advice__for_run(sqlite3 *db, sqlite3_int64 run, struct class_advice **out, size_t *n)
{
	struct rdb_cell *h, *p99, *vcpu, *io;
	size_t nh, np, nv, ni, i, k;
	struct class_advice *a = NULL;
	/* per class and mode: workloads seen, sums, log-ratio sums */
	struct acc { int n, nr, np; double tput, p99, cpu, logr, logs; bool mixed; } acc[8][REC_NR];

	*n = 0;
	if (rdb__cells(db, run, NULL, &h, &nh) || rdb__cells(db, run, "lat_p99", &p99, &np) ||
	    rdb__cells(db, run, "vcpu_cpu_ns_per_io|vcpu_cpu_ns_per_frame", &vcpu, &nv) ||
	    rdb__cells(db, run, "backend_cpu_ns_per_io|backend_cpu_ns_per_frame", &io, &ni))
		return -1;
	memset(acc, 0, sizeof(acc));
	for (i = 0; i < nh; i++) {
		const struct rdb_cell *c = &h[i], *nat;
		struct rdb_cell key = *c;
		int m = mode_id(c->mode);

		if (m < 0)
			continue;
		for (k = 0; k < *n && strcmp(a[k].class, c->class); k++)
			;
		if (k == *n) {
			struct class_advice *p = realloc(a, (*n + 1) * sizeof(*a));

			if (!p || *n == 8)
				break;
			a = p;
			memset(&a[k], 0, sizeof(a[k]));
			strcpy(a[k].class, c->class);
			(*n)++;
		}
		if (!c->n) {
			if (!a[k].modes[m].measured && c->reason[0])
				snprintf(a[k].modes[m].unavailable,
					 sizeof(a[k].modes[m].unavailable), "%.159s", c->reason);
			continue;
		}
		a[k].modes[m].measured = true;
		/* emul and pv: only the workloads both measured, where any are. */
		if ((m == REC_EMUL || m == REC_PV) &&
		    !measured_in(h, nh, c, m == REC_EMUL ? "pv" : "emul") &&
		    class_has_pair(h, nh, c->class))
			continue;
		if (acc[k][m].n && (!c->higher_is_better || strcmp(a[k].modes[m].unit, c->unit)))
			acc[k][m].mixed = true;
		if (!c->higher_is_better)
			acc[k][m].mixed = true;
		acc[k][m].n++;
		acc[k][m].tput += mean(c);
		acc[k][m].logs += mean(c) > 0 ? (c->higher_is_better ? 1 : -1) * log(mean(c)) : 0;
		if (p99[i].n) {	/* iperf3 and glmark2 give none */
			acc[k][m].p99 += mean(&p99[i]);
			acc[k][m].np++;
		}
		snprintf(a[k].modes[m].unit, sizeof(a[k].modes[m].unit), "%s", c->unit);
		acc[k][m].cpu += mean(&vcpu[i]) + mean(&io[i]);
		strcpy(key.mode, "native");
		nat = rdb__find(h, nh, &key);
		if (nat && nat->n && mean(nat) > 0 && mean(c) > 0) {
			/* The fraction of native: for a latency, native's over ours. */
			acc[k][m].logr += c->higher_is_better ? log(mean(c) / mean(nat))
							      : log(mean(nat) / mean(c));
			acc[k][m].nr++;
		}
	}
	for (k = 0; k < *n; k++) {
		int m;

		for (m = 0; m < REC_NR; m++) {
			struct acc *x = &acc[k][m];

			if (!x->n)
				continue;
			a[k].modes[m].throughput = x->mixed ? exp(x->logs / x->n) : x->tput / x->n;
			if (x->mixed)
				snprintf(a[k].modes[m].unit, sizeof(a[k].modes[m].unit), "score");
			a[k].modes[m].p99_ns = x->np ? x->p99 / x->np : 0;
			a[k].modes[m].cpu_ns_per_io = x->cpu / x->n;
			a[k].modes[m].native_ratio = x->nr == x->n ? exp(x->logr / x->nr) : 0;
		}
		recommend__decide(a[k].class, a[k].modes, &rec_default_policy, &a[k].advice);
	}
	rdb__free_cells(h, nh);
	rdb__free_cells(p99, np);
	rdb__free_cells(vcpu, nv);
	rdb__free_cells(io, ni);
	*out = a;
	return 0;
}

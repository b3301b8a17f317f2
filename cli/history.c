/*
 * vioscope history LABEL [--db FILE] [--metric NAME] [--alpha P] [--gate PCT]
 *
 * The finished runs of a label (a nightly job's), oldest first, cell by
 * cell: change points in the per-iteration values of the headline metric
 * (analyzers/changepoint.c), each reported with the first run after it,
 * its git revision and the level before and after. Exits 1 when the last
 * change of any cell is a regression, 2 on trouble.
 */
#include <getopt.h>
#include <gsl/gsl_statistics_double.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/changepoint.h"
#include "cli/ab_opts.h"
#include "cli/cli.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/resultsdb.h"


#define MAX_CP 16

static double mean_runs(struct rdb_cell **series, size_t s, size_t e)
{
	double sum = 0;
	size_t n = 0, i, j;

	for (i = s; i < e; i++)
		for (j = 0; series[i] && j < series[i]->n; j++, n++)
			sum += series[i]->vals[j];
	return n ? sum / (double)n : 0;
}

int cmd_history(int argc, char **argv)
{
	struct rdb_cell **cells;
	struct rdb_run *runs;
	size_t *ncells, nruns, i, k;
	int regressed = 0, changes = 0;
	struct ab_opts o;
	sqlite3 *db;

	ab_opts__parse(&o, argc, argv, "history", "history LABEL");
	if (argc - optind != 1)
		ab_fail("history: give one label: vioscope history LABEL");
	db = ab_opts__open(&o, "history");
	if (rdb__runs_of(db, argv[optind], &runs, &nruns) || !nruns)
		ab_fail("history: no finished runs labelled '%s'", argv[optind]);
	cells = calloc(nruns, sizeof(*cells));
	ncells = calloc(nruns, sizeof(*ncells));
	if (!cells || !ncells)
		ab_fail("history: out of memory");
	for (i = 0; i < nruns; i++)
		if (rdb__cells(db, runs[i].id, o.metric, &cells[i], &ncells[i]))
			ab_fail("history: cannot read run %lld", (long long)runs[i].id);

	printf("vioscope history: %zu runs labelled '%s' (runs %lld to %lld); a change: p < %g "
	       "and |change| >= %g%%\n", nruns, argv[optind], (long long)runs[0].id,
	       (long long)runs[nruns - 1].id, o.alpha, o.gate);
	/* Every cell of the latest run, through all runs that have it. */
	for (k = 0; k < ncells[nruns - 1]; k++) {
		const struct rdb_cell *key = &cells[nruns - 1][k];
		struct rdb_cell *series[nruns];
		const double *vals[nruns];
		size_t counts[nruns], idx[nruns], cp[MAX_CP], m = 0, j;
		int ncp;

		for (i = 0; i < nruns; i++) {
			struct rdb_cell *x = rdb__find(cells[i], ncells[i], key);

			if (x && x->n) {
				series[m] = x;
				vals[m] = x->vals;
				counts[m] = x->n;
				idx[m++] = i;
			}
		}
		if (m < 2)
			continue;
		ncp = changepoint__find(vals, counts, m, o.alpha, o.gate, cp, MAX_CP);
		for (j = 0; ncp > 0 && j < (size_t)ncp; j++) {
			size_t start = j ? cp[j - 1] : 0, stop = j + 1 < (size_t)ncp ? cp[j + 1] : m;
			double before = mean_runs(series, start, cp[j]), after = mean_runs(series, cp[j], stop);
			double pct = before ? (after - before) / before * 100 : 0;
			bool worse = key->higher_is_better ? pct < 0 : pct > 0;
			const struct rdb_run *r = &runs[idx[cp[j]]];

			printf("%s/%s/%s %s: %s from run %lld (git %s, %s): %.1f -> %.1f (%+.1f%%)\n",
			       key->class, key->mode, key->workload, key->metric,
			       worse ? "REGRESSION" : "improvement", (long long)r->id, r->git_revision,
			       r->started_at, before, after, pct);
			changes++;
			if (j + 1 == (size_t)ncp && worse)
				regressed++;
		}
	}
	if (!changes)
		printf("no change points\n");
	for (i = 0; i < nruns; i++)
		rdb__free_cells(cells[i], ncells[i]);
	free(cells);
	free(ncells);
	free(runs);
	db__close(db);
	return regressed ? 1 : 0;
}

/*
 * vioscope compare A B [--db FILE] [--metric NAME] [--alpha P] [--gate PCT]
 *
 * Run B against run A, cell by cell (class, mode, workload), on the
 * per-iteration values of each cell's headline metric (or --metric): a
 * permutation test on the means (p < alpha, default 0.01) and a noise gate
 * (|change| >= gate, default 5%), in the metric's direction. Exits 1 when
 * any cell regressed, so that a nightly job fails on it; 2 on trouble.
 * A and B: run ids, labels (their latest finished run) or LABEL~N.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/ab.h"
#include "cli/ab_opts.h"
#include "cli/cli.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/resultsdb.h"


int cmd_compare(int argc, char **argv)
{
	struct rdb_cell *ca, *cb;
	size_t na, nb, i;
	int worse = 0, better = 0, same = 0, other = 0;
	struct rdb_run a, b;
	struct ab_opts o;
	char why[256];
	sqlite3 *db;

	ab_opts__parse(&o, argc, argv, "compare", "compare A B");
	if (argc - optind != 2)
		ab_fail("compare: give two runs: vioscope compare A B (ids, labels or LABEL~N)");
	db = ab_opts__open(&o, "compare");
	if (rdb__run(db, argv[optind], &a, why, sizeof(why)) ||
	    rdb__run(db, argv[optind + 1], &b, why, sizeof(why)))
		ab_fail("compare: %s", why);
	if (rdb__cells(db, a.id, o.metric, &ca, &na) || rdb__cells(db, b.id, o.metric, &cb, &nb))
		ab_fail("compare: cannot read the cells: %s", sqlite3_errmsg(db));

	printf("vioscope compare: A = run %lld (%s, git %s, %s), B = run %lld (%s, git %s, %s)\n",
	       (long long)a.id, a.label, a.git_revision, a.started_at, (long long)b.id, b.label,
	       b.git_revision, b.started_at);
	printf("a cell changed when p < %g (permutation test on the iteration means) and "
	       "|change| >= %g%%\n", o.alpha, o.gate);
	printf("%-6s %-20s %-7s %-18s %12s %12s %8s %9s  %s\n", "class", "workload", "mode", "metric",
	       "A mean", "B mean", "change", "p", "verdict");
	for (i = 0; i < nb; i++) {
		struct rdb_cell *y = &cb[i], *x = rdb__find(ca, na, y);
		struct ab_result r;

		if (!x || !x->n || !y->n) {
			other++;
			printf("%-6s %-20s %-7s %-18s %12s %12s %8s %9s  not compared: %s\n", y->class,
			       y->workload, y->mode, y->metric, "-", "-", "-", "-",
			       !x ? "not in A" : !x->n ? x->status : y->status);
			continue;
		}
		ab__compare(x->vals, x->n, y->vals, y->n, y->higher_is_better, o.alpha, o.gate, &r);
		worse += r.verdict == AB_WORSE;
		better += r.verdict == AB_BETTER;
		same += r.verdict == AB_SAME;
		other += r.verdict == AB_TOO_FEW;
		printf("%-6s %-20s %-7s %-18s %12.1f %12.1f %+7.1f%% %9.2g  %s (%s)", y->class,
		       y->workload, y->mode, y->metric, r.mean_a, r.mean_b, r.change_pct, r.p,
		       ab__verdict_name(r.verdict),
		       y->higher_is_better ? "higher is better" : "lower is better");
		if (r.verdict == AB_TOO_FEW)
			printf(" (%zu vs %zu: p cannot go below %.2g)", x->n, y->n,
			       ab__min_p(x->n, y->n));
		printf("\n");
	}
	printf("%d regressed, %d improved, %d unchanged, %d not compared\n", worse, better, same,
	       other);
	rdb__free_cells(ca, na);
	rdb__free_cells(cb, nb);
	db__close(db);
	return worse ? 1 : 0;
}

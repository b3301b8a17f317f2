/*
 * vioscope report [RUN] [--with RUN] [--db FILE] [--out DIR] [--format html|pdf] [--table]
 *
 * A static report of one run (default: the latest finished) from the
 * database: per class and workload, throughput and p99 by mode with 95%
 * bootstrap confidence whiskers, latency CDFs from every stored sample,
 * the per-stage breakdown (runs with --trace), exits per I/O, the trend
 * over the runs of the same label with regressions marked, the
 * environment, and the mode advice. Charts by gnuplot (SVG + PNG, or one
 * PDF with --format pdf, the vendor report). --with adds a second run,
 * typically the other hypervisor's, side by side (report_with.c). --table
 * also prints every cell as a line of text.
 */
#include <errno.h>
#include <getopt.h>
#include <gsl/gsl_sort.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyzers/ab.h"
#include "analyzers/changepoint.h"
#include "cli/advice.h"
#include "cli/cli.h"
#include "cli/report_with.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/resultsdb.h"
#include "reports/charts.h"
#include "reports/html.h"

#define MAX_MODES 8
#define MAX_CP 16

struct ctx {
	sqlite3 *db;
	const char *out;		/* the report's directory */
	struct rdb_run run;
	struct charts *charts;
	FILE *html;
	struct rdb_cell *h, *p50, *p99, *exits, *vcpu, *io;	/* aligned cell arrays */
	size_t n;
	struct rdb_run with;	/* --with: the run side by side, and its cells */
	struct rdb_cell *wh;
	size_t nw;
};

static double mean(const struct rdb_cell *c)
{
	double s = 0;
	size_t i;

	for (i = 0; i < c->n; i++)
		s += c->vals[i];
	return c->n ? s / (double)c->n : NAN;
}

static void ci(const struct rdb_cell *c, double *lo, double *hi)
{
	if (ab__bootstrap_ci(c->vals, c->n, 0.95, 10000, AB_DEFAULT_SEED, lo, hi))
		*lo = *hi = mean(c);
}

/* Every stored latency sample of a cell, sorted (ns). */
static double *samples(sqlite3 *db, sqlite3_int64 cell, size_t *n)
{
	sqlite3_stmt *st;
	double *v = NULL;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT s.data, s.count FROM samples s JOIN iterations i ON "
			       "i.id = s.iteration_id WHERE i.cell_id = ?", -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, cell);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const uint64_t *d = sqlite3_column_blob(st, 0);
		size_t k = (size_t)sqlite3_column_bytes(st, 0) / sizeof(uint64_t), j;
		double *p = realloc(v, (*n + k + 1) * sizeof(double));

		if (!p)
			break;
		v = p;
		for (j = 0; j < k; j++)
			v[(*n)++] = (double)d[j];
	}
	sqlite3_finalize(st);
	if (v)
		gsl_sort(v, 1, *n);
	return v;
}

static const char *const stage_order[] = {
	"driver", "notify", "pickup", "submit", "queue", "device", "cqe", "reap", "inject", "deliver",
};
#define NR_STAGE_COLS (sizeof(stage_order) / sizeof(stage_order[0]))

/* Mean ns per stage over a cell's iterations; false when it has none. */
static bool stage_means(sqlite3 *db, sqlite3_int64 cell, double *out)
{
	sqlite3_stmt *st;
	bool any = false;
	size_t k;

	memset(out, 0, NR_STAGE_COLS * sizeof(double));
	if (sqlite3_prepare_v2(db, "SELECT t.stage, AVG(t.mean_ns) FROM stages t JOIN iterations i "
			       "ON i.id = t.iteration_id WHERE i.cell_id = ? GROUP BY t.stage", -1,
			       &st, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_int64(st, 1, cell);
	while (sqlite3_step(st) == SQLITE_ROW)
		for (k = 0; k < NR_STAGE_COLS; k++)
			if (!strcmp((const char *)sqlite3_column_text(st, 0), stage_order[k])) {
				out[k] = sqlite3_column_double(st, 1);
				any = true;
			}
	sqlite3_finalize(st);
	return any;
}

static void env_table(struct ctx *x)
{
	sqlite3_stmt *st;

	fputs("<h2>Environment</h2>\n<table>\n", x->html);
	if (sqlite3_prepare_v2(x->db, "SELECT key, value FROM environment WHERE run_id = ? ORDER BY "
			       "key", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, x->run.id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		fputs("<tr><th class=\"l\">", x->html);
		html__text(x->html, (const char *)sqlite3_column_text(st, 0));
		fputs("</th><td class=\"l\">", x->html);
		html__text(x->html, (const char *)sqlite3_column_text(st, 1));
		fputs("</td></tr>\n", x->html);
	}
	sqlite3_finalize(st);
	fputs("</table>\n", x->html);
}

/* The runs of this run's label up to it: per mode, headline mean and CI
 * per run; change points marked where the change is a regression. */
static void trend(struct ctx *x, const struct rdb_cell *key, const char *name)
{
	struct rdb_run *runs;
	size_t nruns, i, m, nm = 0, nmarks = 0;
	const char *labels[MAX_MODES];
	double *pts[MAX_MODES], marks[MAX_CP * MAX_MODES];
	size_t npts[MAX_MODES];
	char title[256];

	if (rdb__runs_of(x->db, x->run.label, &runs, &nruns) || nruns < 2) {
		free(runs);
		return;
	}
	for (m = 0; m < x->n; m++) {
		const struct rdb_cell *c = &x->h[m];
		const double *vals[nruns];
		size_t counts[nruns], cp[MAX_CP];
		double ids[nruns];
		size_t k = 0;
		int ncp;

		if (strcmp(c->class, key->class) || strcmp(c->workload, key->workload) || nm == MAX_MODES)
			continue;
		pts[nm] = calloc(4 * nruns, sizeof(double));
		labels[nm] = c->mode;
		struct rdb_cell *per_run[nruns];
		size_t nper[nruns];

		for (i = 0; i < nruns && pts[nm] && runs[i].id <= x->run.id; i++) {
			struct rdb_cell *cells, *y;
			size_t nc;

			per_run[i] = NULL;
			nper[i] = 0;
			if (rdb__cells(x->db, runs[i].id, NULL, &cells, &nc))
				continue;
			y = rdb__find(cells, nc, c);
			if (y && y->n) {
				double lo, hi;

				ci(y, &lo, &hi);
				pts[nm][4 * k] = (double)runs[i].id;
				pts[nm][4 * k + 1] = mean(y);
				pts[nm][4 * k + 2] = lo;
				pts[nm][4 * k + 3] = hi;
				vals[k] = y->vals;
				counts[k] = y->n;
				ids[k] = (double)runs[i].id;
				per_run[i] = cells;	/* keeps vals alive */
				nper[i] = nc;
				k++;
			} else {
				rdb__free_cells(cells, nc);
			}
		}
		npts[nm] = k;
		ncp = k >= 2 ? changepoint__find(vals, counts, k, 0.01, 5, cp, MAX_CP) : 0;
		for (i = 0; ncp > 0 && i < (size_t)ncp; i++) {
			double before = pts[nm][4 * (cp[i] - 1) + 1], after = pts[nm][4 * cp[i] + 1];

			if (c->higher_is_better ? after < before : after > before)
				marks[nmarks++] = ids[cp[i]];
		}
		for (i = 0; i < nruns && runs[i].id <= x->run.id; i++)
			if (per_run[i])
				rdb__free_cells(per_run[i], nper[i]);
		nm++;
	}
	snprintf(title, sizeof(title), "%s %s: %s over the runs labelled %s", key->class,
		 key->workload, key->metric, x->run.label);
	charts__trend(x->charts, name, title, key->unit, labels, (const double *const *)pts, npts,
		      (int)nm, marks, nmarks);
	html__chart(x->html, name, title);
	if (nmarks)
		fprintf(x->html, "<p class=\"regression\">%zu regression%s marked (red dashed line "
			"before the first run after each).</p>\n", nmarks, nmarks > 1 ? "s" : "");
	for (i = 0; i < nm; i++)
		free(pts[i]);
	free(runs);
}

/* One class/workload: its table and charts. */
/* Display cells: the last frame each mode's host side saw, saved beside
 * the page (w<idx>-<mode>-frame.png) and shown next to the numbers. */
static void frames(struct ctx *x, size_t first, size_t last, int idx)
{
	sqlite3_stmt *st;
	bool any = false;
	size_t i;

	if (sqlite3_prepare_v2(x->db, "SELECT png FROM frames WHERE cell_id = ?", -1, &st, NULL))
		return;			/* a database from before frames were kept */
	for (i = first; i <= last; i++) {
		char path[512], file[160];
		FILE *f;

		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, x->h[i].id);
		if (sqlite3_step(st) != SQLITE_ROW)
			continue;
		snprintf(file, sizeof(file), "w%d-%s-frame.png", idx, x->h[i].mode);
		snprintf(path, sizeof(path), "%s/%s", x->out, file);
		f = fopen(path, "wb");
		if (!f)
			continue;
		fwrite(sqlite3_column_blob(st, 0), 1, (size_t)sqlite3_column_bytes(st, 0), f);
		fclose(f);
		if (!any)
			fputs("<div class=\"frames\">\n", x->html);
		any = true;
		fprintf(x->html, "<figure><a href=\"%s\"><img src=\"%s\" width=\"320\" alt=\"", file,
			file);
		html__text(x->html, x->h[i].mode);
		fputs(" frame\"></a><figcaption>", x->html);
		html__text(x->html, x->h[i].mode);
		fputs(": the last frame the host side saw</figcaption></figure>\n", x->html);
	}
	if (any)
		fputs("</div>\n", x->html);
	sqlite3_finalize(st);
}

static void workload(struct ctx *x, size_t first, size_t last, int idx)
{
	const struct rdb_cell *key = &x->h[first];
	const char *labels[MAX_MODES], *slabels[MAX_MODES];
	double mn[MAX_MODES], lo[MAX_MODES], hi[MAX_MODES], pm[MAX_MODES], plo[MAX_MODES];
	double phi[MAX_MODES], ex[MAX_MODES], exlo[MAX_MODES], exhi[MAX_MODES];
	double *sorted[MAX_MODES], st[MAX_MODES * NR_STAGE_COLS];
	size_t counts[MAX_MODES], i;
	int n = 0, ns = 0;
	char name[96], title[160];
	bool have_lat = false, have_samples = false, have_exits = false;

	fprintf(x->html, "<h3>");
	html__text(x->html, key->workload);
	fprintf(x->html, "</h3>\n<p><code>");
	html__text(x->html, key->spec);
	fputs("</code></p>\n<table>\n<tr><th class=\"l\">mode</th><th>iterations</th><th>", x->html);
	html__text(x->html, key->metric);
	fputs(" (mean, 95% CI)</th><th>p50 latency</th><th>p99 latency</th><th>exits per op</th>"
	      "<th>CPU per op</th><th class=\"l\">status</th></tr>\n", x->html);
	for (i = first; i <= last && n < MAX_MODES; i++) {
		const struct rdb_cell *c = &x->h[i];

		fputs("<tr><td class=\"l\">", x->html);
		html__text(x->html, c->mode);
		if (!c->n) {
			fprintf(x->html, "</td><td colspan=\"6\" class=\"na\">-</td><td class=\"l na\">");
			html__text(x->html, c->status);
			fputs(": ", x->html);
			html__text(x->html, c->reason);
			fputs("</td></tr>\n", x->html);
			continue;
		}
		labels[n] = c->mode;
		mn[n] = mean(c);
		ci(c, &lo[n], &hi[n]);
		pm[n] = mean(&x->p99[i]) / 1e3;
		ci(&x->p99[i], &plo[n], &phi[n]);
		plo[n] /= 1e3;
		phi[n] /= 1e3;
		ex[n] = x->exits[i].n ? mean(&x->exits[i]) : 0;
		exlo[n] = exhi[n] = ex[n];
		sorted[n] = samples(x->db, c->id, &counts[n]);
		if (stage_means(x->db, c->id, &st[ns * NR_STAGE_COLS]))
			slabels[ns++] = c->mode;
		fprintf(x->html, "</td><td>%zu</td><td>%.1f %s [%.1f, %.1f]</td>", c->n, mn[n],
			c->unit, lo[n], hi[n]);
		/* Not every workload has latencies (iperf3, glmark2): "-", no chart. */
		if (x->p50[i].n && x->p99[i].n) {
			fprintf(x->html, "<td>%.1f us</td><td>%.1f us [%.1f, %.1f]</td>",
				mean(&x->p50[i]) / 1e3, pm[n], plo[n], phi[n]);
			have_lat = true;
		} else {
			fputs("<td class=\"na\">-</td><td class=\"na\">-</td>", x->html);
			pm[n] = plo[n] = phi[n] = 0;
		}
		have_samples |= counts[n] > 0;
		have_exits |= x->exits[i].n > 0;
		if (x->exits[i].n)
			fprintf(x->html, "<td>%.2f</td>", ex[n]);
		else
			fputs("<td class=\"na\">-</td>", x->html);
		if (x->vcpu[i].n || x->io[i].n)
			fprintf(x->html, "<td>%.1f us</td>",
				((x->vcpu[i].n ? mean(&x->vcpu[i]) : 0) + (x->io[i].n ? mean(&x->io[i]) : 0)) /
				1e3);
		else
			fputs("<td class=\"na\">-</td>", x->html);
		fputs("<td class=\"l\">done</td></tr>\n", x->html);
		n++;
	}
	fputs("</table>\n", x->html);
	if (!n)
		return;
	frames(x, first, last, idx);
	snprintf(name, sizeof(name), "w%d-throughput", idx);
	snprintf(title, sizeof(title), "%s %s: %s by mode", key->class, key->workload, key->metric);
	charts__bars(x->charts, name, title, x->h[first].unit, labels, mn, lo, hi, n);
	html__chart(x->html, name, title);
	if (have_lat) {
		snprintf(name, sizeof(name), "w%d-p99", idx);
		snprintf(title, sizeof(title), "%s %s: p99 latency by mode (lower is better)",
			 key->class, key->workload);
		charts__bars(x->charts, name, title, "us", labels, pm, plo, phi, n);
		html__chart(x->html, name, title);
	}
	if (have_samples) {
		snprintf(name, sizeof(name), "w%d-cdf", idx);
		snprintf(title, sizeof(title), "%s %s: latency CDF, every I/O of every iteration",
			 key->class, key->workload);
		charts__cdf(x->charts, name, title, labels, (const double *const *)sorted, counts, n);
		html__chart(x->html, name, title);
	}
	if (have_exits) {
		snprintf(name, sizeof(name), "w%d-exits", idx);
		snprintf(title, sizeof(title), "%s %s: user-space exits per operation (I/O, frame)", key->class,
			 key->workload);
		charts__bars(x->charts, name, title, "exits", labels, ex, exlo, exhi, n);
		html__chart(x->html, name, title);
	}
	if (ns) {
		snprintf(name, sizeof(name), "w%d-stages", idx);
		snprintf(title, sizeof(title), "%s %s: time per request, stage by stage", key->class,
			 key->workload);
		charts__stacked(x->charts, name, title, slabels, ns, stage_order, (int)NR_STAGE_COLS, st);
		html__chart(x->html, name, title);
	}
	snprintf(name, sizeof(name), "w%d-trend", idx);
	trend(x, key, name);
	for (i = 0; i < (size_t)n; i++)
		free(sorted[i]);
}


/* --table: the cells as text, one line each (bench scripts, CI logs). */
static void table(const struct ctx *x, FILE *f)
{
	size_t i;

	fprintf(f, "%-5s %-20s %-6s %5s %12s %-9s %10s %10s %9s %10s\n", "class", "workload", "mode",
		"iters", "mean", "unit", "p50 us", "p99 us", "exits/op", "cpu us/op");
	for (i = 0; i < x->n; i++) {
		const struct rdb_cell *c = &x->h[i];

		fprintf(f, "%-5s %-20s %-6s ", c->class, c->workload, c->mode);
		if (!c->n) {
			fprintf(f, "%5s %s: %.70s\n", "-", c->status, c->reason);
			continue;
		}
		fprintf(f, "%5zu %12.1f %-9s", c->n, mean(c), c->unit);
		if (x->p50[i].n && x->p99[i].n)
			fprintf(f, " %10.1f %10.1f", mean(&x->p50[i]) / 1e3, mean(&x->p99[i]) / 1e3);
		else
			fprintf(f, " %10s %10s", "-", "-");
		if (x->exits[i].n)
			fprintf(f, " %9.2f", mean(&x->exits[i]));
		else
			fprintf(f, " %9s", "-");
		if (x->vcpu[i].n || x->io[i].n)
			fprintf(f, " %10.1f\n", ((x->vcpu[i].n ? mean(&x->vcpu[i]) : 0) +
						(x->io[i].n ? mean(&x->io[i]) : 0)) / 1e3);
		else
			fprintf(f, " %10s\n", "-");
	}
}

int cmd_report(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "with", required_argument, NULL, 'w' },
		{ "table", no_argument, NULL, 't' },
		{ 0 },
	};
	const char *db_path = DB_DEFAULT_PATH, *out = "results/report", *format = "html";
	const char *with = NULL;
	bool text = false;
	struct class_advice *adv = NULL;
	struct ctx x = { 0 };
	size_t nadv = 0, i, first;
	char why[512], path[512], title[256], lines[4][256];
	const char *tl[4];
	int c, idx = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db_path = optarg; break;
		case 'o': out = optarg; break;
		case 'w': with = optarg; break;
		case 't': text = true; break;
		case 'f':
			if (strcmp(optarg, "html") && strcmp(optarg, "pdf"))
				die("report: --format is html or pdf, not '%s'", optarg);
			format = optarg;
			break;
		default:
			die("report: usage: vioscope report [RUN] [--with RUN] [--db FILE] "
			    "[--out DIR] [--format html|pdf] [--table]");
		}
	}
	if (argc - optind > 1)
		die("report: give at most one run");
	x.db = rdb__open(db_path, why, sizeof(why));
	x.out = out;
	if (!x.db)
		die("report: %s", why);
	if (optind < argc ? rdb__run(x.db, argv[optind], &x.run, why, sizeof(why)) :
			    rdb__latest(x.db, &x.run, why, sizeof(why)))
		die("report: %s", why);
	if (with && rdb__run(x.db, with, &x.with, why, sizeof(why)))
		die("report: --with: %s", why);
	if (mkdir(out, 0755) && errno != EEXIST)
		die("report: cannot create %s: %s", out, strerror(errno));
	x.charts = charts__new(out);
	if (!x.charts || rdb__cells(x.db, x.run.id, NULL, &x.h, &x.n) ||
	    rdb__cells(x.db, x.run.id, "lat_p50", &x.p50, &i) ||
	    rdb__cells(x.db, x.run.id, "lat_p99", &x.p99, &i) ||
	    rdb__cells(x.db, x.run.id, "exits_per_io|exits_per_frame", &x.exits, &i) ||
	    rdb__cells(x.db, x.run.id, "vcpu_cpu_ns_per_io|vcpu_cpu_ns_per_frame", &x.vcpu, &i) ||
	    rdb__cells(x.db, x.run.id, "backend_cpu_ns_per_io|backend_cpu_ns_per_frame", &x.io, &i) ||
	    (with && rdb__cells(x.db, x.with.id, NULL, &x.wh, &x.nw)) ||
	    advice__for_run(x.db, x.run.id, &adv, &nadv))
		die("report: cannot read run %lld from %s", (long long)x.run.id, db_path);
	snprintf(path, sizeof(path), "%s/index.html", out);
	x.html = fopen(path, "w");
	if (!x.html)
		die("report: %s: %s", path, strerror(errno));
	snprintf(title, sizeof(title), "vioscope: %s, run %lld", x.run.label, (long long)x.run.id);
	html__begin(x.html, title);
	fprintf(x.html, "<p>Suite <b>");
	html__text(x.html, x.run.suite);
	fprintf(x.html, "</b>, started %s, git %s. Emulation (emul), paravirtualization (pv), "
		"pass-through (pt) and the host itself (native, the ceiling), each cell a discarded "
		"warm-up and then iterations; whiskers are 95%% bootstrap confidence intervals of the "
		"mean over iterations.</p>\n", x.run.started_at, x.run.git_revision);
	fputs("<h2>Recommendation</h2>\n", x.html);
	for (i = 0; i < nadv; i++) {
		fputs("<p class=\"advice\">", x.html);
		html__text(x.html, adv[i].advice.why);
		fputs("</p>\n", x.html);
	}
	fprintf(x.html, "<p>Policy: manageability first (emulation and paravirtualization keep live "
		"migration, snapshots, isolation and device sharing); paravirtualization over emulation "
		"when at least %.0f%% faster; pass-through only when paravirtualization stays below "
		"%.2f of native throughput and pass-through is %.1fx faster.</p>\n",
		(rec_default_policy.pv_margin - 1) * 100, rec_default_policy.pt_threshold,
		rec_default_policy.pt_gain);
	/* Cells are ordered by class, workload, mode: one section per run of
	 * equal class and workload. */
	for (first = 0; first < x.n; first = i) {
		for (i = first; i < x.n && !strcmp(x.h[i].class, x.h[first].class) &&
				!strcmp(x.h[i].workload, x.h[first].workload); i++)
			;
		if (!first || strcmp(x.h[first].class, x.h[first - 1].class)) {
			fputs("<h2>Class: ", x.html);
			html__text(x.html, x.h[first].class);
			fputs("</h2>\n", x.html);
		}
		workload(&x, first, i - 1, idx++);
	}
	if (with)
		report__with(x.html, x.charts, x.db, &x.run, x.h, x.n, &x.with, x.wh, x.nw);
	env_table(&x);
	fputs("<p>Raw data: every iteration's metrics and every I/O's latency are in the database "
	      "(<code>", x.html);
	html__text(x.html, db_path);
	fputs("</code>); chart data beside this page (<code>*.dat</code>).</p>\n", x.html);
	html__end(x.html);
	fclose(x.html);
	snprintf(lines[0], sizeof(lines[0]), "%s", title);
	snprintf(lines[1], sizeof(lines[1]), "suite %s, started %s, git %s", x.run.suite,
		 x.run.started_at, x.run.git_revision);
	snprintf(lines[2], sizeof(lines[2]), "%.250s", nadv ? adv[0].advice.why : "");
	snprintf(lines[3], sizeof(lines[3]), "relative figures: compare modes within one run");
	for (i = 0; i < 4; i++)
		tl[i] = lines[i];
	if (charts__render(x.charts, format, tl, 4, why, sizeof(why)))
		die("report: %s", why);
	printf("%s/%s\n", out, strcmp(format, "pdf") ? "index.html" : "report.pdf");
	if (text)
		table(&x, stdout);
	for (i = 0; i < nadv; i++)
		printf("%s\n", adv[i].advice.why);
	charts__free(x.charts);
	rdb__free_cells(x.h, x.n);
	rdb__free_cells(x.p50, x.n);
	rdb__free_cells(x.p99, x.n);
	rdb__free_cells(x.exits, x.n);
	rdb__free_cells(x.vcpu, x.n);
	rdb__free_cells(x.io, x.n);
	rdb__free_cells(x.wh, x.nw);
	free(adv);
	db__close(x.db);
	return 0;
}

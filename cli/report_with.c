/*
 * vioscope report RUN --with OTHER: the workloads both runs measured, side
 * by side, mode by mode: typically vioscope-vmm and QEMU on one suite.
 * Under TCG, QEMU's absolute figures say nothing about QEMU on KVM; what
 * compares is each hypervisor's ratio between its modes, which the table
 * gives beside the figures.
 */
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyzers/ab.h"
#include "cli/report_with.h"
#include "reports/charts.h"
#include "reports/html.h"

#define MAX_BARS 16

static void mean_ci(const struct rdb_cell *c, double *m, double *lo, double *hi)
{
	*m = gsl_stats_mean(c->vals, 1, c->n);
	if (ab__bootstrap_ci(c->vals, c->n, 0.95, 10000, AB_DEFAULT_SEED, lo, hi))
		*lo = *hi = *m;
}

/* The run's environment value for key, or "". */
static void env_of(sqlite3 *db, sqlite3_int64 run, const char *key, char *out, size_t len)
{
	sqlite3_stmt *st;

	out[0] = 0;
	if (sqlite3_prepare_v2(db, "SELECT value FROM environment WHERE run_id = ? AND key = ?", -1,
			       &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, run);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

/* "vioscope-vmm on KVM (PVM)", "qemu on TCG" */
static void engine(sqlite3 *db, const struct rdb_run *r, char *out, size_t len)
{
	char kvm[32], accel[16];

	env_of(db, r->id, "kvm_kind", kvm, sizeof(kvm));
	env_of(db, r->id, "qemu_accel", accel, sizeof(accel));
	if (!strcmp(r->hypervisor, "qemu"))
		snprintf(out, len, "qemu on %s", !strcmp(accel, "kvm") ? kvm : "TCG");
	else
		snprintf(out, len, "%s on KVM (%s)", r->hypervisor[0] ? r->hypervisor : "vioscope-vmm",
			 kvm);
}

/* For the chart's axis, where labels are tight. */
static const char *short_name(const struct rdb_run *r)
{
	return strcmp(r->hypervisor, "qemu") ? "vmm" : "qemu";
}

/* The cell of run b measuring what a's cell does, done. */
static const struct rdb_cell *twin(const struct rdb_cell *a, const struct rdb_cell *b, size_t nb)
{
	size_t i;

	for (i = 0; i < nb; i++)
		if (!strcmp(a->class, b[i].class) && !strcmp(a->workload, b[i].workload) &&
		    !strcmp(a->mode, b[i].mode) && !strcmp(a->metric, b[i].metric) && b[i].n)
			return &b[i];
	return NULL;
}

/* a's mode emul (or the first done) mean: what the table's ratios divide by. */
static double base_of(const struct rdb_cell *c, size_t first, size_t last)
{
	size_t i;

	for (i = first; i <= last; i++)
		if (!strcmp(c[i].mode, "emul") && c[i].n)
			return gsl_stats_mean(c[i].vals, 1, c[i].n);
	return NAN;
}

/* A table cell with v / base, or "-" without an emulated mode to divide by. */
static void ratio(FILE *html, double v, double base)
{
	if (isnan(base) || base <= 0)
		fputs("<td class=\"na\">-</td>", html);
	else
		fprintf(html, "<td>%.2f</td>", v / base);
}

int report__with(FILE *html, struct charts *charts, sqlite3 *db, const struct rdb_run *a,
		 const struct rdb_cell *ca, size_t na, const struct rdb_run *b,
		 const struct rdb_cell *cb, size_t nb)
{
	char ea[64], eb[64], name[64], title[320], lab[MAX_BARS][48];
	size_t first, last, i;
	int idx = 0, shown = 0;

	engine(db, a, ea, sizeof(ea));
	engine(db, b, eb, sizeof(eb));
	fprintf(html, "<h2>Side by side: run %lld (", (long long)a->id);
	html__text(html, ea);
	fprintf(html, ") and run %lld (", (long long)b->id);
	html__text(html, eb);
	fputs(")</h2>\n<p>The workloads both runs measured. Ratios are to each hypervisor's own "
	      "emulated mode: they compare across hypervisors even where the absolute figures do "
	      "not (QEMU under TCG runs the guest in a CPU emulator: its figures are relative "
	      "only).</p>\n", html);
	for (first = 0; first < na; first = last + 1) {
		const char *labels[MAX_BARS];
		double m[MAX_BARS], lo[MAX_BARS], hi[MAX_BARS], base_a, base_b = NAN;
		int n = 0;

		for (last = first; last + 1 < na && !strcmp(ca[last + 1].class, ca[first].class) &&
				   !strcmp(ca[last + 1].workload, ca[first].workload); last++)
			;
		for (i = first; i <= last; i++) {
			const struct rdb_cell *t = twin(&ca[i], cb, nb);

			if (t && !strcmp(t->mode, "emul"))
				base_b = gsl_stats_mean(t->vals, 1, t->n);
		}
		base_a = base_of(ca, first, last);
		for (i = first; i <= last && n + 2 <= MAX_BARS; i++) {
			const struct rdb_cell *t = twin(&ca[i], cb, nb);

			if (!t || !ca[i].n)
				continue;
			if (!n) {
				fputs("<h3>", html);
				html__text(html, ca[i].class);
				fputs(" ", html);
				html__text(html, ca[i].workload);
				fputs("</h3>\n<table>\n<tr><th class=\"l\">mode</th><th>", html);
				html__text(html, ea);
				fputs("</th><th>ratio</th><th>", html);
				html__text(html, eb);
				fputs("</th><th>ratio</th></tr>\n", html);
			}
			mean_ci(&ca[i], &m[n], &lo[n], &hi[n]);
			mean_ci(t, &m[n + 1], &lo[n + 1], &hi[n + 1]);
			fputs("<tr><td class=\"l\">", html);
			html__text(html, ca[i].mode);
			fprintf(html, "</td><td>%.1f %s [%.1f, %.1f]</td>", m[n], ca[i].unit,
				lo[n], hi[n]);
			ratio(html, m[n], base_a);
			fprintf(html, "<td>%.1f %s [%.1f, %.1f]</td>", m[n + 1], t->unit, lo[n + 1],
				hi[n + 1]);
			ratio(html, m[n + 1], base_b);
			fputs("</tr>\n", html);
			snprintf(lab[n], sizeof(lab[n]), "%s %s", ca[i].mode, short_name(a));
			snprintf(lab[n + 1], sizeof(lab[n + 1]), "%s %s", t->mode, short_name(b));
			labels[n] = lab[n];
			labels[n + 1] = lab[n + 1];
			n += 2;
		}
		if (!n)
			continue;
		fputs("</table>\n", html);
		snprintf(name, sizeof(name), "with%d", idx++);
		snprintf(title, sizeof(title), "%s %s: %s, %s beside %s", ca[first].class,
			 ca[first].workload, ca[first].metric, ea, eb);
		charts__bars(charts, name, title, ca[first].unit, labels, m, lo, hi, n);
		html__chart(html, name, title);
		shown++;
	}
	if (!shown)
		fputs("<p class=\"na\">The two runs have no workload in common.</p>\n", html);
	return shown;
}

/*
 * vioscope export [RUN] [--db FILE] [--format json|openmetrics]
 *
 * One run (default: the latest finished) for dashboards: JSON (run,
 * environment, cells with every metric's mean, 95% CI and unit/direction,
 * unavailable cells with their reason) or OpenMetrics text for Prometheus
 * (one gauge family per metric, the cell as labels; ends with # EOF).
 */
#include <cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzers/ab.h"
#include "cli/cli.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/resultsdb.h"

struct row {
	char class[8], mode[8], workload[48], metric[40], unit[16], direction[20];
	double mean, lo, hi;
	int n;
};

/* Every metric of every finished cell: mean and CI over iterations. */
static struct row *rows_of(sqlite3 *db, sqlite3_int64 run, size_t *n)
{
	sqlite3_stmt *st;
	struct row *v = NULL;
	double vals[1024];
	int k = 0;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT c.class, c.mode, c.workload, m.name, m.unit, m.direction, "
			       "m.value FROM cells c JOIN iterations i ON i.cell_id = c.id JOIN metrics m "
			       "ON m.iteration_id = i.id WHERE c.run_id = ? ORDER BY c.id, m.name, i.seq",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_int64(st, 1, run);
	for (;;) {
		int rc = sqlite3_step(st);
		struct row cur = { 0 };

		if (rc == SQLITE_ROW) {
			snprintf(cur.class, sizeof(cur.class), "%s", sqlite3_column_text(st, 0));
			snprintf(cur.mode, sizeof(cur.mode), "%s", sqlite3_column_text(st, 1));
			snprintf(cur.workload, sizeof(cur.workload), "%s", sqlite3_column_text(st, 2));
			snprintf(cur.metric, sizeof(cur.metric), "%s", sqlite3_column_text(st, 3));
			snprintf(cur.unit, sizeof(cur.unit), "%s", sqlite3_column_text(st, 4));
			snprintf(cur.direction, sizeof(cur.direction), "%s", sqlite3_column_text(st, 5));
		}
		/* A new (cell, metric): close the previous one. */
		if (*n && (rc != SQLITE_ROW || strcmp(v[*n - 1].class, cur.class) ||
			   strcmp(v[*n - 1].mode, cur.mode) || strcmp(v[*n - 1].workload, cur.workload) ||
			   strcmp(v[*n - 1].metric, cur.metric))) {
			struct row *p = &v[*n - 1];
			double s = 0;
			int j;

			for (j = 0; j < k; j++)
				s += vals[j];
			p->n = k;
			p->mean = k ? s / k : 0;
			if (ab__bootstrap_ci(vals, (size_t)k, 0.95, 2000, AB_DEFAULT_SEED, &p->lo, &p->hi))
				p->lo = p->hi = p->mean;
			k = 0;
		}
		if (rc != SQLITE_ROW)
			break;
		if (!*n || k == 0) {
			struct row *p = realloc(v, (*n + 1) * sizeof(*v));

			if (!p)
				break;
			v = p;
			v[(*n)++] = cur;
		}
		if (k < 1024)
			vals[k++] = sqlite3_column_double(st, 6);
	}
	sqlite3_finalize(st);
	return v;
}

/* OpenMetrics label values: backslash, quote and newline escaped. */
static void om_value(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void om_name(char *dst, size_t len, const char *metric)
{
	size_t i;

	snprintf(dst, len, "vioscope_%s", metric);
	for (i = 0; dst[i]; i++)
		if (!((dst[i] >= 'a' && dst[i] <= 'z') || (dst[i] >= 'A' && dst[i] <= 'Z') ||
		      (dst[i] >= '0' && dst[i] <= '9') || dst[i] == '_'))
			dst[i] = '_';
}

static void openmetrics(const struct rdb_run *r, const struct row *v, size_t n,
			const struct rdb_cell *cells, size_t nc)
{
	char name[64], prev[64] = "";
	size_t i;

	for (i = 0; i < n; i++) {
		om_name(name, sizeof(name), v[i].metric);
		if (strcmp(name, prev)) {
			/* Families must be contiguous: rows are sorted by cell, so
			 * emit each family over all rows at once. */
			size_t j;
			bool seen = false;

			for (j = 0; j < i; j++) {
				char other[64];

				om_name(other, sizeof(other), v[j].metric);
				seen |= !strcmp(other, name);
			}
			if (seen)
				continue;
			printf("# TYPE %s gauge\n# HELP %s %s in %s, %s; mean over iterations\n", name,
			       name, v[i].metric, v[i].unit, v[i].direction);
			for (j = i; j < n; j++) {
				char other[64];

				om_name(other, sizeof(other), v[j].metric);
				if (strcmp(other, name))
					continue;
				printf("%s{run=\"%lld\",label=\"", name, (long long)r->id);
				om_value(stdout, r->label);
				printf("\",class=\"%s\",mode=\"%s\",workload=\"", v[j].class, v[j].mode);
				om_value(stdout, v[j].workload);
				printf("\",git=\"");
				om_value(stdout, r->git_revision);
				printf("\"} %.17g\n", v[j].mean);
			}
			snprintf(prev, sizeof(prev), "%s", name);
		}
	}
	printf("# TYPE vioscope_cell_unavailable gauge\n"
	       "# HELP vioscope_cell_unavailable 1 for a cell that could not run here, with why\n");
	for (i = 0; i < nc; i++) {
		if (!strcmp(cells[i].status, "done"))
			continue;
		printf("vioscope_cell_unavailable{run=\"%lld\",class=\"%s\",mode=\"%s\",workload=\"",
		       (long long)r->id, cells[i].class, cells[i].mode);
		om_value(stdout, cells[i].workload);
		printf("\",status=\"%s\",reason=\"", cells[i].status);
		om_value(stdout, cells[i].reason);
		printf("\"} 1\n");
	}
	printf("# EOF\n");
}

static void json(sqlite3 *db, const struct rdb_run *r, const struct row *v, size_t n,
		 const struct rdb_cell *cells, size_t nc)
{
	cJSON *root = cJSON_CreateObject(), *env = cJSON_AddObjectToObject(root, "environment");
	cJSON *arr = cJSON_AddArrayToObject(root, "cells");
	sqlite3_stmt *st;
	char *text;
	size_t i, j;

	cJSON_AddNumberToObject(root, "run", (double)r->id);
	cJSON_AddStringToObject(root, "label", r->label);
	cJSON_AddStringToObject(root, "suite", r->suite);
	cJSON_AddStringToObject(root, "git_revision", r->git_revision);
	cJSON_AddStringToObject(root, "started_at", r->started_at);
	if (sqlite3_prepare_v2(db, "SELECT key, value FROM environment WHERE run_id = ?", -1, &st,
			       NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, r->id);
		while (sqlite3_step(st) == SQLITE_ROW)
			cJSON_AddStringToObject(env, (const char *)sqlite3_column_text(st, 0),
						(const char *)sqlite3_column_text(st, 1));
		sqlite3_finalize(st);
	}
	for (i = 0; i < nc; i++) {
		cJSON *c = cJSON_CreateObject(), *m = NULL;

		cJSON_AddStringToObject(c, "class", cells[i].class);
		cJSON_AddStringToObject(c, "mode", cells[i].mode);
		cJSON_AddStringToObject(c, "workload", cells[i].workload);
		cJSON_AddStringToObject(c, "status", cells[i].status);
		if (strcmp(cells[i].status, "done"))
			cJSON_AddStringToObject(c, "reason", cells[i].reason);
		else
			m = cJSON_AddArrayToObject(c, "metrics");
		for (j = 0; m && j < n; j++) {
			cJSON *o;

			if (strcmp(v[j].class, cells[i].class) || strcmp(v[j].mode, cells[i].mode) ||
			    strcmp(v[j].workload, cells[i].workload))
				continue;
			o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "name", v[j].metric);
			cJSON_AddStringToObject(o, "unit", v[j].unit);
			cJSON_AddStringToObject(o, "direction", v[j].direction);
			cJSON_AddNumberToObject(o, "mean", v[j].mean);
			cJSON_AddNumberToObject(o, "ci95_low", v[j].lo);
			cJSON_AddNumberToObject(o, "ci95_high", v[j].hi);
			cJSON_AddNumberToObject(o, "iterations", v[j].n);
			cJSON_AddItemToArray(m, o);
		}
		cJSON_AddItemToArray(arr, c);
	}
	text = cJSON_Print(root);
	if (text)
		printf("%s\n", text);
	free(text);
	cJSON_Delete(root);
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 },
	};
	const char *db_path = DB_DEFAULT_PATH, *format = "json";
	struct rdb_cell *cells;
	struct rdb_run r;
	struct row *v;
	size_t n, nc;
	char why[256];
	sqlite3 *db;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': db_path = optarg; break;
		case 'f':
			if (strcmp(optarg, "json") && strcmp(optarg, "openmetrics"))
				die("export: --format is json or openmetrics, not '%s'", optarg);
			format = optarg;
			break;
		default:
			die("export: usage: vioscope export [RUN] [--db FILE] [--format json|openmetrics]");
		}
	}
	if (argc - optind > 1)
		die("export: give at most one run");
	db = rdb__open(db_path, why, sizeof(why));
	if (!db)
		die("export: %s", why);
	if (optind < argc ? rdb__run(db, argv[optind], &r, why, sizeof(why)) :
			    rdb__latest(db, &r, why, sizeof(why)))
		die("export: %s", why);
	v = rows_of(db, r.id, &n);
	if (rdb__cells(db, r.id, NULL, &cells, &nc))
		die("export: cannot read run %lld", (long long)r.id);
	if (!strcmp(format, "json"))
		json(db, &r, v, n, cells, nc);
	else
		openmetrics(&r, v, n, cells, nc);
	free(v);
	rdb__free_cells(cells, nc);
	db__close(db);
	return 0;
}

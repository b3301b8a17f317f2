/* Reading the results database back (see resultsdb.h). */
#include "lib/resultsdb.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/db.h"

static void text(char *dst, size_t len, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(dst, len, "%s", t ? (const char *)t : "");
}

#define RUN_COLS "id, label, suite, git_revision, started_at, status, hypervisor"

static void run_row(sqlite3_stmt *st, struct rdb_run *r)
{
	r->id = sqlite3_column_int64(st, 0);
	text(r->label, sizeof(r->label), st, 1);
	text(r->suite, sizeof(r->suite), st, 2);
	text(r->git_revision, sizeof(r->git_revision), st, 3);
	text(r->started_at, sizeof(r->started_at), st, 4);
	text(r->status, sizeof(r->status), st, 5);
	text(r->hypervisor, sizeof(r->hypervisor), st, 6);
}

sqlite3 *rdb__open(const char *path, char *why, size_t why_len)
{
	if (access(path, R_OK)) {
		snprintf(why, why_len, "%s: no results database (vioscope run writes it)", path);
		return NULL;
	}
	return db__open(path, why, why_len);
}

int rdb__latest(sqlite3 *db, struct rdb_run *r, char *why, size_t why_len)
{
	sqlite3_stmt *st;
	char id[32] = "";

	if (sqlite3_prepare_v2(db, "SELECT MAX(id) FROM runs WHERE status = 'done'", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (!id[0]) {
		snprintf(why, why_len, "no finished run in the database (vioscope run writes one)");
		return -1;
	}
	return rdb__run(db, id, r, why, why_len);
}

int rdb__run(sqlite3 *db, const char *spec, struct rdb_run *r, char *why, size_t why_len)
{
	char label[64], *end;
	long long id = strtoll(spec, &end, 10), back = 0;
	sqlite3_stmt *st;
	const char *tilde = strrchr(spec, '~');
	int rc;

	if (*spec && !*end) {
		rc = sqlite3_prepare_v2(db, "SELECT " RUN_COLS " FROM runs WHERE id = ?", -1, &st, NULL);
		if (rc == SQLITE_OK)
			sqlite3_bind_int64(st, 1, id);
	} else {
		snprintf(label, sizeof(label), "%.*s", tilde ? (int)(tilde - spec) : 63, spec);
		if (tilde) {
			back = strtoll(tilde + 1, &end, 10);
			if (*end || back < 0) {
				snprintf(why, why_len, "'%s': LABEL~N wants a number of runs back", spec);
				return -1;
			}
		}
		rc = sqlite3_prepare_v2(db, "SELECT " RUN_COLS " FROM runs WHERE label = ? AND "
					"status = 'done' ORDER BY id DESC LIMIT 1 OFFSET ?", -1, &st,
					NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, label, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 2, back);
		}
	}
	if (rc != SQLITE_OK) {
		snprintf(why, why_len, "database: %s", sqlite3_errmsg(db));
		return -1;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		run_row(st, r);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		snprintf(why, why_len, "no run '%s' (a run id, a label with a finished run, or LABEL~N)",
			 spec);
		return -1;
	}
	return 0;
}

int rdb__runs_of(sqlite3 *db, const char *label, struct rdb_run **out, size_t *n)
{
	sqlite3_stmt *st;
	struct rdb_run *v = NULL;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT " RUN_COLS " FROM runs WHERE label = ? AND "
			       "status = 'done' ORDER BY id", -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, label, -1, SQLITE_TRANSIENT);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rdb_run *p = realloc(v, (*n + 1) * sizeof(*v));

		if (!p)
			break;
		v = p;
		run_row(st, &v[(*n)++]);
	}
	sqlite3_finalize(st);
	*out = v;
	return 0;
}

/* metric "a|b": the first name that has values in this cell (a frame's
 * exits_per_frame where a disk's is exits_per_io). */
static void pick_metric(sqlite3_stmt *mv, sqlite3_int64 cell, const char *metric, char *out,
			size_t len)
{
	const char *p = metric;

	for (;;) {
		size_t n = strcspn(p, "|");

		snprintf(out, len, "%.*s", (int)n, p);
		if (!p[n])
			return;
		sqlite3_reset(mv);
		sqlite3_bind_text(mv, 1, out, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(mv, 2, cell);
		if (sqlite3_step(mv) == SQLITE_ROW)
			return;
		p += n + 1;
	}
}

int rdb__cells(sqlite3 *db, sqlite3_int64 run, const char *metric, struct rdb_cell **out,
	       size_t *n)
{
	sqlite3_stmt *st, *mv;
	struct rdb_cell *v = NULL;
	int rc = 0;

	*n = 0;
	if (sqlite3_prepare_v2(db, "SELECT id, class, mode, workload, status, reason, headline, "
			       "spec FROM cells WHERE run_id = ? ORDER BY class, workload, "
			       "CASE mode WHEN 'emul' THEN 0 WHEN 'pv' THEN 1 WHEN 'pt' THEN 2 "
			       "WHEN 'native' THEN 3 ELSE 4 END, mode", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(db, "SELECT m.value, m.unit, m.direction FROM iterations i JOIN "
			       "metrics m ON m.iteration_id = i.id AND m.name = ? WHERE "
			       "i.cell_id = ? ORDER BY i.seq", -1, &mv, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return -1;
	}
	sqlite3_bind_int64(st, 1, run);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct rdb_cell *p = realloc(v, (*n + 1) * sizeof(*v)), *c;
		size_t cap = 0;

		if (!p) {
			rc = -1;
			break;
		}
		v = p;
		c = &v[(*n)++];
		memset(c, 0, sizeof(*c));
		c->id = sqlite3_column_int64(st, 0);
		text(c->spec, sizeof(c->spec), st, 7);
		text(c->class, sizeof(c->class), st, 1);
		text(c->mode, sizeof(c->mode), st, 2);
		text(c->workload, sizeof(c->workload), st, 3);
		text(c->status, sizeof(c->status), st, 4);
		text(c->reason, sizeof(c->reason), st, 5);
		if (metric)
			pick_metric(mv, c->id, metric, c->metric, sizeof(c->metric));
		else
			text(c->metric, sizeof(c->metric), st, 6);
		sqlite3_reset(mv);
		sqlite3_bind_text(mv, 1, c->metric, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(mv, 2, c->id);
		while (sqlite3_step(mv) == SQLITE_ROW) {
			if (c->n == cap) {
				double *d = realloc(c->vals, (cap = cap ? cap * 2 : 16) * sizeof(double));

				if (!d)
					break;
				c->vals = d;
			}
			c->vals[c->n++] = sqlite3_column_double(mv, 0);
			text(c->unit, sizeof(c->unit), mv, 1);
			c->higher_is_better = !strcmp((const char *)sqlite3_column_text(mv, 2),
						      "higher_is_better");
		}
	}
	sqlite3_finalize(mv);
	sqlite3_finalize(st);
	*out = v;
	return rc;
}

void rdb__free_cells(struct rdb_cell *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].vals);
	free(c);
}

struct rdb_cell *rdb__find(struct rdb_cell *cells, size_t n, const struct rdb_cell *key)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(cells[i].class, key->class) && !strcmp(cells[i].mode, key->mode) &&
		    !strcmp(cells[i].workload, key->workload))
			return &cells[i];
	return NULL;
}

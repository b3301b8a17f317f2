#ifndef VIOSCOPE__LIB_RESULTSDB_H
#define VIOSCOPE__LIB_RESULTSDB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Reading the results database back (compare, history, report, export):
 * runs by id or label, and each cell's per-iteration values of a metric.
 */
struct rdb_run {
	sqlite3_int64 id;
	char label[64], suite[64], git_revision[48], started_at[32], status[16];
	char hypervisor[16];	/* vioscope-vmm | qemu */
};

struct rdb_cell {
	sqlite3_int64 id;
	char class[8], mode[8], workload[48];
	char spec[256];
	char status[16];		/* done | unavailable | failed | running */
	char reason[256];
	char metric[40], unit[16];
	bool higher_is_better;
	double *vals;			/* one per iteration, in order */
	size_t n;
};

/* An existing results database (never creates one); NULL with why. */
sqlite3 *rdb__open(const char *path, char *why, size_t why_len);
/* The latest finished run, whatever its label; 0 or -1 with why. */
int rdb__latest(sqlite3 *db, struct rdb_run *r, char *why, size_t why_len);
/*
 * spec: a run id, or a label (its latest finished run), or LABEL~N (N
 * finished runs before that). 0, or -1 with one line in why.
 */
int rdb__run(sqlite3 *db, const char *spec, struct rdb_run *r, char *why, size_t why_len);
/* The finished runs of a label, oldest first (caller frees). */
int rdb__runs_of(sqlite3 *db, const char *label, struct rdb_run **out, size_t *n);
/* Every cell of a run with metric's values (NULL: each cell's headline;
 * "a|b": per cell the first of these names that has values). */
int rdb__cells(sqlite3 *db, sqlite3_int64 run, const char *metric, struct rdb_cell **out,
	       size_t *n);
void rdb__free_cells(struct rdb_cell *c, size_t n);
/* The cell of cells[0..n) with the same class, mode and workload as key. */
struct rdb_cell *rdb__find(struct rdb_cell *cells, size_t n, const struct rdb_cell *key);

#endif /* VIOSCOPE__LIB_RESULTSDB_H */

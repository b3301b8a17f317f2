#ifndef VIOSCOPE__CLI_REPORT_WITH_H
#define VIOSCOPE__CLI_REPORT_WITH_H

#include <stdio.h>

#include "lib/resultsdb.h"

struct charts;

/* The side-by-side section of vioscope report --with: a's and b's cells
 * (headlines, as rdb__cells gives them) of the same class, workload and
 * mode, a table and a chart per workload. The number of workloads shown. */
int report__with(FILE *html, struct charts *charts, sqlite3 *db, const struct rdb_run *a,
		 const struct rdb_cell *ca, size_t na, const struct rdb_run *b,
		 const struct rdb_cell *cb, size_t nb);

#endif /* VIOSCOPE__CLI_REPORT_WITH_H */

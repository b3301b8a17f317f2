/*
 * vioscope recommend [RUN] [--db FILE]
 *
 * Per device class, the I/O mode to use, from what each mode cost in RUN
 * (default: the latest finished run): the policy of analyzers/recommend.h,
 * stated, then one sentence per class with the numbers behind it.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli/advice.h"
#include "cli/cli.h"
#include "lib/db.h"
#include "lib/log.h"
#include "lib/resultsdb.h"

/* The latest finished run, whatever its label. */
static int latest_run(sqlite3 *db, struct rdb_run *r, char *why, size_t len)
{
	sqlite3_stmt *st;
	char id[32] = "";

	if (sqlite3_prepare_v2(db, "SELECT MAX(id) FROM runs WHERE status = 'done'", -1, &st,
			       NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		snprintf(id, sizeof(id), "%lld", (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (!id[0]) {
		snprintf(why, len, "no finished run in the database (vioscope run writes one)");
		return -1;
	}
	return rdb__run(db, id, r, why, len);
}

int cmd_recommend(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ 0 },
	};
	const char *db_path = DB_DEFAULT_PATH;
	struct class_advice *a;
	struct rdb_run run;
	char why[256];
	size_t n, i;
	sqlite3 *db;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c != 'd')
			die("recommend: usage: vioscope recommend [RUN] [--db FILE]");
		db_path = optarg;
	}
	if (argc - optind > 1)
		die("recommend: give at most one run");
	if (access(db_path, R_OK))
		die("recommend: %s: no results database (vioscope run writes it)", db_path);
	db = db__open(db_path, why, sizeof(why));
	if (!db)
		die("recommend: %s", why);
	if ((optind < argc ? rdb__run(db, argv[optind], &run, why, sizeof(why)) :
			     latest_run(db, &run, why, sizeof(why))))
		die("recommend: %s", why);
	if (advice__for_run(db, run.id, &a, &n))
		die("recommend: cannot read run %lld", (long long)run.id);
	printf("vioscope recommend: run %lld (%s, git %s, %s)\n", (long long)run.id, run.label,
	       run.git_revision, run.started_at);
	printf("policy: manageability first (emulation and paravirtualization keep live migration, "
	       "snapshots, isolation and device sharing); paravirtualization over emulation when it "
	       "is at least %.0f%% faster; pass-through only when paravirtualization stays below "
	       "%.2f of native throughput and pass-through is %.1fx faster than it.\n",
	       (rec_default_policy.pv_margin - 1) * 100, rec_default_policy.pt_threshold,
	       rec_default_policy.pt_gain);
	for (i = 0; i < n; i++)
		printf("%s\n", a[i].advice.why);
	free(a);
	db__close(db);
	return 0;
}

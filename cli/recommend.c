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
	db = rdb__open(db_path, why, sizeof(why));
	if (!db)
		die("recommend: %s", why);
	if ((optind < argc ? rdb__run(db, argv[optind], &run, why, sizeof(why)) :
			     rdb__latest(db, &run, why, sizeof(why))))
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

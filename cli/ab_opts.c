/* Options and database opening shared by vioscope compare and history. */
#include "cli/ab_opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "lib/db.h"
#include "lib/log.h"
#include "lib/resultsdb.h"

void ab_opts__parse(struct ab_opts *o, int argc, char **argv, const char *cmd, const char *usage)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "metric", required_argument, NULL, 'm' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "gate", required_argument, NULL, 'g' },
		{ 0 },
	};
	char *end;
	int c;

	*o = (struct ab_opts){ .db_path = DB_DEFAULT_PATH, .alpha = 0.01, .gate = 5 };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->db_path = optarg; break;
		case 'm': o->metric = optarg; break;
		case 'a':
			o->alpha = strtod(optarg, &end);
			if (*end || o->alpha <= 0 || o->alpha >= 1)
				ab_fail("%s: --alpha wants a probability between 0 and 1", cmd);
			break;
		case 'g':
			o->gate = strtod(optarg, &end);
			if (*end || o->gate < 0)
				ab_fail("%s: --gate wants a percentage", cmd);
			break;
		default:
			ab_fail("%s: usage: vioscope %s [--db FILE] [--metric NAME] [--alpha P] "
				"[--gate PCT]", cmd, usage);
		}
	}
}

sqlite3 *ab_opts__open(const struct ab_opts *o, const char *cmd)
{
	char why[256];
	sqlite3 *db = rdb__open(o->db_path, why, sizeof(why));

	if (!db)
		ab_fail("%s: %s", cmd, why);
	return db;
}

#ifndef VIOSCOPE__CLI_AB_OPTS_H
#define VIOSCOPE__CLI_AB_OPTS_H

#include <sqlite3.h>

/* What compare and history share: the database, the metric, the test. */
struct ab_opts {
	const char *db_path;
	const char *metric;	/* NULL: each cell's headline */
	double alpha;		/* permutation test level (0.01) */
	double gate;		/* noise gate, percent (5) */
};

/* Parses argv (getopt_long, options first); usage names the command's
 * form. Trouble exits 2, as diff does: 1 is for a regression found. */
void ab_opts__parse(struct ab_opts *o, int argc, char **argv, const char *cmd, const char *usage);
/* The database, which must exist (exits 2 otherwise). */
sqlite3 *ab_opts__open(const struct ab_opts *o, const char *cmd);

#define ab_fail(...)		\
	do {			\
		pr_err(__VA_ARGS__);	\
		exit(2);	\
	} while (0)

#endif /* VIOSCOPE__CLI_AB_OPTS_H */

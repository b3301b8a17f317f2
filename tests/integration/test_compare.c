/*
 * vioscope compare and history on a database with known contents (the
 * statistics themselves are tested in tests/analyzers/test_ab.c; `make
 * bench-regression` does the same on real runs with an injected delay).
 */
#include <criterion/criterion.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/db.h"
#include "tests/helpers.h"

static char dir[] = "/tmp/vioscope-cmp-XXXXXX";
static char db_path[96];

/* Iteration seq of cell with one higher-is-better metric. */
static void add_iteration(sqlite3 *db, sqlite3_int64 cell, int seq, const char *name,
			  const char *unit, double value)
{
	char sql[512], why[256];

	snprintf(sql, sizeof(sql), "INSERT INTO iterations(cell_id, seq, started_at, seconds) "
		 "VALUES (%lld, %d, 'now', 1)", (long long)cell, seq);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0, "%s", why);
	snprintf(sql, sizeof(sql), "INSERT INTO metrics VALUES (%lld, '%s', '%s', "
		 "'higher_is_better', %f)", (long long)sqlite3_last_insert_rowid(db), name, unit,
		 value);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0, "%s", why);
}

/* A finished run of label with one cell whose iops iterations are level +
 * noise, and one unavailable cell. */
static void add_run(sqlite3 *db, const char *label, double level, gsl_rng *r)
{
	char sql[512], why[256];
	sqlite3_int64 run, cell;
	int i;

	snprintf(sql, sizeof(sql), "INSERT INTO runs(label, suite, git_revision, started_at, status, "
		 "max_iterations, min_iterations, cv_target) VALUES ('%s', 's', 'rev', 'now', 'done', "
		 "10, 3, 3)", label);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0, "%s", why);
	run = sqlite3_last_insert_rowid(db);
	snprintf(sql, sizeof(sql), "INSERT INTO cells(run_id, class, mode, workload, spec, status, "
		 "reason, headline) VALUES (%lld, 'disk', 'pv', 'rr', '', 'done', '', 'iops')",
		 (long long)run);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0, "%s", why);
	cell = sqlite3_last_insert_rowid(db);
	snprintf(sql, sizeof(sql), "INSERT INTO cells(run_id, class, mode, workload, spec, status, "
		 "reason, headline) VALUES (%lld, 'disk', 'pt', 'rr', '', 'unavailable', 'no IOMMU', "
		 "'iops')", (long long)run);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0, "%s", why);
	for (i = 1; i <= 8; i++)
		add_iteration(db, cell, i, "iops", "IO/s", level + gsl_ran_gaussian(r, level * 0.01));
}

static void setup(void)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	char why[256];
	sqlite3 *db;
	int i;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/r.db", dir);
	db = db__open(db_path, why, sizeof(why));
	cr_assert_not_null(db, "%s", why);
	gsl_rng_set(r, 11);
	/* nightly: 4 runs at 2000, then 3 at 1600 (a 20% regression); "same":
	 * two runs of one build. */
	for (i = 0; i < 7; i++)
		add_run(db, "nightly", i < 4 ? 2000 : 1600, r);
	add_run(db, "same", 2000, r);
	add_run(db, "same", 2000, r);
	db__close(db);
	gsl_rng_free(r);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(compare, .init = setup, .fini = teardown);

/* vioscope a b [c] --db DB */
static int vioscope(char **out, const char *a, const char *b, const char *c)
{
	char *argv[] = { (char *)test_bin("vioscope"), (char *)a, (char *)b, (char *)c, "--db",
			 db_path, NULL };
	char *err;
	int rc;

	if (!c)	/* close the gap */
		memmove(&argv[3], &argv[4], 3 * sizeof(char *));
	rc = test_run(argv, out, &err);
	free(err);
	return rc;
}

Test(compare, two_runs_of_one_build_pass)
{
	char *out;

	cr_assert_eq(vioscope(&out, "compare", "same~1", "same"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "0 regressed"), "%s", out);
	cr_assert_not_null(strstr(out, "not compared: unavailable"), "%s", out);
	free(out);
}

Test(compare, a_20_percent_regression_fails)
{
	char *out;

	cr_assert_eq(vioscope(&out, "compare", "1", "5"), 1, "%s", out);
	cr_assert_not_null(strstr(out, "REGRESSION"), "%s", out);
	cr_assert(strstr(out, "-19.") || strstr(out, "-20."), "%s", out);
	free(out);
	/* The other way round it is an improvement, and passes. */
	cr_assert_eq(vioscope(&out, "compare", "5", "1"), 0, "%s", out);
	cr_assert_not_null(strstr(out, "1 improved"), "%s", out);
	free(out);
}

Test(compare, history_names_the_first_run_after_the_change)
{
	char *out;

	cr_assert_eq(vioscope(&out, "history", "nightly", NULL), 1, "%s", out);
	cr_assert_not_null(strstr(out, "REGRESSION from run 5"), "%s", out);
	free(out);
	cr_assert_eq(vioscope(&out, "history", "same", NULL), 0, "%s", out);
	cr_assert_not_null(strstr(out, "no change points"), "%s", out);
	free(out);
}

Test(compare, trouble_exits_2_with_one_line)
{
	char *out, *err;

	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "compare", "nosuch", "1",
					  "--db", db_path, NULL }, &out, &err), 2);
	cr_assert_eq(test_count_lines(err), 1, "%s", err);
	cr_assert_not_null(strstr(err, "no run 'nosuch'"), "%s", err);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "compare", "1", "--db",
					  db_path, NULL }, &out, &err), 2);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "history", "x", "--db",
					  "/nonexistent/r.db", NULL }, &out, &err), 2);
	cr_assert_not_null(strstr(err, "no results database"), "%s", err);
	free(out);
	free(err);
}

/* One done cell of three iterations at value (headline metric, frames/s). */
static void add_cell(sqlite3 *db, sqlite3_int64 run, const char *mode, const char *workload,
		     double value)
{
	char sql[512], why[256];
	sqlite3_int64 cell;
	int i;

	snprintf(sql, sizeof(sql), "INSERT INTO cells(run_id, class, mode, workload, spec, status, "
		 "reason, headline) VALUES (%lld, 'gfx', '%s', '%s', '', 'done', '', "
		 "'frames_seen_per_s')", (long long)run, mode, workload);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0, "%s", why);
	cell = sqlite3_last_insert_rowid(db);
	for (i = 1; i <= 3; i++)
		add_iteration(db, cell, i, "frames_seen_per_s", "frames/s", value);
}

/* The advice compares emulation and paravirtualization on the workloads
 * both ran: a pv-only line (gfx's gl=virgl) does not lift pv's mean. */
Test(compare, recommend_compares_modes_on_the_workloads_both_ran)
{
	char why[256], *out, *err;
	sqlite3_int64 run;
	sqlite3 *db = db__open(db_path, why, sizeof(why));

	cr_assert_not_null(db, "%s", why);
	cr_assert_eq(db__exec(db, "INSERT INTO runs(label, suite, git_revision, started_at, status, "
			      "max_iterations, min_iterations, cv_target) VALUES ('gfxrun', 'g', "
			      "'rev', 'now', 'done', 3, 3, 3)", why, sizeof(why)), 0, "%s", why);
	run = sqlite3_last_insert_rowid(db);
	add_cell(db, run, "emul", "rects", 100);
	add_cell(db, run, "pv", "rects", 150);
	add_cell(db, run, "pv", "rects-virgl", 10000);
	db__close(db);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "recommend", "gfxrun",
					  "--db", db_path, NULL }, &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "gfx: pv - 150.0 frames/s against emulation's 100.0 frames/s"),
			   "%s", out);
	free(out);
	free(err);
}

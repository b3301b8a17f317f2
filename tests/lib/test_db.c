/* The results database: migrations applied once, in order, and refused
 * when the file is newer than this build or not a database. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/db.h"

static char path[] = "/tmp/vioscope-db-XXXXXX";

static void setup(void)
{
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	close(fd);
	unlink(path);
}

static void teardown(void)
{
	char wal[64];

	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

TestSuite(db, .init = setup, .fini = teardown);

static int count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

Test(db, a_new_file_gets_every_migration_once)
{
	char why[256];
	sqlite3 *db = db__open(path, why, sizeof(why));

	cr_assert_not_null(db, "%s", why);
	cr_assert_geq(db__schema_latest(), 1);
	cr_assert_eq(db__schema_version(db), db__schema_latest());
	cr_assert_eq(count(db, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN "
			       "('runs','environment','cells','iterations','metrics','samples','stages')"),
		     7);
	cr_assert_eq(db__exec(db, "INSERT INTO runs(label, suite, started_at, status, "
				  "max_iterations, min_iterations, cv_target) "
				  "VALUES ('l', 's', 'now', 'done', 10, 3, 3)", why, sizeof(why)), 0, "%s",
		     why);
	db__close(db);

	/* Reopening changes nothing and keeps the data. */
	db = db__open(path, why, sizeof(why));
	cr_assert_not_null(db, "%s", why);
	cr_assert_eq(count(db, "SELECT COUNT(*) FROM runs"), 1);
	cr_assert_eq(count(db, "PRAGMA foreign_keys"), 1);
	/* Cells of a run that does not exist are refused. */
	cr_assert_neq(db__exec(db, "INSERT INTO cells(run_id, class, mode, workload, spec, status) "
				   "VALUES (99, 'disk', 'pv', 'w', '', 'done')", why, sizeof(why)), 0);
	db__close(db);
}

Test(db, a_newer_schema_is_refused)
{
	char why[256], sql[64];
	sqlite3 *db = db__open(path, why, sizeof(why));

	cr_assert_not_null(db);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", db__schema_latest() + 1);
	cr_assert_eq(db__exec(db, sql, why, sizeof(why)), 0);
	db__close(db);
	cr_assert_null(db__open(path, why, sizeof(why)));
	cr_assert_not_null(strstr(why, "newer than this vioscope"), "%s", why);
}

Test(db, not_a_database_is_one_clear_error)
{
	char why[256];
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs("this is not SQLite, just text long enough to have a header page......\n", f);
	fclose(f);
	cr_assert_null(db__open(path, why, sizeof(why)));
	cr_assert_not_null(strstr(why, path), "%s", why);
	cr_assert_null(strchr(why, '\n'));
}

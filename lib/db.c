/*
 * The results database: lib/schema.sql, compiled in as the string
 * vioscope_schema_sql, holds numbered migrations ("-- migration N"); a
 * database records the last one applied in PRAGMA user_version and gets
 * the rest, each in its own transaction.
 */
#include "lib/db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char vioscope_schema_sql[];

#define MARK "-- migration "

/* Start of migration n's text (after its marker line), or NULL. */
static const char *migration(int n, size_t *len)
{
	const char *p = vioscope_schema_sql, *next;
	char mark[32];

	snprintf(mark, sizeof(mark), MARK "%d\n", n);
	p = strstr(p, mark);
	if (!p)
		return NULL;
	p += strlen(mark);
	next = strstr(p, MARK);
	*len = next ? (size_t)(next - p) : strlen(p);
	return p;
}

int db__schema_latest(void)
{
	size_t len;
	int n = 0;

	while (migration(n + 1, &len))
		n++;
	return n;
}

int db__schema_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int db__exec(sqlite3 *db, const char *sql, char *why, size_t why_len)
{
	char *err = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &err) == SQLITE_OK)
		return 0;
	snprintf(why, why_len, "%s", err ? err : sqlite3_errmsg(db));
	sqlite3_free(err);
	return -1;
}

static int migrate(sqlite3 *db, int from, int to, char *why, size_t why_len)
{
	int n;

	for (n = from + 1; n <= to; n++) {
		char *sql, pragma[48];
		size_t len;
		const char *text = migration(n, &len);

		sql = malloc(len + 1);
		if (!sql) {
			snprintf(why, why_len, "out of memory");
			return -1;
		}
		memcpy(sql, text, len);
		sql[len] = 0;
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d;", n);
		if (db__exec(db, "BEGIN IMMEDIATE", why, why_len) ||
		    db__exec(db, sql, why, why_len) || db__exec(db, pragma, why, why_len) ||
		    db__exec(db, "COMMIT", why, why_len)) {
			char ignored[8];

			db__exec(db, "ROLLBACK", ignored, sizeof(ignored));
			free(sql);
			return -1;
		}
		free(sql);
	}
	return 0;
}

sqlite3 *db__open(const char *path, char *why, size_t why_len)
{
	int latest = db__schema_latest(), v;
	char err[256];
	sqlite3 *db;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, why_len, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	/* WAL: readers (report, compare) never block a run that is writing. */
	if (db__exec(db, "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;", err, sizeof(err))) {
		snprintf(why, why_len, "%s: %s", path, err);
		sqlite3_close(db);
		return NULL;
	}
	v = db__schema_version(db);
	if (v > latest) {
		snprintf(why, why_len, "%s: schema version %d is newer than this vioscope's (%d)",
			 path, v, latest);
		sqlite3_close(db);
		return NULL;
	}
	if (v < 0 || migrate(db, v, latest, err, sizeof(err))) {
		snprintf(why, why_len, "%s: cannot bring the schema to version %d: %s", path, latest,
			 v < 0 ? sqlite3_errmsg(db) : err);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

void db__close(sqlite3 *db)
{
	sqlite3_close(db);
}

#ifndef VIOSCOPE__LIB_DB_H
#define VIOSCOPE__LIB_DB_H

#include <sqlite3.h>
#include <stddef.h>

/*
 * The results database (SQLite; schema and migrations in lib/schema.sql,
 * compiled in). Opened in WAL mode with foreign keys on: a writer killed at
 * any moment leaves every committed transaction intact.
 */
#define DB_DEFAULT_PATH "results/vioscope.db"

/* Opens (creating) path and brings its schema up to date. NULL with one
 * line in why: unreadable file, not a database, or a newer schema. */
sqlite3 *db__open(const char *path, char *why, size_t why_len);
void db__close(sqlite3 *db);
/* The migrations compiled in; PRAGMA user_version of an open database. */
int db__schema_latest(void);
int db__schema_version(sqlite3 *db);
/* Runs SQL without results; 0 or -1 with sqlite's message in why. */
int db__exec(sqlite3 *db, const char *sql, char *why, size_t why_len);

#endif /* VIOSCOPE__LIB_DB_H */

#ifndef VIOSCOPE__CLI_ADVICE_H
#define VIOSCOPE__CLI_ADVICE_H

#include <sqlite3.h>
#include <stddef.h>

#include "analyzers/recommend.h"

/* One class of a run: what each mode cost, and the advice. */
struct class_advice {
	char class[8];
	struct rec_mode modes[REC_NR];
	struct rec_advice advice;
};

/* Every class in run; 0 or -1 (caller frees *out). */
int advice__for_run(sqlite3 *db, sqlite3_int64 run, struct class_advice **out, size_t *n);

#endif /* VIOSCOPE__CLI_ADVICE_H */

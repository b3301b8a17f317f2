/*
 * vioscope fio-summary [--label NAME] FILE...: fio's JSON output
 * (--output-format=json) as one line per job, in the form of vioscope-vmm's
 * disk lines, so that a host-native run sits beside the guest modes.
 * NAME starts each line ("native" by default). Parsed with cJSON.
 */
#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/file.h"
#include "lib/log.h"

static double num(const cJSON *o, const char *a, const char *b, const char *c)
{
	const cJSON *x = cJSON_GetObjectItem(o, a);

	if (b)
		x = cJSON_GetObjectItem(x, b);
	if (c)
		x = cJSON_GetObjectItem(x, c);
	return cJSON_IsNumber(x) ? x->valuedouble : 0;
}

int cmd_fio_summary(int argc, char **argv)
{
	const char *label = "native";
	int i = 1, status = 0;

	if (argc > 2 && !strcmp(argv[1], "--label")) {
		label = argv[2];
		i = 3;
	}
	if (i >= argc)
		die("fio-summary: give fio JSON files ([--label NAME] FILE...)");
	for (; i < argc; i++) {
		char *text = file__read_text(argv[i]);
		/* fio may print notes before its JSON: start at the first brace. */
		cJSON *root = text && strchr(text, '{') ? cJSON_Parse(strchr(text, '{')) : NULL;
		const cJSON *job;

		free(text);
		if (!root) {
			pr_err("fio-summary: %s: not fio JSON output", argv[i]);
			status = 1;
			continue;
		}
		cJSON_ArrayForEach(job, cJSON_GetObjectItem(root, "jobs")) {
			const cJSON *opts = cJSON_GetObjectItem(job, "job options");
			const char *rw = cJSON_GetStringValue(cJSON_GetObjectItem(opts, "rw"));
			const char *dir = rw && strstr(rw, "write") ? "write" : "read";
			const cJSON *pct = cJSON_GetObjectItem(cJSON_GetObjectItem(
				cJSON_GetObjectItem(job, dir), "clat_ns"), "percentile");

			printf("%s %-9s bs %-6s qd %-2s %7.0f I/Os  p50 %8.2f us  p99 %8.2f us  %8.0f IOPS  (fio)\n",
			       label, rw ? rw : "?",
			       cJSON_GetStringValue(cJSON_GetObjectItem(opts, "bs")) ?: "?",
			       cJSON_GetStringValue(cJSON_GetObjectItem(opts, "iodepth")) ?: "1",
			       num(job, dir, "total_ios", NULL),
			       num(pct, "50.000000", NULL, NULL) / 1e3,
			       num(pct, "99.000000", NULL, NULL) / 1e3, num(job, dir, "iops", NULL));
		}
		cJSON_Delete(root);
	}
	return status;
}

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
#include "lib/json.h"

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
			       json__num(job, 0, dir, "total_ios", NULL),
			       json__num(pct, 0, "50.000000", NULL, NULL) / 1e3,
			       json__num(pct, 0, "99.000000", NULL, NULL) / 1e3,
			       json__num(job, 0, dir, "iops", NULL));
		}
		cJSON_Delete(root);
	}
	return status;
}

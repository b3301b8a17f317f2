/* fio's JSON output (see fio.h). */
#include "lib/fio.h"
#include "lib/json.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

int fio__parse(const cJSON *fio, const char *rw, struct fio_figures *f, char *why, size_t why_len)
{
	const char *side = strstr(rw, "write") ? "write" : "read";
	const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(fio, "jobs"), 0);
	const cJSON *d = cJSON_GetObjectItem(job, side);
	const cJSON *lat = cJSON_GetObjectItem(d, "lat_ns");
	const cJSON *pct = cJSON_GetObjectItem(lat, "percentile");

	memset(f, 0, sizeof(*f));
	if (!job) {
		snprintf(why, why_len, "fio's output has no job");
		return -1;
	}
	f->iops = json__num(d, -1, "iops", NULL, NULL);
	f->bw_bytes = json__num(d, -1, "bw_bytes", NULL, NULL);
	if (f->iops < 0 || f->bw_bytes < 0) {
		snprintf(why, why_len, "fio's output has no %s figures", side);
		return -1;
	}
	f->errors = json__num(job, -1, "error", NULL, NULL);
	f->lat_mean_ns = json__num(lat, -1, "mean", NULL, NULL);
	f->lat_p50_ns = json__num(pct, -1, "50.000000", NULL, NULL);
	f->lat_p99_ns = json__num(pct, -1, "99.000000", NULL, NULL);
	f->have_lat = f->lat_mean_ns >= 0 && f->lat_p50_ns >= 0 && f->lat_p99_ns >= 0;
	return 0;
}

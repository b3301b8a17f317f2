/* fio's JSON output (see fio.h). */
#include "lib/fio.h"

#include <cJSON.h>
#include <stdio.h>
#include <string.h>

static double num(const cJSON *o, const char *k1, const char *k2)
{
	o = cJSON_GetObjectItemCaseSensitive(o, k1);
	if (k2)
		o = cJSON_GetObjectItemCaseSensitive(o, k2);
	return cJSON_IsNumber(o) ? o->valuedouble : -1;
}

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
	f->iops = num(d, "iops", NULL);
	f->bw_bytes = num(d, "bw_bytes", NULL);
	if (f->iops < 0 || f->bw_bytes < 0) {
		snprintf(why, why_len, "fio's output has no %s figures", side);
		return -1;
	}
	f->errors = num(job, "error", NULL);
	f->lat_mean_ns = num(lat, "mean", NULL);
	f->lat_p50_ns = num(pct, "50.000000", NULL);
	f->lat_p99_ns = num(pct, "99.000000", NULL);
	f->have_lat = f->lat_mean_ns >= 0 && f->lat_p50_ns >= 0 && f->lat_p99_ns >= 0;
	return 0;
}

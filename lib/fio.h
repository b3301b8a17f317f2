#ifndef VIOSCOPE__LIB_FIO_H
#define VIOSCOPE__LIB_FIO_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/* The figures of fio's JSON output (one job), on the host or in a guest. */
struct fio_figures {
	double iops;
	double bw_bytes;	/* per second */
	double errors;
	bool have_lat;		/* total-latency percentiles (lat_percentiles=1) */
	double lat_mean_ns, lat_p50_ns, lat_p99_ns;
};

/* rw names the direction to read ("write" in it: the write side). 0, or -1
 * with one line in why (no job, no figures for that direction). */
int fio__parse(const struct cJSON *fio, const char *rw, struct fio_figures *f, char *why,
	       size_t why_len);

#endif /* VIOSCOPE__LIB_FIO_H */

#ifndef VIOSCOPE__STATS_H
#define VIOSCOPE__STATS_H

#include <stddef.h>
#include <stdint.h>

/* Exact summary of a sample set (sorted copy, GSL quantiles). */
struct stats_summary {
	size_t n;
	double mean;
	double stdev;
	double min;
	double p50;
	double p99;
	double p999;
	double max;
};

/* Sorts a private copy; returns 0, or -ENOMEM / -EINVAL (n == 0). */
int stats__summarize_u64(const uint64_t *v, size_t n, double scale,
			 struct stats_summary *out);

/* The same for signed values (e.g. stage times, which clock error can
 * make negative). */
int stats__summarize(const double *v, size_t n, struct stats_summary *out);

#endif /* VIOSCOPE__STATS_H */

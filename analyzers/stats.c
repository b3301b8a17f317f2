#include "analyzers/stats.h"

#include <errno.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <stdlib.h>
#include <string.h>

/* Summarises d[0..n-1] in place (sorts it). */
static void summarize_sorting(double *d, size_t n, struct stats_summary *out)
{
	gsl_sort(d, 1, n);

	out->n = n;
	out->mean = gsl_stats_mean(d, 1, n);
	out->stdev = n > 1 ? gsl_stats_sd_m(d, 1, n, out->mean) : 0.0;
	out->min = d[0];
	out->max = d[n - 1];
	out->p50 = gsl_stats_quantile_from_sorted_data(d, 1, n, 0.50);
	out->p99 = gsl_stats_quantile_from_sorted_data(d, 1, n, 0.99);
	out->p999 = gsl_stats_quantile_from_sorted_data(d, 1, n, 0.999);
}

int stats__summarize_u64(const uint64_t *v, size_t n, double scale,
			 struct stats_summary *out)
{
	double *d;
	size_t i;

	if (n == 0)
		return -EINVAL;
	d = malloc(n * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		d[i] = (double)v[i] * scale;
	summarize_sorting(d, n, out);
	free(d);
	return 0;
}

int stats__summarize(const double *v, size_t n, struct stats_summary *out)
{
	double *d;

	if (n == 0)
		return -EINVAL;
	d = malloc(n * sizeof(*d));
	if (!d)
		return -ENOMEM;
	memcpy(d, v, n * sizeof(*d));
	summarize_sorting(d, n, out);
	free(d);
	return 0;
}

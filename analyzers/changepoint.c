/* Binary segmentation over run histories (see changepoint.h). */
#include "analyzers/changepoint.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/ab.h"

#define CP_REPS 20000

/* Values of runs [s, e) into one array; their count. */
static size_t gather(const double *const *vals, const size_t *counts, size_t s, size_t e,
		     double *dst)
{
	size_t n = 0, i;

	for (i = s; i < e; i++) {
		memcpy(dst + n, vals[i], counts[i] * sizeof(double));
		n += counts[i];
	}
	return n;
}

static double mean_of(const double *const *vals, const size_t *counts, size_t s, size_t e)
{
	double sum = 0;
	size_t n = 0, i, j;

	for (i = s; i < e; i++)
		for (j = 0; j < counts[i]; j++, n++)
			sum += vals[i][j];
	return n ? sum / (double)n : NAN;
}

static int segment(const double *const *vals, const size_t *counts, size_t s, size_t e,
		   double alpha, double gate_pct, double *left, double *right, size_t *out,
		   size_t *nout, size_t max_out)
{
	double best = 0;
	size_t k, split = 0, nl, nr;
	bool exact;

	if (e - s < 2 || *nout >= max_out)
		return 0;
	for (k = s + 1; k < e; k++) {
		double a = mean_of(vals, counts, s, k), b = mean_of(vals, counts, k, e);
		double rel = a != 0 ? fabs(b - a) / fabs(a) : 0;

		if (!isnan(rel) && rel > best) {
			best = rel;
			split = k;
		}
	}
	if (!split || best * 100 < gate_pct)
		return 0;
	nl = gather(vals, counts, s, split, left);
	nr = gather(vals, counts, split, e, right);
	if (ab__permutation_p(left, nl, right, nr, CP_REPS, AB_DEFAULT_SEED, &exact) >= alpha)
		return 0;
	out[(*nout)++] = split;
	segment(vals, counts, s, split, alpha, gate_pct, left, right, out, nout, max_out);
	segment(vals, counts, split, e, alpha, gate_pct, left, right, out, nout, max_out);
	return 0;
}

static int by_index(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x < y ? -1 : x > y;
}

int changepoint__find(const double *const *vals, const size_t *counts, size_t nruns,
		      double alpha, double gate_pct, size_t *out, size_t max_out)
{
	size_t total = 0, nout = 0, i;
	double *left, *right;

	for (i = 0; i < nruns; i++)
		total += counts[i];
	left = malloc((total + 1) * sizeof(double));
	right = malloc((total + 1) * sizeof(double));
	if (!left || !right) {
		free(left);
		free(right);
		return -ENOMEM;
	}
	segment(vals, counts, 0, nruns, alpha, gate_pct, left, right, out, &nout, max_out);
	free(left);
	free(right);
	qsort(out, nout, sizeof(*out), by_index);
	return (int)nout;
}

/* A/B statistics (see ab.h), on GSL's Mersenne Twister. */
#include "analyzers/ab.h"

#include <errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static gsl_rng *rng_new(uint64_t seed)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);

	if (r)
		gsl_rng_set(r, (unsigned long)seed);
	return r;
}

int ab__bootstrap_ci(const double *v, size_t n, double level, unsigned int reps, uint64_t seed,
		     double *lo, double *hi)
{
	double *means;
	gsl_rng *r;
	unsigned int i;
	size_t k;

	if (n < 2 || reps < 10 || level <= 0 || level >= 1)
		return -EINVAL;
	means = malloc(reps * sizeof(*means));
	r = rng_new(seed);
	if (!means || !r) {
		free(means);
		gsl_rng_free(r);
		return -ENOMEM;
	}
	for (i = 0; i < reps; i++) {
		double s = 0;

		for (k = 0; k < n; k++)
			s += v[gsl_rng_uniform_int(r, n)];
		means[i] = s / (double)n;
	}
	gsl_sort(means, 1, reps);
	*lo = gsl_stats_quantile_from_sorted_data(means, 1, reps, (1 - level) / 2);
	*hi = gsl_stats_quantile_from_sorted_data(means, 1, reps, 1 - (1 - level) / 2);
	free(means);
	gsl_rng_free(r);
	return 0;
}

/* C(n, k), saturating at a value above any exact-enumeration budget. */
static double choose(size_t n, size_t k)
{
	double c = 1;
	size_t i;

	for (i = 1; i <= k; i++) {
		c = c * (double)(n - k + i) / (double)i;
		if (c > 1e12)
			return 1e12;
	}
	return c;
}

double ab__min_p(size_t na, size_t nb)
{
	double c = choose(na + nb, na);

	return c > 0 ? fmin(1.0, 2.0 / c) : 1.0;
}

/* Exact: every way to pick na of the pooled values as "a". */
static double exact_p(const double *pool, size_t n, size_t na, double total, double observed)
{
	size_t idx[64], i;
	double count = 0, splits = 0;

	for (i = 0; i < na; i++)
		idx[i] = i;
	for (;;) {
		double sa = 0, d;

		for (i = 0; i < na; i++)
			sa += pool[idx[i]];
		d = (total - sa) / (double)(n - na) - sa / (double)na;
		count += fabs(d) >= observed - 1e-12 * fabs(observed);
		splits++;
		/* Next combination in lexicographic order. */
		for (i = na; i-- > 0;)
			if (idx[i] != i + n - na)
				break;
		if (i == (size_t)-1)
			break;
		idx[i]++;
		for (size_t j = i + 1; j < na; j++)
			idx[j] = idx[j - 1] + 1;
	}
	return count / splits;
}

double ab__permutation_p(const double *a, size_t na, const double *b, size_t nb,
			 unsigned int reps, uint64_t seed, bool *exact)
{
	size_t n = na + nb, i;
	double *pool, total = 0, observed, count = 0;
	gsl_rng *r;
	unsigned int k;

	*exact = false;
	if (!na || !nb)
		return 1;
	pool = malloc(n * sizeof(*pool));
	if (!pool)
		return 1;
	memcpy(pool, a, na * sizeof(*a));
	memcpy(pool + na, b, nb * sizeof(*b));
	for (i = 0; i < n; i++)
		total += pool[i];
	observed = fabs(gsl_stats_mean(b, 1, nb) - gsl_stats_mean(a, 1, na));
	if (na <= 64 && choose(n, na) <= reps) {
		double p = exact_p(pool, n, na, total, observed);

		*exact = true;
		free(pool);
		return p;
	}
	r = rng_new(seed);
	if (!r) {
		free(pool);
		return 1;
	}
	for (k = 0; k < reps; k++) {
		double sa = 0, d;

		/* A random na-subset: partial Fisher-Yates. */
		for (i = 0; i < na; i++) {
			size_t j = i + gsl_rng_uniform_int(r, n - i);
			double t = pool[i];

			pool[i] = pool[j];
			pool[j] = t;
			sa += pool[i];
		}
		d = (total - sa) / (double)nb - sa / (double)na;
		count += fabs(d) >= observed - 1e-12 * observed;
	}
	gsl_rng_free(r);
	free(pool);
	return (count + 1) / ((double)reps + 1);
}

int ab__compare(const double *a, size_t na, const double *b, size_t nb, bool higher_is_better,
		double alpha, double gate_pct, struct ab_result *r)
{
	bool worse;

	memset(r, 0, sizeof(*r));
	if (!na || !nb)
		return -EINVAL;
	r->mean_a = gsl_stats_mean(a, 1, na);
	r->mean_b = gsl_stats_mean(b, 1, nb);
	r->change_pct = r->mean_a != 0 ? (r->mean_b - r->mean_a) / fabs(r->mean_a) * 100 : 0;
	r->p = ab__permutation_p(a, na, b, nb, AB_DEFAULT_REPS, AB_DEFAULT_SEED, &r->exact);
	worse = higher_is_better ? r->change_pct < 0 : r->change_pct > 0;
	if (r->p < alpha && fabs(r->change_pct) >= gate_pct)
		r->verdict = worse ? AB_WORSE : AB_BETTER;
	else if (ab__min_p(na, nb) >= alpha)
		r->verdict = AB_TOO_FEW;
	else
		r->verdict = AB_SAME;
	return 0;
}

const char *ab__verdict_name(enum ab_verdict v)
{
	static const char *const names[] = {
		[AB_SAME] = "same", [AB_BETTER] = "better", [AB_WORSE] = "REGRESSION",
		[AB_TOO_FEW] = "too few iterations",
	};

	return names[v];
}

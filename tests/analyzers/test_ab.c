/* A/B statistics and change points against known answers. */
#include <criterion/criterion.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>

#include "analyzers/ab.h"
#include "analyzers/changepoint.h"

/* 3 vs 3 values, all of b above all of a: the extreme split, p = 2/20. */
Test(ab, exact_permutation_extreme_split)
{
	double a[] = { 1, 2, 3 }, b[] = { 10, 11, 12 };
	bool exact;

	cr_assert_float_eq(ab__permutation_p(a, 3, b, 3, 1000, 1, &exact), 0.1, 1e-12);
	cr_assert(exact);
	cr_assert_float_eq(ab__min_p(3, 3), 0.1, 1e-12);
	cr_assert_float_eq(ab__min_p(5, 5), 2.0 / 252, 1e-12);
}

/* Identical groups: every split is as extreme as the observed one. */
Test(ab, identical_groups_give_p_one)
{
	double a[] = { 5, 5, 5, 5 }, b[] = { 5, 5, 5, 5 };
	bool exact;

	cr_assert_float_eq(ab__permutation_p(a, 4, b, 4, 1000, 1, &exact), 1.0, 1e-12);
}

/* By hand: a = {1, 2}, b = {3, 5}: |diff| 2.5; the 6 splits of {1,2,3,5}
 * ({1,2} {1,3} {1,5} {2,3} {2,5} {3,5} as a) give |diffs| 2.5 1.5 0.5 0.5
 * 1.5 2.5 -> 2 of 6 at least 2.5. */
Test(ab, exact_p_by_hand)
{
	double a[] = { 1, 2 }, b[] = { 3, 5 };
	bool exact;

	cr_assert_float_eq(ab__permutation_p(a, 2, b, 2, 1000, 1, &exact), 2.0 / 6, 1e-12);
}

/* Monte Carlo (too many splits to list) agrees with the exact answer's
 * scale: a clear 20% shift is found, the same distribution is not. */
Test(ab, monte_carlo_detects_a_shift_and_only_a_shift)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	double a[30], b[30], c[30];
	struct ab_result res;
	int i;

	gsl_rng_set(r, 7);
	for (i = 0; i < 30; i++) {
		a[i] = 1000 + gsl_ran_gaussian(r, 30);
		b[i] = 1000 + gsl_ran_gaussian(r, 30);
		c[i] = 800 + gsl_ran_gaussian(r, 30);
	}
	cr_assert_eq(ab__compare(a, 30, b, 30, true, 0.01, 5, &res), 0);
	cr_assert_not(res.exact);
	cr_assert_eq(res.verdict, AB_SAME, "p %g change %g", res.p, res.change_pct);
	cr_assert_eq(ab__compare(a, 30, c, 30, true, 0.01, 5, &res), 0);
	cr_assert_eq(res.verdict, AB_WORSE, "p %g change %g", res.p, res.change_pct);
	cr_assert_lt(res.p, 0.001);
	cr_assert_float_eq(res.change_pct, -20, 2);
	/* The same drop in a latency (lower is better) is an improvement. */
	cr_assert_eq(ab__compare(a, 30, c, 30, false, 0.01, 5, &res), 0);
	cr_assert_eq(res.verdict, AB_BETTER);
	gsl_rng_free(r);
}

/* Significant but small: the noise gate keeps it "same". */
Test(ab, the_noise_gate_holds_small_changes)
{
	double a[10], b[10];
	struct ab_result res;
	int i;

	for (i = 0; i < 10; i++) {
		a[i] = 1000 + i * 0.1;
		b[i] = 970 + i * 0.1;	/* -3%, perfectly separated */
	}
	cr_assert_eq(ab__compare(a, 10, b, 10, true, 0.01, 5, &res), 0);
	cr_assert_lt(res.p, 0.01);
	cr_assert_eq(res.verdict, AB_SAME);
}

Test(ab, too_few_iterations_are_said)
{
	double a[] = { 100, 101, 99 }, b[] = { 50, 51, 49 };
	struct ab_result res;

	cr_assert_eq(ab__compare(a, 3, b, 3, true, 0.01, 5, &res), 0);
	cr_assert_eq(res.verdict, AB_TOO_FEW);
}

Test(ab, bootstrap_ci_covers_the_mean_and_is_seeded)
{
	double v[] = { 9, 10, 11, 10, 9, 11, 10, 10, 12, 8 }, lo, hi, lo2, hi2;

	cr_assert_eq(ab__bootstrap_ci(v, 10, 0.95, 10000, 42, &lo, &hi), 0);
	cr_assert_lt(lo, 10);
	cr_assert_gt(hi, 10);
	cr_assert_gt(lo, 9);
	cr_assert_lt(hi, 11);
	cr_assert_eq(ab__bootstrap_ci(v, 10, 0.95, 10000, 42, &lo2, &hi2), 0);
	cr_assert_float_eq(lo, lo2, 0);
	cr_assert_float_eq(hi, hi2, 0);
	cr_assert_eq(ab__bootstrap_ci(v, 1, 0.95, 100, 1, &lo, &hi), -EINVAL);
}

/* Histories of runs with 5 iterations each. */
static size_t history(const double *levels, size_t nruns, double noise, size_t *out, size_t max)
{
	static double vals[64][5];
	const double *rows[64];
	size_t counts[64], i, j;
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	int n;

	gsl_rng_set(r, 3);
	for (i = 0; i < nruns; i++) {
		for (j = 0; j < 5; j++)
			vals[i][j] = levels[i] + gsl_ran_gaussian(r, noise);
		rows[i] = vals[i];
		counts[i] = 5;
	}
	gsl_rng_free(r);
	n = changepoint__find(rows, counts, nruns, 0.01, 5, out, max);
	cr_assert_geq(n, 0);
	return (size_t)n;
}

Test(changepoint, one_step_is_found_at_its_first_run)
{
	double levels[20];
	size_t out[8], i;

	for (i = 0; i < 20; i++)
		levels[i] = i < 12 ? 1000 : 800;
	cr_assert_eq(history(levels, 20, 20, out, 8), 1);
	cr_assert_eq(out[0], 12);
}

Test(changepoint, two_steps_are_both_found)
{
	double levels[24];
	size_t out[8], i;

	for (i = 0; i < 24; i++)
		levels[i] = i < 8 ? 1000 : i < 16 ? 700 : 1000;
	cr_assert_eq(history(levels, 24, 20, out, 8), 2);
	cr_assert_eq(out[0], 8);
	cr_assert_eq(out[1], 16);
}

Test(changepoint, a_flat_noisy_history_has_none)
{
	double levels[20];
	size_t out[8], i;

	for (i = 0; i < 20; i++)
		levels[i] = 1000;
	cr_assert_eq(history(levels, 20, 30, out, 8), 0);
}

/* A real step smaller than the gate is not reported. */
Test(changepoint, steps_under_the_gate_are_not_reported)
{
	double levels[20];
	size_t out[8], i;

	for (i = 0; i < 20; i++)
		levels[i] = i < 10 ? 1000 : 970;
	cr_assert_eq(history(levels, 20, 2, out, 8), 0);
}

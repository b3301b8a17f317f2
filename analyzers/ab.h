#ifndef VIOSCOPE__ANALYZERS_AB_H
#define VIOSCOPE__ANALYZERS_AB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A/B statistics on per-iteration values (each iteration an independent
 * measurement): percentile-bootstrap confidence intervals of a mean, and
 * a two-sided permutation test on the difference of means, exact when
 * the number of splits allows, else Monte Carlo. Seeded: same inputs,
 * same answers.
 */
#define AB_DEFAULT_REPS		100000
#define AB_DEFAULT_SEED		0x5eed

/* [lo, hi] for the mean at level (e.g. 0.95); 0 or -EINVAL (n < 2). */
int ab__bootstrap_ci(const double *v, size_t n, double level, unsigned int reps, uint64_t seed,
		     double *lo, double *hi);
/* Two-sided p of mean(b) - mean(a) under exchangeability. *exact says how
 * it was found. Smallest possible p: ab__min_p. */
double ab__permutation_p(const double *a, size_t na, const double *b, size_t nb,
			 unsigned int reps, uint64_t seed, bool *exact);
/* The smallest p an exact test of na vs nb can give: 2 / C(na+nb, na). */
double ab__min_p(size_t na, size_t nb);

enum ab_verdict { AB_SAME, AB_BETTER, AB_WORSE, AB_TOO_FEW };

struct ab_result {
	double mean_a, mean_b;
	double change_pct;	/* (b - a) / a */
	double p;
	bool exact;
	enum ab_verdict verdict;
};

/*
 * B against A: worse or better only when p < alpha AND the change is at
 * least gate_pct (the noise gate), in the metric's direction; AB_TOO_FEW
 * when even a perfect split could not reach alpha.
 */
int ab__compare(const double *a, size_t na, const double *b, size_t nb, bool higher_is_better,
		double alpha, double gate_pct, struct ab_result *r);
const char *ab__verdict_name(enum ab_verdict v);

#endif /* VIOSCOPE__ANALYZERS_AB_H */

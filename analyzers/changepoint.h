#ifndef VIOSCOPE__ANALYZERS_CHANGEPOINT_H
#define VIOSCOPE__ANALYZERS_CHANGEPOINT_H

#include <stddef.h>

/*
 * Change points in a history of runs (oldest first), each run a set of
 * per-iteration values: binary segmentation, splitting a stretch where the
 * means before and after differ most, kept when the permutation test on
 * the two sides' values gives p < alpha and the change is at least
 * gate_pct; then both sides are searched again. Returns the number of
 * change points written to out (each the index of the first run after a
 * change, ascending), at most max_out, or -errno.
 */
int changepoint__find(const double *const *vals, const size_t *counts, size_t nruns,
		      double alpha, double gate_pct, size_t *out, size_t max_out);

#endif /* VIOSCOPE__ANALYZERS_CHANGEPOINT_H */

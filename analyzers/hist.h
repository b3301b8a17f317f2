#ifndef VIOSCOPE__HIST_H
#define VIOSCOPE__HIST_H

#include <stdint.h>

#include "analyzers/hist_bucket.h"

/*
 * A log-linear histogram in the HDR style: values below 2^HIST_SUB_BITS are
 * exact, above that every power of two is split into 2^HIST_SUB_BITS linear
 * buckets, so any recorded value is known within 1/16 (6.25%) of itself.
 * Recording is lock-free (relaxed atomics) so vCPU threads can share one.
 */

struct hist {
	uint64_t count;
	uint64_t sum;
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

void hist__init(struct hist *h);
void hist__record(struct hist *h, uint64_t value);
/* q in [0, 1]; returns the upper bound of the bucket holding that rank. */
uint64_t hist__quantile(const struct hist *h, double q);
double hist__mean(const struct hist *h);
void hist__merge(struct hist *dst, const struct hist *src);

/* Exposed for tests: bucket index of a value and the bucket's value range. */
unsigned int hist__bucket(uint64_t value);
uint64_t hist__bucket_low(unsigned int idx);
uint64_t hist__bucket_high(unsigned int idx);

#endif /* VIOSCOPE__HIST_H */

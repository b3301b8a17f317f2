#include "analyzers/hist.h"

#include <stdbool.h>
#include <string.h>

void hist__init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

unsigned int hist__bucket(uint64_t v)
{
	return hist_bucket_of(v);
}

uint64_t hist__bucket_low(unsigned int idx)
{
	unsigned int e, sub;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + HIST_SUB_BITS - 1;
	sub = idx % HIST_SUB;
	return ((uint64_t)(HIST_SUB + sub)) << (e - HIST_SUB_BITS);
}

uint64_t hist__bucket_high(unsigned int idx)
{
	unsigned int e;

	if (idx < HIST_SUB)
		return idx;
	e = idx / HIST_SUB + HIST_SUB_BITS - 1;
	return hist__bucket_low(idx) + (((uint64_t)1 << (e - HIST_SUB_BITS)) - 1);
}

static void atomic_min(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v < cur && !__atomic_compare_exchange_n(p, &cur, v, true,
				__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

static void atomic_max(uint64_t *p, uint64_t v)
{
	uint64_t cur = __atomic_load_n(p, __ATOMIC_RELAXED);

	while (v > cur && !__atomic_compare_exchange_n(p, &cur, v, true,
				__ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
}

void hist__record(struct hist *h, uint64_t v)
{
	__atomic_add_fetch(&h->buckets[hist__bucket(v)], 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->count, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&h->sum, v, __ATOMIC_RELAXED);
	atomic_min(&h->min, v);
	atomic_max(&h->max, v);
}

uint64_t hist__quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	unsigned int i;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	/* Nearest-rank definition: the smallest value with >= q of the samples. */
	rank = (uint64_t)(q * (double)h->count + 0.999999999);
	if (rank == 0)
		rank = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t hi = hist__bucket_high(i);

			return hi < h->max ? hi : h->max;
		}
	}
	return h->max;
}

double hist__mean(const struct hist *h)
{
	return h->count ? (double)h->sum / (double)h->count : 0.0;
}

void hist__merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	if (!src->count)
		return;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

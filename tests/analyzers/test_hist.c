#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include "analyzers/hist.h"
#include "analyzers/stats.h"

Test(hist, buckets_cover_values_in_order)
{
	uint64_t vals[] = { 0, 1, 15, 16, 17, 31, 32, 1000, 4095, 4096, 123456789,
			    UINT64_MAX / 3, UINT64_MAX };
	unsigned int prev = 0, i;

	for (i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		unsigned int b = hist__bucket(vals[i]);

		cr_assert_lt(b, HIST_BUCKETS);
		cr_assert_geq(b, prev);
		cr_assert_leq(hist__bucket_low(b), vals[i]);
		cr_assert_geq(hist__bucket_high(b), vals[i]);
		prev = b;
	}
}

Test(hist, relative_error_is_bounded_by_one_sixteenth)
{
	uint64_t v;

	for (v = 16; v < (1ULL << 40); v = v * 3 + 7) {
		unsigned int b = hist__bucket(v);
		double width = (double)(hist__bucket_high(b) - hist__bucket_low(b));

		cr_assert_leq(width / (double)v, 1.0 / 16, "value %llu", (unsigned long long)v);
	}
}

Test(hist, quantiles_mean_and_merge)
{
	struct hist a, b;
	uint64_t i;

	hist__init(&a);
	hist__init(&b);
	for (i = 1; i <= 1000; i++)
		hist__record(i <= 500 ? &a : &b, i * 100);
	hist__merge(&a, &b);
	cr_assert_eq(a.count, 1000);
	cr_assert_eq(a.min, 100);
	cr_assert_eq(a.max, 100000);
	cr_assert_float_eq(hist__mean(&a), 50050.0, 1e-6);
	/* Exact p50 is 50000; the bucket bound is within 1/16 above it. */
	cr_assert_geq(hist__quantile(&a, 0.5), 50000);
	cr_assert_leq(hist__quantile(&a, 0.5), 50000 * 17 / 16);
	cr_assert_eq(hist__quantile(&a, 1.0), 100000);
	cr_assert_eq(hist__quantile(&a, 0.0), 100);
}

Test(stats, summary_matches_known_values)
{
	uint64_t v[100];
	struct stats_summary s;
	int i;

	for (i = 0; i < 100; i++)
		v[i] = (uint64_t)(100 - i);	/* unsorted input */
	cr_assert_eq(stats__summarize_u64(v, 100, 2.0, &s), 0);
	cr_assert_eq(s.n, 100);
	cr_assert_float_eq(s.mean, 101.0, 1e-9);
	cr_assert_float_eq(s.min, 2.0, 1e-9);
	cr_assert_float_eq(s.max, 200.0, 1e-9);
	cr_assert_float_eq(s.p50, 101.0, 1e-9);
	cr_assert_eq(v[0], 100, "input must not be reordered");
	cr_assert_eq(stats__summarize_u64(v, 0, 1.0, &s), -EINVAL);
}

/* The BPF programs use hist_bucket_of (no clz in BPF): same layout. */
Test(hist, bucket_of_matches_the_clz_layout)
{
	uint64_t v;

	for (v = 0; v < (1ULL << 63); v = v * 2 + (v & 7) + 1) {
		unsigned int e = v < HIST_SUB ? 0 : 63 - (unsigned int)__builtin_clzll(v);
		unsigned int want = v < HIST_SUB ? (unsigned int)v :
			(e - HIST_SUB_BITS + 1) * HIST_SUB +
			(unsigned int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));

		cr_assert_eq(hist_bucket_of(v), want, "value %llu", (unsigned long long)v);
	}
	cr_assert_eq(hist_bucket_of(UINT64_MAX), HIST_BUCKETS - 1);
}

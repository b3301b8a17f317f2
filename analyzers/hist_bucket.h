#ifndef VIOSCOPE__HIST_BUCKET_H
#define VIOSCOPE__HIST_BUCKET_H

/*
 * The bucket layout of the log-linear histogram (analyzers/hist.h), shared
 * with the BPF programs in probes/ so that kernel-side histograms merge with
 * user-side ones: values below 2^HIST_SUB_BITS are exact, every power of two
 * above is split into 2^HIST_SUB_BITS linear buckets. Plain C with no libc
 * and no clz (BPF has no such instruction).
 */
#define HIST_SUB_BITS	4
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_BUCKETS	((64 - HIST_SUB_BITS + 1) * HIST_SUB)

static inline unsigned int hist_log2(unsigned long long v)
{
	unsigned int r = 0, s;

	s = (v > 0xffffffffULL) << 5; v >>= s; r |= s;
	s = (v > 0xffffULL) << 4; v >>= s; r |= s;
	s = (v > 0xffULL) << 3; v >>= s; r |= s;
	s = (v > 0xfULL) << 2; v >>= s; r |= s;
	s = (v > 0x3ULL) << 1; v >>= s; r |= s;
	return r | (unsigned int)(v >> 1);
}

static inline unsigned int hist_bucket_of(unsigned long long v)
{
	unsigned int e;

	if (v < HIST_SUB)
		return (unsigned int)v;
	e = hist_log2(v);	/* e >= HIST_SUB_BITS */
	return (e - HIST_SUB_BITS + 1) * HIST_SUB +
	       (unsigned int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

#endif /* VIOSCOPE__HIST_BUCKET_H */

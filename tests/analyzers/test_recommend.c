/* The recommender's decisions on stated costs. */
#include <criterion/criterion.h>
#include <string.h>

#include "analyzers/recommend.h"

static struct rec_mode mode(double tput, double ratio, double p99)
{
	return (struct rec_mode){ .measured = true, .throughput = tput, .native_ratio = ratio,
				  .p99_ns = p99 };
}

static struct rec_advice decide(struct rec_mode e, struct rec_mode v, struct rec_mode t)
{
	struct rec_mode m[REC_NR] = { [REC_EMUL] = e, [REC_PV] = v, [REC_PT] = t };
	struct rec_advice a;

	recommend__decide("disk", m, &rec_default_policy, &a);
	return a;
}

Test(recommend, pv_when_it_is_better_and_pt_is_unavailable)
{
	struct rec_mode none = { 0 };
	struct rec_advice a;

	strcpy(none.unavailable, "no IOMMU");
	a = decide(mode(1300, 0.16, 800e3), mode(1700, 0.21, 500e3), none);
	cr_assert_eq(a.mode, REC_PV);
	cr_assert_not_null(strstr(a.why, "0.21 of native"), "%s", a.why);
	cr_assert_not_null(strstr(a.why, "pass-through not measured: no IOMMU"), "%s", a.why);
}

/* PV far from native and pass-through twice as fast: pass-through. */
Test(recommend, pt_only_when_pv_is_far_behind_and_pt_helps)
{
	struct rec_advice a = decide(mode(1000, 0.1, 900e3), mode(1500, 0.15, 600e3),
				     mode(9000, 0.9, 100e3));

	cr_assert_eq(a.mode, REC_PT, "%s", a.why);
	cr_assert_not_null(strstr(a.why, "6.0x"), "%s", a.why);
	/* PV close to native: manageability wins, even though pt is faster. */
	a = decide(mode(1000, 0.5, 900e3), mode(8000, 0.8, 150e3), mode(9800, 0.98, 100e3));
	cr_assert_eq(a.mode, REC_PV, "%s", a.why);
	/* PV far behind but pt barely better: not worth it. */
	a = decide(mode(1000, 0.1, 900e3), mode(1500, 0.15, 600e3), mode(1800, 0.18, 500e3));
	cr_assert_eq(a.mode, REC_PV, "%s", a.why);
}

Test(recommend, emul_when_pv_is_not_clearly_better_or_missing)
{
	struct rec_mode none = { 0 };
	struct rec_advice a = decide(mode(1000, 0.3, 500e3), mode(1020, 0.31, 490e3), none);

	cr_assert_eq(a.mode, REC_EMUL, "%s", a.why);
	a = decide(mode(1000, 0.3, 500e3), none, none);
	cr_assert_eq(a.mode, REC_EMUL, "%s", a.why);
	a = decide(none, none, none);
	cr_assert_eq(a.mode, REC_NR, "%s", a.why);
}

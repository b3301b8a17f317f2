/* Mode advice (see recommend.h): a stated policy over measured costs. */
#include "analyzers/recommend.h"

#include <stdio.h>
#include <string.h>

const struct rec_policy rec_default_policy = {
	.pt_threshold = 0.5,
	.pt_gain = 1.5,
	.pv_margin = 1.05,
};

static const char *const names[REC_NR] = {
	[REC_EMUL] = "emul", [REC_PV] = "pv", [REC_PT] = "pt",
};

const char *recommend__mode_name(enum rec_mode_id m)
{
	return m < REC_NR ? names[m] : "none";
}

/* "0.21 of native throughput, p99 0.47 ms, 12.3 us CPU per I/O" (per
 * frame where the headline counts frames) */
static void costs(char *buf, size_t len, const struct rec_mode *m)
{
	const char *op = strstr(m->unit, "frame") ? "frame" : "I/O";
	size_t n = 0;

	if (m->native_ratio > 0)
		n += (size_t)snprintf(buf + n, len - n, "%.2f of native throughput", m->native_ratio);
	else
		n += (size_t)snprintf(buf + n, len - n, "%.1f %s", m->throughput,
				      m->unit[0] ? m->unit : "per second");
	if (m->p99_ns > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, ", p99 %.2f ms", m->p99_ns / 1e6);
	if (m->cpu_ns_per_io > 0 && n < len)
		snprintf(buf + n, len - n, ", %.1f us CPU per %s", m->cpu_ns_per_io / 1e3, op);
}

void recommend__decide(const char *class, const struct rec_mode m[REC_NR],
		       const struct rec_policy *p, struct rec_advice *out)
{
	const struct rec_mode *e = &m[REC_EMUL], *v = &m[REC_PV], *t = &m[REC_PT];
	char ce[160], cv[160], ct[160], pt_note[224];

	costs(ce, sizeof(ce), e);
	costs(cv, sizeof(cv), v);
	costs(ct, sizeof(ct), t);
	if (t->measured)
		snprintf(pt_note, sizeof(pt_note), "pass-through %s", ct);
	else
		snprintf(pt_note, sizeof(pt_note), "pass-through not measured%s%s",
			 t->unavailable[0] ? ": " : "", t->unavailable);

	if (!e->measured && !v->measured) {
		out->mode = t->measured ? REC_PT : REC_NR;
		snprintf(out->why, sizeof(out->why), "%s: %s; neither emulation nor paravirtualization "
			 "was measured, so there is no managed mode to advise.", class, pt_note);
		return;
	}
	/* Pass-through only when PV leaves the user far behind and it helps. */
	if (t->measured && v->measured && v->native_ratio > 0 &&
	    v->native_ratio < p->pt_threshold && t->throughput >= p->pt_gain * v->throughput) {
		out->mode = REC_PT;
		snprintf(out->why, sizeof(out->why), "%s: pt - paravirtualized it reaches only %s "
			 "(below %.2f of native), pass-through %s (%.1fx); worth losing live "
			 "migration, snapshots and device sharing for this device.", class, cv,
			 p->pt_threshold, ct, t->throughput / v->throughput);
		return;
	}
	if (v->measured && (!e->measured || v->throughput >= p->pv_margin * e->throughput)) {
		out->mode = REC_PV;
		snprintf(out->why, sizeof(out->why), "%s: pv - %s%s%s, and it keeps live migration, "
			 "snapshots and isolation; %s.", class, cv,
			 e->measured ? " against emulation's " : "", e->measured ? ce : "", pt_note);
		return;
	}
	out->mode = REC_EMUL;
	if (v->measured)
		snprintf(out->why, sizeof(out->why), "%s: emul - paravirtualization (%s) is not "
			 "%.0f%% better than emulation (%s), and every guest has a driver for the "
			 "emulated device; %s.", class, cv, (p->pv_margin - 1) * 100, ce, pt_note);
	else
		snprintf(out->why, sizeof(out->why), "%s: emul - the only managed mode measured "
			 "(%s); %s.", class, ce, pt_note);
}

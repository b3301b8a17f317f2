#ifndef VIOSCOPE__ANALYZERS_RECOMMEND_H
#define VIOSCOPE__ANALYZERS_RECOMMEND_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Mode advice for one device class from what each mode cost in one run.
 * The policy, a client hypervisor's trade-off:
 *  - Manageability first: emulation and paravirtualization stay inside
 *    the VMM (live migration, snapshots, isolation, device sharing);
 *    pass-through gives the device away, so it is the last resort.
 *  - Paravirtualization is preferred over emulation unless it is clearly
 *    not better (emulation's compatibility then wins: any guest has a
 *    driver for it).
 *  - Pass-through is advised only when the paravirtual mode leaves the
 *    user far from the hardware (below pt_threshold of native throughput)
 *    and pass-through measurably closes the gap (pt_gain times PV).
 */
enum rec_mode_id { REC_EMUL, REC_PV, REC_PT, REC_NR };

struct rec_mode {
	bool measured;
	char unavailable[160];	/* why not measured, if known */
	double throughput;	/* headline, higher is better (mean over workloads) */
	char unit[16];		/* its unit: "IO/s", "Mbit/s", "frames/s" */
	double native_ratio;	/* geometric mean of throughput / native per workload; 0: no native */
	double p99_ns;		/* mean over workloads; 0: none measured */
	double cpu_ns_per_io;	/* vCPU + backend, 0 when unknown */
};

struct rec_policy {
	double pt_threshold;	/* PV/native below which pass-through is considered (0.5) */
	double pt_gain;		/* how much better pass-through must be than PV (1.5) */
	double pv_margin;	/* PV must beat emulation by this factor (1.05) */
};

extern const struct rec_policy rec_default_policy;

struct rec_advice {
	enum rec_mode_id mode;	/* REC_NR: nothing measured */
	char why[1024];		/* one sentence with the numbers */
};

/* class: its name for the sentence ("disk"). */
void recommend__decide(const char *class, const struct rec_mode m[REC_NR],
		       const struct rec_policy *p, struct rec_advice *out);
const char *recommend__mode_name(enum rec_mode_id m);

#endif /* VIOSCOPE__ANALYZERS_RECOMMEND_H */

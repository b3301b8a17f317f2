#ifndef VIOSCOPE__METRICS_H
#define VIOSCOPE__METRICS_H

#include <stdint.h>

#include "analyzers/hist.h"
#include "lib/clock.h"	/* now_ns() */

/*
 * Named counters and latency aggregates of one device (or vCPU). Names carry
 * their unit ("_ns", "_bytes") or are plain event counts. Handles are taken
 * once at init; the hot path only does relaxed atomic adds.
 */
#define METRICS_MAX_COUNTERS	24
#define METRICS_MAX_LATENCIES	6

struct metric_counter {
	const char *name;
	uint64_t value;
};

struct metric_latency {
	const char *name;	/* must end in its unit, e.g. "_ns" */
	struct hist hist;
};

struct metrics {
	struct metric_counter counters[METRICS_MAX_COUNTERS];
	unsigned int nr_counters;
	struct metric_latency latencies[METRICS_MAX_LATENCIES];
	unsigned int nr_latencies;
};

struct cJSON;

void metrics__init(struct metrics *m);
/* Both return the existing entry for a known name; NULL when full. */
struct metric_counter *metrics__counter(struct metrics *m, const char *name);
struct metric_latency *metrics__latency(struct metrics *m, const char *name);
uint64_t metrics__value(const struct metrics *m, const char *name);
struct cJSON *metrics__to_json(const struct metrics *m);

static inline void counter__add(struct metric_counter *c, uint64_t v)
{
	__atomic_add_fetch(&c->value, v, __ATOMIC_RELAXED);
}

static inline void counter__inc(struct metric_counter *c)
{
	counter__add(c, 1);
}

static inline void latency__record(struct metric_latency *l, uint64_t ns)
{
	hist__record(&l->hist, ns);
}

#endif /* VIOSCOPE__METRICS_H */

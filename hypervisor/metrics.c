#include "hypervisor/metrics.h"

#include <cJSON.h>
#include <string.h>

void metrics__init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

struct metric_counter *metrics__counter(struct metrics *m, const char *name)
{
	unsigned int i;

	for (i = 0; i < m->nr_counters; i++)
		if (!strcmp(m->counters[i].name, name))
			return &m->counters[i];
	if (m->nr_counters == METRICS_MAX_COUNTERS)
		return NULL;
	m->counters[m->nr_counters].name = name;
	return &m->counters[m->nr_counters++];
}

struct metric_latency *metrics__latency(struct metrics *m, const char *name)
{
	unsigned int i;

	for (i = 0; i < m->nr_latencies; i++)
		if (!strcmp(m->latencies[i].name, name))
			return &m->latencies[i];
	if (m->nr_latencies == METRICS_MAX_LATENCIES)
		return NULL;
	m->latencies[m->nr_latencies].name = name;
	hist__init(&m->latencies[m->nr_latencies].hist);
	return &m->latencies[m->nr_latencies++];
}

uint64_t metrics__value(const struct metrics *m, const char *name)
{
	unsigned int i;

	for (i = 0; i < m->nr_counters; i++)
		if (!strcmp(m->counters[i].name, name))
			return __atomic_load_n(&m->counters[i].value, __ATOMIC_RELAXED);
	return 0;
}

cJSON *metrics__to_json(const struct metrics *m)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *counters = cJSON_AddObjectToObject(obj, "counters");
	cJSON *lats = cJSON_AddObjectToObject(obj, "latencies");
	unsigned int i;

	for (i = 0; i < m->nr_counters; i++)
		cJSON_AddNumberToObject(counters, m->counters[i].name,
					(double)m->counters[i].value);
	for (i = 0; i < m->nr_latencies; i++) {
		const struct hist *h = &m->latencies[i].hist;
		cJSON *l = cJSON_AddObjectToObject(lats, m->latencies[i].name);

		cJSON_AddNumberToObject(l, "count", (double)h->count);
		if (!h->count)
			continue;
		cJSON_AddNumberToObject(l, "mean", hist__mean(h));
		cJSON_AddNumberToObject(l, "min", (double)h->min);
		cJSON_AddNumberToObject(l, "p50", (double)hist__quantile(h, 0.50));
		cJSON_AddNumberToObject(l, "p99", (double)hist__quantile(h, 0.99));
		cJSON_AddNumberToObject(l, "max", (double)h->max);
	}
	return obj;
}

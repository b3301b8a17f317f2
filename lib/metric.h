#ifndef VIOSCOPE__LIB_METRIC_H
#define VIOSCOPE__LIB_METRIC_H

struct cJSON;

/* Appends {"name", "unit", "direction", "value"} to a metrics array: the
 * shape every result record uses (docs/ARCHITECTURE.md). direction is
 * "higher_is_better" or "lower_is_better". */
void metric__add(struct cJSON *arr, const char *name, const char *unit, const char *direction,
		 double value);

#endif /* VIOSCOPE__LIB_METRIC_H */

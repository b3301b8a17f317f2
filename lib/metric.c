#include "lib/metric.h"

#include <cJSON.h>

void metric__add(cJSON *arr, const char *name, const char *unit, const char *direction,
		 double value)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "name", name);
	cJSON_AddStringToObject(m, "unit", unit);
	cJSON_AddStringToObject(m, "direction", direction);
	cJSON_AddNumberToObject(m, "value", value);
	cJSON_AddItemToArray(arr, m);
}

/* Small cJSON helpers shared by the readers of results (see json.h). */
#include "lib/json.h"

#include <cJSON.h>

double json__num(const cJSON *o, double absent, const char *k1, const char *k2, const char *k3)
{
	const char *keys[3] = { k1, k2, k3 };
	unsigned int i;

	for (i = 0; i < 3 && keys[i] && o; i++)
		o = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
	return cJSON_IsNumber(o) ? o->valuedouble : absent;
}

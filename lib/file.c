#include "lib/file.h"

#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *file__read_text(const char *path)
{
	return file__read(path, NULL);
}

char *file__read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	size_t len = 0, cap = 0, n;
	char *buf = NULL, *grown;

	if (!f)
		return NULL;
	do {
		if (cap - len < 65536) {
			cap = cap ? cap * 2 : 131072;
			grown = realloc(buf, cap);
			if (!grown) {
				free(buf);
				fclose(f);
				errno = ENOMEM;
				return NULL;
			}
			buf = grown;
		}
		n = fread(buf + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	fclose(f);
	buf[len] = 0;
	if (size)
		*size = len;
	return buf;
}

cJSON *file__json_line(const char *path, const char *type)
{
	char *text = path ? file__read_text(path) : NULL, *p;
	cJSON *found = NULL;

	for (p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
		cJSON *t = *p == '{' ? cJSON_Parse(p) : NULL;

		if (t && !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "type")) ?: "", type)) {
			cJSON_Delete(found);
			found = t;
		} else {
			cJSON_Delete(t);
		}
	}
	free(text);
	return found;
}

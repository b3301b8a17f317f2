/* Suite files (see suite.h): strict parsing, one clear error per problem. */
#include "lib/suite.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/file.h"

const char *const suite_classes[] = { "disk", "net", "usb", "gfx", NULL };

static int known_class(const char *c)
{
	int i;

	for (i = 0; suite_classes[i]; i++)
		if (!strcmp(c, suite_classes[i]))
			return 1;
	return 0;
}

static int good_name(const char *n)
{
	if (!*n)
		return 0;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= '0' && *n <= '9') || strchr("._-", *n)))
			return 0;
	return 1;
}

/* KEY=VALUE words only, each key once. */
static int good_params(const char *p, char *bad, size_t len)
{
	char copy[SUITE_PARAMS_MAX], *save, *w, *keys[32];
	int n = 0, i;

	snprintf(copy, sizeof(copy), "%s", p);
	for (w = strtok_r(copy, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
		char *eq = strchr(w, '=');

		if (!eq || eq == w || !eq[1] || n == 32) {
			snprintf(bad, len, "'%s' is not KEY=VALUE", w);
			return 0;
		}
		*eq = 0;
		for (i = 0; i < n; i++)
			if (!strcmp(keys[i], w)) {
				snprintf(bad, len, "'%s' given twice", w);
				return 0;
			}
		keys[n++] = w;
	}
	return 1;
}

/* "option iterations=N min-iterations=N cv=PCT" */
static int parse_option(struct suite *s, const char *text, char *bad, size_t len)
{
	char copy[256], *save, *w, *end;

	snprintf(copy, sizeof(copy), "%s", text);
	for (w = strtok_r(copy, " \t\r", &save); w; w = strtok_r(NULL, " \t\r", &save)) {
		char *eq = strchr(w, '=');
		double v;

		if (!eq) {
			snprintf(bad, len, "option: '%s' is not KEY=VALUE", w);
			return -1;
		}
		*eq = 0;
		v = strtod(eq + 1, &end);
		if (*end || v <= 0 || v > 1000) {
			snprintf(bad, len, "option %s: '%s' is not a number from 1 to 1000", w, eq + 1);
			return -1;
		}
		if (!strcmp(w, "iterations") && v == (int)v)
			s->iterations = (int)v;
		else if (!strcmp(w, "min-iterations") && v == (int)v)
			s->min_iterations = (int)v;
		else if (!strcmp(w, "cv") && v <= 100)
			s->cv = v;
		else {
			snprintf(bad, len, "option: unknown or bad '%s' (iterations, min-iterations, cv)", w);
			return -1;
		}
	}
	return 0;
}

int suite__parse(struct suite *s, const char *text, const char *origin, char *why,
		 size_t why_len)
{
	const char *p = text;
	int lineno = 0;

	s->lines = NULL;
	s->nr = 0;
	s->iterations = s->min_iterations = 0;
	s->cv = 0;
	while (*p) {
		char line[512], cls[16], name[64], bad[96];
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		struct suite_line *l;
		char *hash, *rest;
		int used = 0;
		size_t i;

		lineno++;
		if (len >= sizeof(line)) {
			snprintf(why, why_len, "%s:%d: line too long", origin, lineno);
			goto fail;
		}
		memcpy(line, p, len);
		line[len] = 0;
		p += len + (end ? 1 : 0);
		hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		if (sscanf(line, " %15s %63s %n", cls, name, &used) < 1)
			continue;	/* blank */
		if (!strcmp(cls, "option")) {
			if (parse_option(s, line + strspn(line, " \t") + 6, bad, sizeof(bad))) {
				snprintf(why, why_len, "%s:%d: %s", origin, lineno, bad);
				goto fail;
			}
			continue;
		}
		if (!used) {
			snprintf(why, why_len, "%s:%d: expected CLASS NAME KEY=VALUE...", origin, lineno);
			goto fail;
		}
		if (!known_class(cls)) {
			snprintf(why, why_len, "%s:%d: unknown class '%s' (disk, net, usb, gfx)", origin,
				 lineno, cls);
			goto fail;
		}
		if (!good_name(name) || strlen(name) >= SUITE_NAME_MAX) {
			snprintf(why, why_len, "%s:%d: bad workload name '%s' (a-z 0-9 . _ -)", origin,
				 lineno, name);
			goto fail;
		}
		rest = line + used;
		rest[strcspn(rest, "\r")] = 0;
		while (*rest && strchr(" \t", rest[strlen(rest) - 1]))
			rest[strlen(rest) - 1] = 0;
		if (strlen(rest) >= SUITE_PARAMS_MAX || !good_params(rest, bad, sizeof(bad))) {
			snprintf(why, why_len, "%s:%d: %s", origin, lineno,
				 strlen(rest) >= SUITE_PARAMS_MAX ? "parameters too long" : bad);
			goto fail;
		}
		for (i = 0; i < s->nr; i++)
			if (!strcmp(s->lines[i].class, cls) && !strcmp(s->lines[i].name, name)) {
				snprintf(why, why_len, "%s:%d: %s %s is already line %d", origin, lineno,
					 cls, name, s->lines[i].lineno);
				goto fail;
			}
		l = realloc(s->lines, (s->nr + 1) * sizeof(*l));
		if (!l) {
			snprintf(why, why_len, "out of memory");
			goto fail;
		}
		s->lines = l;
		l = &s->lines[s->nr++];
		memset(l, 0, sizeof(*l));
		snprintf(l->class, sizeof(l->class), "%.7s", cls);	/* a known class */
		snprintf(l->name, sizeof(l->name), "%s", name);
		snprintf(l->params, sizeof(l->params), "%s", rest);
		l->lineno = lineno;
	}
	if (!s->nr) {
		snprintf(why, why_len, "%s: no workloads", origin);
		goto fail;
	}
	return 0;
fail:
	free(s->lines);
	s->lines = NULL;
	s->nr = 0;
	return -1;
}

int suite__load(struct suite *s, const char *name, char *why, size_t why_len)
{
	const char *base;
	char *text;
	int ret;

	memset(s, 0, sizeof(*s));
	if (strchr(name, '/'))
		snprintf(s->path, sizeof(s->path), "%s", name);
	else
		snprintf(s->path, sizeof(s->path), "workloads/%s", name);
	base = strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path;
	snprintf(s->name, sizeof(s->name), "%.63s", base);
	text = file__read_text(s->path);
	if (!text) {
		snprintf(why, why_len, "suite '%s': cannot read %s: %s", name, s->path, strerror(errno));
		return -1;
	}
	ret = suite__parse(s, text, s->path, why, why_len);
	free(text);
	return ret;
}

void suite__free(struct suite *s)
{
	free(s->lines);
	s->lines = NULL;
	s->nr = 0;
}

const char *suite__param(const char *params, const char *key, char *buf, size_t len)
{
	size_t k = strlen(key);
	const char *p = params;

	while ((p = strstr(p, key))) {
		if ((p == params || p[-1] == ' ' || p[-1] == '\t') && p[k] == '=') {
			size_t n = strcspn(p + k + 1, " \t");

			snprintf(buf, len, "%.*s", (int)n, p + k + 1);
			return buf;
		}
		p += k;
	}
	return NULL;
}

#include "lib/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int log_level = LOG_INFO;
const char *log_prog = "vioscope";

static const char *const level_names[] = {
	[LOG_ERR] = "error", [LOG_WARN] = "warning",
	[LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

static __attribute__((format(printf, 2, 0))) void log__vprint(int level, const char *fmt,
							     va_list ap)
{
	char line[1024];

	vsnprintf(line, sizeof(line), fmt, ap);
	/* One fprintf per line so lines from vCPU threads do not interleave. */
	fprintf(stderr, "%s: %s: %s\n", log_prog, level_names[level], line);
}

void log__print(int level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	log__vprint(level, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log__vprint(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void die_perror(const char *what)
{
	die("%s: %s", what, strerror(errno));
}

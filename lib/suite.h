#ifndef VIOSCOPE__LIB_SUITE_H
#define VIOSCOPE__LIB_SUITE_H

#include <stddef.h>

/*
 * A suite (workloads/NAME): one workload a line, run by `vioscope run` in
 * every mode asked for. "#" starts a comment.
 *   CLASS NAME KEY=VALUE...
 *   disk randread-4k-qd1 rw=randread bs=4096 iodepth=1 ios=2000
 * CLASS is disk, net, usb or gfx; NAME is unique in the suite
 * ([a-z0-9._-]); the parameters belong to the class's workload.
 * One line may set the run's defaults (command-line options win):
 *   option iterations=N min-iterations=N cv=PCT
 */
#define SUITE_NAME_MAX	48
#define SUITE_PARAMS_MAX 256

struct suite_line {
	char class[8];
	char name[SUITE_NAME_MAX];
	char params[SUITE_PARAMS_MAX];
	int lineno;
};

struct suite {
	char name[64];
	char path[256];
	struct suite_line *lines;
	size_t nr;
	int iterations, min_iterations;	/* 0: not set */
	double cv;			/* percent; 0: not set */
};

extern const char *const suite_classes[];	/* NULL-terminated */

/* Parses text (origin names it in errors: "FILE:LINE: ..."). 0 or -1. */
int suite__parse(struct suite *s, const char *text, const char *origin, char *why,
		 size_t why_len);
/* name: a file in workloads/ or a path. 0 or -1 with one line in why. */
int suite__load(struct suite *s, const char *name, char *why, size_t why_len);
void suite__free(struct suite *s);
/* The value of key in params ("bs=4096 ..."), or NULL. */
const char *suite__param(const char *params, const char *key, char *buf, size_t len);

#endif /* VIOSCOPE__LIB_SUITE_H */

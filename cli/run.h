#ifndef VIOSCOPE__CLI_RUN_H
#define VIOSCOPE__CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/suite.h"

struct cJSON;

/* What one iteration of a cell measured. */
#define RUN_MAX_METRICS 24

struct run_metric {
	char name[40];
	char unit[16];
	bool higher_is_better;
	double value;
};

struct run_result {
	struct run_metric m[RUN_MAX_METRICS];
	int nm;
	uint64_t *samples;	/* per-I/O latency, ns (malloc'd), or NULL */
	size_t nsamples;
	struct cJSON *stages;	/* vioscope trace --stages line, or NULL */
};

void run_result__add(struct run_result *r, const char *name, const char *unit,
		     bool higher_is_better, double value);
void run_result__free(struct run_result *r);

/* Where a cell's files go, and how to run things. */
struct run_ctx {
	const char *workdir;	/* images, logs, JSON of the last iteration */
	const char *bindir;	/* vioscope-vmm and vioscope */
	bool trace;		/* run the VMM under vioscope trace --stages */
	const char *hypervisor;	/* "vioscope-vmm" or "qemu" */
	/* qemu: the Linux guest (scripts/build-guest-image) and the accelerator;
	 * guest_error says why there is no guest. */
	char guest_dir[256];
	char guest_error[256];
	const char *accel;
};

/*
 * A device class's runner: which modes it can run here and how one
 * iteration goes. One file per class (run_disk.c, ...).
 */
struct class_runner {
	const char *class;
	const char *headline;		/* the metric iterations converge on */
	/* NULL when mode can run here, else why not (in buf or static). */
	const char *(*unavailable)(const struct run_ctx *ctx, const char *mode, char *buf,
				   size_t len);
	/* 0, or -1 with one line in why (the cell fails). */
	int (*run)(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len);
};

extern const struct class_runner run_disk;

/* Runs argv (argv[0] a path) with stdout and stderr to log; its exit
 * status, or -1 when it cannot start or dies of a signal. */
int run__command(char *const argv[], const char *log);

#endif /* VIOSCOPE__CLI_RUN_H */

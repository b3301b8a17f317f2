#ifndef VIOSCOPE__COLLECTORS_REQS_H
#define VIOSCOPE__COLLECTORS_REQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probes/reqs.h"

/*
 * The request collector: loads probes/reqs.bpf.c, attaches its USDT
 * programs to one vioscope-vmm process and the io_uring completion
 * tracepoint, and hands every event to a callback (in the caller's thread,
 * from req_collector__poll). Events arrive per CPU buffer, so not in time
 * order across CPUs: analyzers/stages.c sorts them out.
 */
struct req_collector;

typedef void (*req_event_fn)(void *ctx, const struct req_event *e);

struct req_collector_opts {
	pid_t pid;
	const char *binary;	/* the process's executable, with the req_* probes */
	bool perf_buffer;	/* use the perf buffer even where a ring buffer works */
};

/* 0, or -errno with one line in why. */
int req_collector__open(struct req_collector **out, const struct req_collector_opts *o,
			req_event_fn fn, void *ctx, char *why, size_t why_len);
/* Delivers everything buffered so far; returns the number of events. */
int req_collector__poll(struct req_collector *c);
/* "ring buffer" or "perf buffer". */
const char *req_collector__transport(const struct req_collector *c);
/* The kernel events of a backend I/O followed (io_uring CQE, block
 * request issue and completion), each with why not where it is not. */
const char *req_collector__kernel_events(const struct req_collector *c);
void req_collector__counters(const struct req_collector *c, uint64_t *events, uint64_t *drops);
/* The programs' own run time so far (kernel BPF statistics); 0 when the
 * kernel keeps none. Uprobe traps themselves are not in it. */
void req_collector__cost(const struct req_collector *c, uint64_t *runs, uint64_t *ns);
/* The VMM's name for device dev (from its first pickup), or "". */
void req_collector__dev_name(const struct req_collector *c, unsigned int dev, char *buf,
			     size_t len);
void req_collector__close(struct req_collector *c);

#endif /* VIOSCOPE__COLLECTORS_REQS_H */

#ifndef VIOSCOPE__COLLECTORS_PERF_EVENT_H
#define VIOSCOPE__COLLECTORS_PERF_EVENT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * perf_event_open counters on one thread: task clock and context switches
 * (software, always there) and cycles and instructions where the PMU is
 * virtualised (often not in a VM: then those stay closed and say why).
 * A thread opens its own (pid 0); any thread may read them.
 */
enum perf_counter_id {
	PERF_TASK_CLOCK,	/* ns on a CPU (for a vCPU thread: guest time too) */
	PERF_CTX_SWITCHES,
	PERF_CYCLES,
	PERF_INSTRUCTIONS,
	PERF_NR
};

struct perf_counters {
	int fd[PERF_NR];
	int err[PERF_NR];	/* errno of a counter that could not be opened */
};

/* All closed (fd -1): for structs set up before their thread opens them. */
void perf_counters__init(struct perf_counters *pc);
void perf_counters__open_self(struct perf_counters *pc);
/* Adds each open counter's value to sum[]; returns a mask of those read. */
unsigned int perf_counters__add(const struct perf_counters *pc, uint64_t sum[PERF_NR]);
void perf_counters__close(struct perf_counters *pc);
/* "task_clock_ns", "context_switches", "cycles", "instructions". */
const char *perf_counter__name(int id);

#endif /* VIOSCOPE__COLLECTORS_PERF_EVENT_H */

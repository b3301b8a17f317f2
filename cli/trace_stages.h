#ifndef VIOSCOPE__CLI_TRACE_STAGES_H
#define VIOSCOPE__CLI_TRACE_STAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* vioscope trace --stages: the request collector feeding the stage
 * analyzer, and its report (a table, or one JSON line of type "stages"). */
struct trace_stages;

int trace_stages__open(struct trace_stages **out, pid_t pid, const char *binary,
		       bool perf_buffer, char *why, size_t why_len);
void trace_stages__poll(struct trace_stages *t);
/* Drains the buffer and prints the breakdown; 0 or -ENOMEM. */
int trace_stages__report(struct trace_stages *t, FILE *out, bool json);
void trace_stages__close(struct trace_stages *t);

#endif /* VIOSCOPE__CLI_TRACE_STAGES_H */

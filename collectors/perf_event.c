#include "collectors/perf_event.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static const struct {
	uint32_t type;
	uint64_t config;
	const char *name;
} counters[PERF_NR] = {
	[PERF_TASK_CLOCK] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_TASK_CLOCK, "task_clock_ns" },
	[PERF_CTX_SWITCHES] = { PERF_TYPE_SOFTWARE, PERF_COUNT_SW_CONTEXT_SWITCHES,
				"context_switches" },
	[PERF_CYCLES] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES, "cycles" },
	[PERF_INSTRUCTIONS] = { PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS, "instructions" },
};

void perf_counters__init(struct perf_counters *pc)
{
	int i;

	for (i = 0; i < PERF_NR; i++) {
		pc->fd[i] = -1;
		pc->err[i] = ENODEV;
	}
}

void perf_counters__open_self(struct perf_counters *pc)
{
	int i;

	for (i = 0; i < PERF_NR; i++) {
		struct perf_event_attr attr = {
			.type = counters[i].type,
			.size = sizeof(attr),
			.config = counters[i].config,
			.exclude_hv = 1,
		};
		int fd = (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);

		pc->err[i] = fd < 0 ? errno : 0;
		__atomic_store_n(&pc->fd[i], fd, __ATOMIC_RELEASE);
	}
}

unsigned int perf_counters__add(const struct perf_counters *pc, uint64_t sum[PERF_NR])
{
	unsigned int mask = 0;
	int i;

	for (i = 0; i < PERF_NR; i++) {
		int fd = __atomic_load_n(&pc->fd[i], __ATOMIC_ACQUIRE);
		uint64_t v;

		if (fd >= 0 && read(fd, &v, sizeof(v)) == sizeof(v)) {
			sum[i] += v;
			mask |= 1u << i;
		}
	}
	return mask;
}

void perf_counters__close(struct perf_counters *pc)
{
	int i;

	for (i = 0; i < PERF_NR; i++)
		if (pc->fd[i] >= 0)
			close(pc->fd[i]);
	perf_counters__init(pc);
}

const char *perf_counter__name(int id)
{
	return id >= 0 && id < PERF_NR ? counters[id].name : "?";
}

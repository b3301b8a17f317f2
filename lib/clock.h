#ifndef VIOSCOPE__LIB_CLOCK_H
#define VIOSCOPE__LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns: the clock of the VMM's latencies and of the
 * collectors (bpf_ktime_get_ns and the tracefs "mono" clock agree). */
static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

#endif /* VIOSCOPE__LIB_CLOCK_H */

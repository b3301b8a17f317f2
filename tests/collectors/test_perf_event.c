#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collectors/perf_event.h"

/* Software counters always work; hardware ones either count or say why. */
Test(perf_event, counts_this_thread_or_says_why)
{
	struct perf_counters pc;
	uint64_t a[PERF_NR] = { 0 }, b[PERF_NR] = { 0 };
	unsigned int have;
	volatile unsigned long spin = 0;
	int i;

	perf_counters__init(&pc);
	cr_assert_eq(perf_counters__add(&pc, a), 0, "nothing open yet");
	perf_counters__open_self(&pc);
	have = perf_counters__add(&pc, a);
	if (!(have & (1u << PERF_TASK_CLOCK))) {
		fprintf(stderr, "SKIP: perf_event_open not allowed here: %s\n",
			strerror(pc.err[PERF_TASK_CLOCK]));
		cr_skip_test("perf_event_open not allowed: %s", strerror(pc.err[PERF_TASK_CLOCK]));
	}
	for (i = 0; i < 3; i++) {
		while (spin < 3000000UL * (unsigned long)(i + 1))
			spin++;
		usleep(2000);	/* a context switch each time */
	}
	cr_assert_eq(perf_counters__add(&pc, b), have);
	cr_assert_gt(b[PERF_TASK_CLOCK], a[PERF_TASK_CLOCK] + 1000000, "a few ms of CPU");
	cr_assert_geq(b[PERF_CTX_SWITCHES], a[PERF_CTX_SWITCHES] + 3);
	for (i = PERF_CYCLES; i < PERF_NR; i++) {
		if (have & (1u << i))
			cr_assert_gt(b[i], a[i], "%s", perf_counter__name(i));
		else
			cr_assert_neq(pc.err[i], 0, "%s: closed without a reason", perf_counter__name(i));
	}
	perf_counters__close(&pc);
	cr_assert_eq(pc.fd[PERF_TASK_CLOCK], -1);
	cr_assert_str_eq(perf_counter__name(PERF_CTX_SWITCHES), "context_switches");
}

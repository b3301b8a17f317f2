#ifndef VIOSCOPE__EVLOOP_H
#define VIOSCOPE__EVLOOP_H

#include <stdint.h>

#include "collectors/perf_event.h"

/*
 * The I/O event loop: one thread in epoll_wait that runs device backend
 * callbacks (ioeventfd doorbells, backend completions, console input), so
 * vCPU threads never block on backend work.
 */
struct evloop;

typedef void (*evloop_cb_t)(void *opaque, int fd, uint32_t events);

struct evloop *evloop__new(void);
int evloop__start(struct evloop *ev);
/* Stops and joins the thread; callbacks are not called after it returns. */
void evloop__stop(struct evloop *ev);
void evloop__free(struct evloop *ev);
/*
 * Waits until every callback already due has run (a barrier through the
 * loop itself), so counters a callback bumps after publishing work to the
 * guest are settled.  0, or -ETIMEDOUT after 2 s; no-op on the loop thread.
 */
int evloop__quiesce(struct evloop *ev);
int evloop__add(struct evloop *ev, int fd, uint32_t events, evloop_cb_t cb, void *opaque);
int evloop__del(struct evloop *ev, int fd);
uint64_t evloop__wakeups(const struct evloop *ev);
/* CPU time the event-loop thread has used (ns), 0 when not running. */
uint64_t evloop__cpu_ns(const struct evloop *ev);
/* Adds the loop thread's perf counters to sum; a mask of those read. */
unsigned int evloop__perf(const struct evloop *ev, uint64_t sum[PERF_NR]);

#endif /* VIOSCOPE__EVLOOP_H */

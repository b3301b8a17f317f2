#include "hypervisor/evloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sdt.h>
#include <time.h>
#include <unistd.h>

#include "collectors/perf_event.h"
#include "lib/log.h"

#define EVLOOP_MAX_HANDLERS	64

struct evloop_handler {
	int fd;
	evloop_cb_t cb;
	void *opaque;
};

struct evloop {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	struct evloop_handler handlers[EVLOOP_MAX_HANDLERS];
	uint64_t wakeups;
	/* evloop__quiesce(): a generation bumped by the loop thread itself */
	int barrier_fd;
	uint64_t barrier_gen;
	pthread_mutex_t barrier_lock;
	pthread_cond_t barrier_cond;
	struct perf_counters perf;	/* the loop thread's, opened by it */
};

/* epoll data for the two internal eventfds (handlers point into the array) */
#define EVLOOP_STOP	NULL
#define EVLOOP_BARRIER(ev)	((void *)&(ev)->barrier_fd)
#define EVLOOP_QUIESCE_TIMEOUT_S	2

struct evloop *evloop__new(void)
{
	struct evloop *ev = calloc(1, sizeof(*ev));
	struct epoll_event stop = { .events = EPOLLIN, .data.ptr = EVLOOP_STOP };
	struct epoll_event barrier = { .events = EPOLLIN };

	if (!ev)
		return NULL;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_mutex_init(&ev->barrier_lock, NULL);
	pthread_cond_init(&ev->barrier_cond, NULL);
	perf_counters__init(&ev->perf);
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->stop_fd = eventfd(0, EFD_CLOEXEC);
	ev->barrier_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	barrier.data.ptr = EVLOOP_BARRIER(ev);
	if (ev->epfd < 0 || ev->stop_fd < 0 || ev->barrier_fd < 0 ||
	    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->stop_fd, &stop) < 0 ||
	    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->barrier_fd, &barrier) < 0) {
		evloop__free(ev);
		return NULL;
	}
	return ev;
}

void evloop__free(struct evloop *ev)
{
	if (!ev)
		return;
	if (ev->epfd >= 0)
		close(ev->epfd);
	if (ev->stop_fd >= 0)
		close(ev->stop_fd);
	if (ev->barrier_fd >= 0)
		close(ev->barrier_fd);
	perf_counters__close(&ev->perf);
	pthread_cond_destroy(&ev->barrier_cond);
	pthread_mutex_destroy(&ev->barrier_lock);
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

/*
 * Every callback fetched before the barrier's eventfd was written has
 * returned by now: the loop is single-threaded.  The read drains all the
 * writes made under barrier_lock, so each waiter's target is reached.
 */
static void barrier_reached(struct evloop *ev)
{
	eventfd_t v;

	pthread_mutex_lock(&ev->barrier_lock);
	if (eventfd_read(ev->barrier_fd, &v) == 0)
		ev->barrier_gen++;
	pthread_cond_broadcast(&ev->barrier_cond);
	pthread_mutex_unlock(&ev->barrier_lock);
}

static void *evloop__thread(void *arg)
{
	struct evloop *ev = arg;
	struct epoll_event events[16];

	perf_counters__open_self(&ev->perf);
	for (;;) {
		int i, n = epoll_wait(ev->epfd, events, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_err("evloop: epoll_wait: %s", strerror(errno));
			break;
		}
		ev->wakeups++;
		for (i = 0; i < n; i++) {
			struct evloop_handler *h = events[i].data.ptr;

			if (h == EVLOOP_STOP)
				return NULL;
			if ((void *)h == EVLOOP_BARRIER(ev)) {
				barrier_reached(ev);
				continue;
			}
			DTRACE_PROBE1(vioscope, evloop_wake, h->fd);
			h->cb(h->opaque, h->fd, events[i].events);
		}
	}
	return NULL;
}

int evloop__start(struct evloop *ev)
{
	int ret = pthread_create(&ev->thread, NULL, evloop__thread, ev);

	if (ret)
		return -ret;
	ev->running = true;
	return 0;
}

void evloop__stop(struct evloop *ev)
{
	if (!ev || !ev->running)
		return;
	eventfd_write(ev->stop_fd, 1);
	pthread_join(ev->thread, NULL);
	ev->running = false;
}

int evloop__quiesce(struct evloop *ev)
{
	struct timespec deadline;
	uint64_t target;
	int ret = 0;

	if (!ev || !ev->running || pthread_equal(pthread_self(), ev->thread))
		return 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += EVLOOP_QUIESCE_TIMEOUT_S;
	pthread_mutex_lock(&ev->barrier_lock);
	target = ev->barrier_gen + 1;
	if (eventfd_write(ev->barrier_fd, 1) < 0)
		ret = -errno;
	while (!ret && ev->barrier_gen < target)
		ret = -pthread_cond_timedwait(&ev->barrier_cond, &ev->barrier_lock, &deadline);
	pthread_mutex_unlock(&ev->barrier_lock);
	return ret;
}

int evloop__add(struct evloop *ev, int fd, uint32_t events, evloop_cb_t cb, void *opaque)
{
	struct epoll_event e = { .events = events };
	int i, ret = -ENOSPC;

	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < EVLOOP_MAX_HANDLERS; i++) {
		struct evloop_handler *h = &ev->handlers[i];

		if (h->cb)
			continue;
		*h = (struct evloop_handler){ .fd = fd, .cb = cb, .opaque = opaque };
		e.data.ptr = h;
		ret = 0;
		if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, fd, &e) < 0) {
			ret = -errno;
			memset(h, 0, sizeof(*h));
		}
		break;
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

int evloop__del(struct evloop *ev, int fd)
{
	int i, ret = -ENOENT;

	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < EVLOOP_MAX_HANDLERS; i++) {
		if (!ev->handlers[i].cb || ev->handlers[i].fd != fd)
			continue;
		epoll_ctl(ev->epfd, EPOLL_CTL_DEL, fd, NULL);
		memset(&ev->handlers[i], 0, sizeof(ev->handlers[i]));
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&ev->lock);
	return ret;
}

uint64_t evloop__cpu_ns(const struct evloop *ev)
{
	struct timespec ts;
	clockid_t clk;

	if (!ev->running || pthread_getcpuclockid(ev->thread, &clk) || clock_gettime(clk, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

unsigned int evloop__perf(const struct evloop *ev, uint64_t sum[PERF_NR])
{
	return perf_counters__add(&ev->perf, sum);
}

uint64_t evloop__wakeups(const struct evloop *ev)
{
	return ev->wakeups;
}

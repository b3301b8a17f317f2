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
};

struct evloop *evloop__new(void)
{
	struct evloop *ev = calloc(1, sizeof(*ev));
	struct epoll_event e = { .events = EPOLLIN };

	if (!ev)
		return NULL;
	pthread_mutex_init(&ev->lock, NULL);
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->stop_fd = eventfd(0, EFD_CLOEXEC);
	e.data.ptr = NULL;	/* NULL marks the stop eventfd */
	if (ev->epfd < 0 || ev->stop_fd < 0 ||
	    epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->stop_fd, &e) < 0) {
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
	pthread_mutex_destroy(&ev->lock);
	free(ev);
}

static void *evloop__thread(void *arg)
{
	struct evloop *ev = arg;
	struct epoll_event events[16];

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

			if (!h)
				return NULL;
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

uint64_t evloop__wakeups(const struct evloop *ev)
{
	return ev->wakeups;
}

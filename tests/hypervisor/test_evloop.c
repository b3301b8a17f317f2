#include <criterion/criterion.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor/evloop.h"

/* A slow backend callback: publishes first, counts last, as a device does
 * when it writes the used ring and then sends (and counts) the MSI. */
static volatile int published, counted;

static void slow_cb(void *opaque, int fd, uint32_t events)
{
	eventfd_t v;

	(void)opaque;
	(void)events;
	eventfd_read(fd, &v);
	published = 1;
	usleep(200 * 1000);
	counted = 1;
}

Test(evloop, quiesce_waits_for_a_callback_in_flight)
{
	struct evloop *ev = evloop__new();
	int fd = eventfd(0, EFD_CLOEXEC);

	cr_assert_not_null(ev);
	cr_assert_eq(evloop__quiesce(ev), 0, "no thread yet: nothing to wait for");
	cr_assert_eq(evloop__add(ev, fd, EPOLLIN, slow_cb, NULL), 0);
	cr_assert_eq(evloop__start(ev), 0);
	eventfd_write(fd, 1);
	while (!published)
		usleep(1000);
	cr_assert_eq(evloop__quiesce(ev), 0);
	cr_assert_eq(counted, 1, "quiesce returned before the callback finished");
	/* Idle loop: the barrier alone goes through, again and again. */
	for (int i = 0; i < 100; i++)
		cr_assert_eq(evloop__quiesce(ev), 0);
	evloop__stop(ev);
	evloop__free(ev);
	close(fd);
}

#include "hypervisor/devices/disk-args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "hypervisor/backends/blk.h"
#include "hypervisor/evloop.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "hypervisor/guest/abi.h"

int64_t disk__host_verify(struct blk_backend *b, uint32_t bs, uint64_t blocks)
{
	uint8_t *buf = bs ? malloc(bs) : NULL;
	int64_t bad = 0;
	uint64_t blk;
	uint32_t i;

	if (!buf)
		return -ENOMEM;
	for (blk = 0; blk < blocks; blk++) {
		if (pread(b->fd, buf, bs, (off_t)(blk * bs)) != (ssize_t)bs) {
			bad++;
			continue;
		}
		for (i = 0; i < bs; i++)
			if (buf[i] != vio_pattern(blk, i)) {
				bad++;
				break;
			}
	}
	free(buf);
	return bad;
}

/* io_uring completions arrive on an eventfd the event loop watches. */
static void disk__completions(void *opaque, int fd, uint32_t events)
{
	struct blk_backend *b = opaque;

	(void)fd;
	(void)events;
	b->ops->complete(b);
}

struct blk_backend *disk__open(struct kvm *kvm, const char *mode, const char *args,
			       unsigned int depth)
{
	struct blk_backend *b;
	struct disk_args da;
	int efd;

	if (disk_args__parse(args, &da)) {
		pr_err("--disk %s:%s: expected PATH[,size=N][,engine=uring|sync][,direct]"
		       "[,delay=US]", mode, args ? args : "");
		return NULL;
	}
	b = blk__open(da.path, da.size, da.direct, da.engine[0] ? da.engine : NULL, depth);
	if (!b)
		return NULL;
	b->delay_ns = da.delay_us * 1000;
	efd = b->ops->event_fd(b);
	if (efd >= 0 && evloop__add(kvm->evloop, efd, EPOLLIN, disk__completions, b)) {
		pr_err("--disk %s:%s: cannot watch its completions", mode, da.path);
		blk__close(b);
		return NULL;
	}
	pr_debug("disk %s: %llu MiB, %s engine%s", da.path, (unsigned long long)(b->size >> 20),
		 b->ops->name, da.direct ? ", O_DIRECT" : "");
	return b;
}

void disk__close(struct kvm *kvm, struct blk_backend *b)
{
	int efd;

	if (!b)
		return;
	efd = b->ops->event_fd(b);
	if (efd >= 0 && kvm->evloop)
		evloop__del(kvm->evloop, efd);
	blk__close(b);
}

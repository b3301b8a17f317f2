/* The synchronous engine: the request runs in the caller's thread. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "hypervisor/backends/blk.h"

static int sync__init(struct blk_backend *b, unsigned int depth)
{
	(void)b;
	(void)depth;
	return 0;
}

static int sync__submit(struct blk_backend *b, struct blk_req *req)
{
	ssize_t n;

	switch (req->op) {
	case BLK_READ:
		n = preadv(b->fd, req->iov, req->iovcnt, (off_t)req->offset);
		break;
	case BLK_WRITE:
		n = pwritev(b->fd, req->iov, req->iovcnt, (off_t)req->offset);
		break;
	case BLK_DISCARD:
	case BLK_WRITE_ZEROES:
	case BLK_ZERO_UNMAP:
		n = fallocate(b->fd, blk__fallocate_mode(req->op), (off_t)req->offset, (off_t)req->len);
		break;
	default:
		n = fdatasync(b->fd);
		break;
	}
	if (n < 0) {
		b->errors++;
		n = -errno;
	}
	blk__delay(b);
	req->done(req, (int)n);
	return 0;
}

static int sync__event_fd(struct blk_backend *b)
{
	(void)b;
	return -1;
}

static void sync__nothing(struct blk_backend *b)
{
	(void)b;
}

const struct blk_engine_ops blk_sync_ops = {
	.name = "sync",
	.init = sync__init,
	.submit = sync__submit,
	.event_fd = sync__event_fd,
	.complete = sync__nothing,
	.exit = sync__nothing,
};

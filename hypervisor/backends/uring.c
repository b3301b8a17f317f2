/*
 * The io_uring engine (liburing): requests are queued and submitted at
 * once; completions raise an eventfd that the VMM's event loop watches.
 * liburing's rings have one producer and one consumer; here requests come
 * from vCPU threads (AHCI) or the event loop (virtio-blk) and completions
 * are reaped by the event loop, or by a submitter whose queue is full:
 * one lock guards the ring, and done() runs outside it (it may submit).
 */
#include <errno.h>
#include <liburing.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "hypervisor/backends/blk.h"

struct uring {
	struct io_uring ring;
	int efd;
	pthread_mutex_t lock;
};

static int uring__init(struct blk_backend *b, unsigned int depth)
{
	struct uring *u = calloc(1, sizeof(*u));
	int ret;

	if (!u)
		return -ENOMEM;
	ret = io_uring_queue_init(depth ? depth : 64, &u->ring, 0);
	if (ret < 0) {
		free(u);
		return ret;
	}
	u->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (u->efd < 0 || io_uring_register_eventfd(&u->ring, u->efd) < 0) {
		if (u->efd >= 0)
			close(u->efd);
		io_uring_queue_exit(&u->ring);
		free(u);
		return -EIO;
	}
	pthread_mutex_init(&u->lock, NULL);
	b->priv = u;
	return 0;
}

static int uring__submit(struct blk_backend *b, struct blk_req *req)
{
	struct uring *u = b->priv;
	struct io_uring_sqe *sqe;
	int ret;

	pthread_mutex_lock(&u->lock);
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		/* Queue full: make room by reaping, then try once more. */
		pthread_mutex_unlock(&u->lock);
		b->ops->complete(b);
		pthread_mutex_lock(&u->lock);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe) {
			pthread_mutex_unlock(&u->lock);
			return -EBUSY;
		}
	}
	switch (req->op) {
	case BLK_READ:
		io_uring_prep_readv(sqe, b->fd, req->iov, (unsigned int)req->iovcnt, req->offset);
		break;
	case BLK_WRITE:
		io_uring_prep_writev(sqe, b->fd, req->iov, (unsigned int)req->iovcnt, req->offset);
		break;
	case BLK_DISCARD:
	case BLK_WRITE_ZEROES:
	case BLK_ZERO_UNMAP:
		io_uring_prep_fallocate(sqe, b->fd, blk__fallocate_mode(req->op), req->offset,
					(off_t)req->len);
		break;
	default:
		io_uring_prep_fsync(sqe, b->fd, IORING_FSYNC_DATASYNC);
		break;
	}
	io_uring_sqe_set_data(sqe, req);
	ret = io_uring_submit(&u->ring);
	pthread_mutex_unlock(&u->lock);
	return ret < 0 ? ret : 0;
}

static int uring__event_fd(struct blk_backend *b)
{
	return ((struct uring *)b->priv)->efd;
}

static void uring__complete(struct blk_backend *b)
{
	struct uring *u = b->priv;
	struct io_uring_cqe *cqe;
	eventfd_t ignored;

	eventfd_read(u->efd, &ignored);
	for (;;) {
		struct blk_req *req;
		int res;

		pthread_mutex_lock(&u->lock);
		if (io_uring_peek_cqe(&u->ring, &cqe)) {
			pthread_mutex_unlock(&u->lock);
			break;
		}
		req = io_uring_cqe_get_data(cqe);
		res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		if (res < 0)
			b->errors++;
		pthread_mutex_unlock(&u->lock);
		blk__delay(b);
		req->done(req, res);
	}
}

static void uring__exit(struct blk_backend *b)
{
	struct uring *u = b->priv;

	if (!u)
		return;
	close(u->efd);
	io_uring_queue_exit(&u->ring);
	pthread_mutex_destroy(&u->lock);
	free(u);
}

const struct blk_engine_ops blk_uring_ops = {
	.name = "uring",
	.init = uring__init,
	.submit = uring__submit,
	.event_fd = uring__event_fd,
	.complete = uring__complete,
	.exit = uring__exit,
};

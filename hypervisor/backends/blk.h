#ifndef VIOSCOPE__BLK_H
#define VIOSCOPE__BLK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

/*
 * Block backends: one raw image file behind every disk model, so that
 * comparing AHCI with virtio-blk measures the device path and nothing else.
 * An engine is an ops table: io_uring (liburing, asynchronous, completions
 * signalled on an eventfd) or sync (preadv/pwritev in the caller).
 */
/*
 * DISCARD deallocates the range (fallocate PUNCH_HOLE: reads return zeros
 * afterwards on a raw file); WRITE_ZEROES zeroes it and keeps it allocated
 * (ZERO_RANGE), or deallocates it too when unmap is allowed.
 */
enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH, BLK_DISCARD, BLK_WRITE_ZEROES, BLK_ZERO_UNMAP };

struct blk_req;
typedef void (*blk_done_t)(struct blk_req *req, int result);	/* bytes or -errno */

struct blk_req {
	enum blk_op op;
	uint64_t offset;		/* bytes */
	const struct iovec *iov;	/* READ, WRITE */
	int iovcnt;
	uint64_t len;			/* DISCARD, WRITE_ZEROES: bytes */
	blk_done_t done;
	void *opaque;
};

struct blk_backend;

struct blk_engine_ops {
	const char *name;
	int (*init)(struct blk_backend *b, unsigned int depth);
	/* Starts a request; done() runs now (sync) or from complete(). */
	int (*submit)(struct blk_backend *b, struct blk_req *req);
	/* Fd that becomes readable when completions wait, or -1. */
	int (*event_fd)(struct blk_backend *b);
	/* Calls done() for every finished request. */
	void (*complete)(struct blk_backend *b);
	void (*exit)(struct blk_backend *b);
};

struct blk_backend {
	const struct blk_engine_ops *ops;
	int fd;
	uint64_t size;			/* bytes */
	bool direct;			/* O_DIRECT */
	char path[256];
	void *priv;
	uint64_t errors;		/* requests refused (range) or failed */
	uint64_t delay_ns;		/* held before each completion (delay=US) */
};

extern const struct blk_engine_ops blk_sync_ops;
extern const struct blk_engine_ops blk_uring_ops;

/*
 * Opens (creating at `create_size` bytes when missing and create_size > 0)
 * a raw image. engine: "uring", "sync" or NULL for io_uring with a fallback
 * to sync when the kernel refuses it. Errors are reported.
 */
struct blk_backend *blk__open(const char *path, uint64_t create_size, bool direct,
			      const char *engine, unsigned int depth);
void blk__close(struct blk_backend *b);
/* Checks the range against the image (guest-chosen sectors!) and submits. */
int blk__submit(struct blk_backend *b, struct blk_req *req);
/* Holds a completion for b->delay_ns: a slower backend on purpose, to check
 * that a regression is caught (--disk ...,delay=US). */
void blk__delay(const struct blk_backend *b);
/* fallocate(2) mode of DISCARD / WRITE_ZEROES / ZERO_UNMAP (size kept). */
int blk__fallocate_mode(enum blk_op op);

/* What --disk MODE:SPEC says after the mode, for every disk model:
 * "PATH[,size=N[KMG]][,engine=uring|sync][,direct]". */
struct disk_args {
	char path[256];
	uint64_t size;		/* create at this size when missing (default 64 MiB) */
	char engine[16];	/* "" = io_uring with fallback */
	bool direct;
	uint64_t delay_us;	/* hold every completion (testing regressions) */
};

int disk_args__parse(const char *args, struct disk_args *out);

#endif /* VIOSCOPE__BLK_H */

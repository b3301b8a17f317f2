#include "hypervisor/backends/blk.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/log.h"

static uint64_t iov_bytes(const struct iovec *iov, int n)
{
	uint64_t total = 0;
	int i;

	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	return total;
}

int blk__submit(struct blk_backend *b, struct blk_req *req)
{
	uint64_t len = req->op == BLK_READ || req->op == BLK_WRITE ?
		       iov_bytes(req->iov, req->iovcnt) : req->len;

	if (req->op != BLK_FLUSH && (req->offset > b->size || len > b->size - req->offset)) {
		b->errors++;
		return -EINVAL;
	}
	return b->ops->submit(b, req);
}

int blk__fallocate_mode(enum blk_op op)
{
	if (op == BLK_WRITE_ZEROES)
		return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;	/* both deallocate */
}

struct blk_backend *blk__open(const char *path, uint64_t create_size, bool direct,
			      const char *engine, unsigned int depth)
{
	struct blk_backend *b = calloc(1, sizeof(*b));
	int flags = O_RDWR | O_CLOEXEC | (direct ? O_DIRECT : 0);
	struct stat st;

	if (!b)
		return NULL;
	snprintf(b->path, sizeof(b->path), "%s", path);
	b->direct = direct;
	b->fd = open(path, flags);
	if (b->fd < 0 && errno == ENOENT && create_size) {
		b->fd = open(path, flags | O_CREAT | O_EXCL, 0644);
		if (b->fd >= 0 && ftruncate(b->fd, (off_t)create_size) < 0) {
			pr_err("disk %s: cannot size it to %llu bytes: %s", path,
			       (unsigned long long)create_size, strerror(errno));
			goto err;
		}
	}
	if (b->fd < 0) {
		pr_err("disk %s: %s", path, strerror(errno));
		goto err;
	}
	if (fstat(b->fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 512) {
		pr_err("disk %s: not a raw image of at least 512 bytes", path);
		goto err;
	}
	b->size = (uint64_t)st.st_size & ~511ULL;	/* whole sectors only */

	if (!engine || !strcmp(engine, "uring")) {
		b->ops = &blk_uring_ops;
		if (b->ops->init(b, depth) == 0)
			return b;
		if (engine) {
			pr_err("disk %s: io_uring is not available here", path);
			goto err;
		}
		pr_info("disk %s: io_uring unavailable, using synchronous I/O", path);
	} else if (strcmp(engine, "sync")) {
		pr_err("disk %s: unknown engine '%s' (uring or sync)", path, engine);
		goto err;
	}
	b->ops = &blk_sync_ops;
	if (b->ops->init(b, depth) == 0)
		return b;
err:
	if (b->fd >= 0)
		close(b->fd);
	free(b);
	return NULL;
}

void blk__close(struct blk_backend *b)
{
	if (!b)
		return;
	b->ops->exit(b);
	close(b->fd);
	free(b);
}

void blk__delay(const struct blk_backend *b)
{
	struct timespec ts = { (time_t)(b->delay_ns / 1000000000ULL),
			       (long)(b->delay_ns % 1000000000ULL) };

	if (b->delay_ns)
		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
}

int disk_args__parse(const char *args, struct disk_args *out)
{
	char buf[512], *tok, *save;

	memset(out, 0, sizeof(*out));
	out->size = 64ULL << 20;
	if (!args || !*args || strlen(args) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", args);
	tok = strtok_r(buf, ",", &save);
	if (!tok || strlen(tok) >= sizeof(out->path))
		return -EINVAL;
	snprintf(out->path, sizeof(out->path), "%s", tok);
	while ((tok = strtok_r(NULL, ",", &save))) {
		char *end;

		if (!strncmp(tok, "size=", 5)) {
			out->size = strtoull(tok + 5, &end, 10);
			if (*end == 'G' || *end == 'g')
				out->size <<= 30, end++;
			else if (*end == 'M' || *end == 'm')
				out->size <<= 20, end++;
			else if (*end == 'K' || *end == 'k')
				out->size <<= 10, end++;
			if (*end || !out->size)
				return -EINVAL;
		} else if (!strncmp(tok, "engine=", 7) && strlen(tok + 7) < sizeof(out->engine)) {
			snprintf(out->engine, sizeof(out->engine), "%s", tok + 7);
		} else if (!strcmp(tok, "direct")) {
			out->direct = true;
		} else if (!strncmp(tok, "delay=", 6)) {
			out->delay_us = strtoull(tok + 6, &end, 10);
			if (*end || !out->delay_us || out->delay_us > 1000000)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

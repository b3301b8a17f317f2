#ifndef VIOSCOPE__DISK_ARGS_H
#define VIOSCOPE__DISK_ARGS_H

#include <stdbool.h>
#include <stdint.h>

struct blk_backend;
struct kvm;

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
/*
 * What every disk model does first: parse "PATH[,...]" (mode names the
 * --disk prefix in the error line), open the image with that queue depth,
 * and let the event loop reap the backend's completions. NULL on error,
 * already reported.
 */
struct blk_backend *disk__open(struct kvm *kvm, const char *mode, const char *args,
			       unsigned int depth);
/* The reverse of disk__open; NULL is fine. */
void disk__close(struct kvm *kvm, struct blk_backend *b);
/* Blocks 0..n-1 of the image that do not hold vio_pattern(), or -errno. */
int64_t disk__host_verify(struct blk_backend *b, uint32_t block_size, uint64_t blocks);

#endif /* VIOSCOPE__DISK_ARGS_H */

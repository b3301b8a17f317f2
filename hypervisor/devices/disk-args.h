#ifndef VIOSCOPE__DISK_ARGS_H
#define VIOSCOPE__DISK_ARGS_H

#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/backends/blk.h"

struct kvm;

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

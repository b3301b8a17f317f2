#ifndef VIOSCOPE__VIRTIO_GPU_H
#define VIOSCOPE__VIRTIO_GPU_H

#include <linux/virtio_gpu.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "hypervisor/display.h"
#include "hypervisor/metrics.h"
#include "hypervisor/virtio-pci.h"

#define VGPU_MAX_RESOURCES	1024
#define VGPU_MAX_BACKING	16384		/* entries of one ATTACH_BACKING, as QEMU */
#define VGPU_MAX_HOSTMEM	(256ull << 20)	/* 2D resource pixels in all */
#define VGPU_MAX_DIM		16384
#define VGPU_CURSOR		64		/* cursor images are 64x64 */
#define VGPU_MAX_CONTEXTS	64

/* A resource: 2D ones keep their pixels here, 3D ones live in virglrenderer. */
struct vgpu_res {
	uint32_t id;
	uint32_t format, width, height;
	bool is_3d;
	uint64_t hostmem;		/* bytes counted against VGPU_MAX_HOSTMEM */
	uint8_t *pixels;		/* 2D: width * height * 4 bytes */
	struct iovec *backing;		/* guest pages, checked to be RAM */
	unsigned int nr_backing;
	uint64_t backing_bytes;
};

/* One control-queue command as the handlers see it. */
struct vgpu_cmd {
	const struct virtio_gpu_ctrl_hdr *hdr;
	const void *req;		/* the fixed part, copied out of the chain */
	const struct virtq_req *chain;	/* for what follows it (entries, a 3D stream) */
	uint32_t req_size;		/* bytes of the fixed part */
	uint8_t *resp;			/* the response after its header */
	uint32_t resp_len;		/* bytes of it the handler wrote */
};

/* A job for the renderer's thread (virtio-gpu-virgl.c). */
struct vgpu_job {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void (*fn)(void *);
	void *arg;
	bool running, stop;
};

struct vgpu;
typedef uint32_t (*vgpu_handler_t)(struct vgpu *g, struct vgpu_cmd *c);

struct vgpu_op {
	uint32_t type;			/* VIRTIO_GPU_CMD_* */
	uint32_t size;			/* its request struct */
	vgpu_handler_t fn;		/* returns VIRTIO_GPU_RESP_* */
};

struct vgpu {
	struct virtio_pci vp;
	struct device *dev;
	struct kvm *kvm;
	pthread_mutex_t lock;		/* resources, scanout, display */
	struct vgpu_res *res[VGPU_MAX_RESOURCES];
	uint64_t hostmem;
	struct {
		uint32_t resource_id;
		struct virtio_gpu_rect r;
	} scanout;
	struct {
		uint32_t resource_id, x, y, hot_x, hot_y;
		uint32_t image[VGPU_CURSOR * VGPU_CURSOR];
	} cursor;
	struct display disp;
	uint8_t edid[128];
	uint32_t mode_w, mode_h;	/* the one mode offered */
	char capture[256];
	bool virgl;			/* VIRTIO_GPU_F_VIRGL offered */
	int virgl_state;		/* 0 not tried, 1 up, -errno failed */
	struct vgpu_job job;		/* the renderer's thread */
	uint32_t virgl_ctx[VGPU_MAX_CONTEXTS];	/* the guest's 3D contexts */
	uint32_t fence_seq, fence_done;	/* our fences, and the last passed */
	uint8_t *resp;			/* one response */
	struct metric_counter *commands, *frames, *transfer_bytes, *cursor_updates;
	struct metric_counter *bad_resources, *bad_parameters, *bad_scanouts, *bad_backing;
	struct metric_counter *unknown_commands, *short_commands, *no_memory, *virgl_errors;
	struct metric_latency *command_ns, *flush_ns;
};

#define VGPU_RESP_MAX	(64u << 10)	/* largest response after the header */

struct vgpu_res *vgpu__res(struct vgpu *g, uint32_t id);
/* Adds r to the table: VIRTIO_GPU_RESP_OK_NODATA or an error. */
uint32_t vgpu__res_add(struct vgpu *g, struct vgpu_res *r);

/* r, resource pixels of `format` in the shadow, made XRGB8888 there. */
void vgpu__to_xrgb(struct vgpu *g, const struct virtio_gpu_rect *r, uint32_t format);
/* Counts bytes of a new resource against VGPU_MAX_HOSTMEM: false if over. */
bool vgpu__hostmem_take(struct vgpu *g, uint64_t bytes);

/* virtio-gpu-virgl.c: the 3D commands, on virglrenderer. */
extern const struct vgpu_op vgpu_virgl_ops[];
extern const unsigned int vgpu_nr_virgl_ops;
/* The scanout's 3D resource, rectangle r, read back into the shadow
 * (as it is: vgpu__to_xrgb follows): 0 or -errno. */
int vgpu_virgl__read(struct vgpu *g, struct vgpu_res *res, const struct virtio_gpu_rect *r);
void vgpu_virgl__unref(struct vgpu *g, struct vgpu_res *res);
/* The device was reset: the guest's contexts go. */
void vgpu_virgl__reset(struct vgpu *g);
uint32_t vgpu_virgl__attach(struct vgpu *g, struct vgpu_res *res);
void vgpu_virgl__detach(struct vgpu *g, struct vgpu_res *res);
/* Starts the renderer's thread when virgl is on: 0 or -errno. */
int vgpu_virgl__init(struct vgpu *g);
/* fn(arg) on the renderer's thread, waiting for it (inline without virgl):
 * everything that may call virglrenderer runs through here. */
void vgpu_virgl__run(struct vgpu *g, void (*fn)(void *), void *arg);
/* A fenced 3D command: waits until the renderer passed it. */
void vgpu_virgl__fence(struct vgpu *g, uint32_t ctx_id);
void vgpu_virgl__exit(struct vgpu *g);

#endif /* VIOSCOPE__VIRTIO_GPU_H */

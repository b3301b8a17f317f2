/*
 * virtio-gpu's 3D commands (VIRTIO_GPU_F_VIRGL, virtio 1.2 section
 * 5.7.6.8): contexts, 3D resources, transfers and SUBMIT_3D command
 * streams, run by virglrenderer as QEMU's virtio-gpu-gl does. Here it
 * renders with EGL on a surfaceless platform (Mesa's llvmpipe when there
 * is no GPU), so nothing needs a window or a DRM device.
 *
 * A GL context is current on one thread at a time, so virglrenderer has a
 * thread of its own (as QEMU runs it on its main loop): it starts the
 * renderer on its first job and runs every command, the resets and the
 * cleanup, handed over by vgpu_virgl__run while the caller waits.
 * The guest's streams are parsed by virglrenderer's decoder, which checks
 * them; what we bound is what we pass it: sizes, ids, the backing.
 * A scanout on a 3D resource is read back at each RESOURCE_FLUSH (the
 * copy a display without GL pays).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <virgl/virglrenderer.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/virtio-gpu.h"
#include "lib/log.h"

/* Declared only in the public header; its layout is virgl_hw.h's, the
 * same as struct virtio_gpu_box. */
struct virgl_box {
	uint32_t x, y, z;
	uint32_t w, h, d;
};

#define MAX_SUBMIT	(4u << 20)	/* one SUBMIT_3D stream */
#define FENCE_WAIT_NS	5000000000ull
#define PIPE_BUFFER	0
#define PIPE_MAX_TEXTURE_TYPES	9

static void write_fence(void *cookie, uint32_t fence)
{
	struct vgpu *g = cookie;

	g->fence_done = fence;
}

static struct virgl_renderer_callbacks callbacks = {
	.version = 1,
	.write_fence = write_fence,
};

/* On the renderer's thread: virglrenderer up, its context current here. */
static void start(struct vgpu *g)
{
	int ret;

	if (g->virgl_state)
		return;
	ret = virgl_renderer_init(g, VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS,
				  &callbacks);
	g->virgl_state = ret ? -abs(ret) : 1;
	if (ret)
		pr_err("%s: virglrenderer (EGL, surfaceless) did not start: %s; 3D commands fail",
		       g->dev->name, strerror(abs(ret)));
}

static void *renderer_thread(void *arg)
{
	struct vgpu *g = arg;
	struct vgpu_job *j = &g->job;

	pthread_mutex_lock(&j->lock);
	for (;;) {
		while (!j->fn && !j->stop)
			pthread_cond_wait(&j->cond, &j->lock);
		if (j->fn) {
			start(g);
			j->fn(j->arg);
			j->fn = NULL;
			pthread_cond_broadcast(&j->cond);
			continue;
		}
		if (g->virgl_state > 0)
			virgl_renderer_cleanup(g);
		g->virgl_state = 0;
		break;
	}
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

void vgpu_virgl__run(struct vgpu *g, void (*fn)(void *), void *arg)
{
	struct vgpu_job *j = &g->job;

	if (!g->virgl || !j->running) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&j->lock);
	while (j->fn)			/* callers hold g->lock: one at a time anyway */
		pthread_cond_wait(&j->cond, &j->lock);
	j->fn = fn;
	j->arg = arg;
	pthread_cond_broadcast(&j->cond);
	while (j->fn)
		pthread_cond_wait(&j->cond, &j->lock);
	pthread_mutex_unlock(&j->lock);
}

int vgpu_virgl__init(struct vgpu *g)
{
	struct vgpu_job *j = &g->job;
	int ret;

	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	if (!g->virgl)
		return 0;
	ret = pthread_create(&j->thread, NULL, renderer_thread, g);
	if (ret)
		return -ret;
	j->running = true;
	return 0;
}

/* The renderer is up: 0, or an error response. */
static uint32_t ready(struct vgpu *g)
{
	if (g->virgl_state <= 0) {
		counter__inc(g->virgl_errors);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return 0;
}

static int ctx_slot(const struct vgpu *g, uint32_t ctx_id)
{
	int i;

	for (i = 0; ctx_id && i < VGPU_MAX_CONTEXTS; i++)
		if (g->virgl_ctx[i] == ctx_id)
			return i;
	return -1;
}

static uint32_t bad_context(struct vgpu *g)
{
	counter__inc(g->bad_parameters);
	return VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID;
}

static uint32_t virgl_error(struct vgpu *g, uint32_t resp)
{
	counter__inc(g->virgl_errors);
	return resp;
}

static uint32_t ctx_create(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_ctx_create *req = c->req;
	char name[65];
	int slot;

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!c->hdr->ctx_id || ctx_slot(g, c->hdr->ctx_id) >= 0 || req->nlen > 64)
		return bad_context(g);
	for (slot = 0; slot < VGPU_MAX_CONTEXTS && g->virgl_ctx[slot]; slot++)
		;
	if (slot == VGPU_MAX_CONTEXTS) {
		counter__inc(g->no_memory);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	memcpy(name, req->debug_name, req->nlen);
	name[req->nlen] = 0;
	if (virgl_renderer_context_create(c->hdr->ctx_id, req->nlen, name))
		return virgl_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC);
	g->virgl_ctx[slot] = c->hdr->ctx_id;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t ctx_destroy(struct vgpu *g, struct vgpu_cmd *c)
{
	int slot = ctx_slot(g, c->hdr->ctx_id);

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (slot < 0)
		return bad_context(g);
	virgl_renderer_context_destroy(c->hdr->ctx_id);
	g->virgl_ctx[slot] = 0;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t ctx_resource(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_ctx_resource *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (ctx_slot(g, c->hdr->ctx_id) < 0)
		return bad_context(g);
	if (!r || !r->is_3d) {
		counter__inc(g->bad_resources);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (c->hdr->type == VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE)
		virgl_renderer_ctx_attach_resource((int)c->hdr->ctx_id, (int)r->id);
	else
		virgl_renderer_ctx_detach_resource((int)c->hdr->ctx_id, (int)r->id);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t resource_create_3d(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_resource_create_3d *req = c->req;
	struct virgl_renderer_resource_create_args a = {
		.handle = req->resource_id, .target = req->target, .format = req->format,
		.bind = req->bind, .width = req->width, .height = req->height,
		.depth = req->depth, .array_size = req->array_size,
		.last_level = req->last_level, .nr_samples = req->nr_samples, .flags = req->flags,
	};
	uint64_t bytes;
	struct vgpu_res *r;
	uint32_t ret;

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (req->target >= PIPE_MAX_TEXTURE_TYPES || !req->width || !req->height ||
	    req->width > (req->target == PIPE_BUFFER ? 1u << 28 : VGPU_MAX_DIM) ||
	    req->height > VGPU_MAX_DIM || req->depth > 2048 || req->array_size > 2048 ||
	    req->last_level > 15 || req->nr_samples > 16) {
		counter__inc(g->bad_parameters);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* What the renderer may allocate for it, at most 16 bytes a texel. */
	bytes = (uint64_t)req->width * req->height * (req->depth ? req->depth : 1) *
		(req->array_size ? req->array_size : 1) * (req->target == PIPE_BUFFER ? 1 : 16);
	if (!vgpu__hostmem_take(g, bytes))
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (!r) {
		g->hostmem -= bytes;
		counter__inc(g->no_memory);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	*r = (struct vgpu_res){ .id = req->resource_id, .format = req->format,
				.width = req->width, .height = req->height, .is_3d = true,
				.hostmem = bytes };
	ret = vgpu__res_add(g, r);
	if (ret == VIRTIO_GPU_RESP_OK_NODATA && virgl_renderer_resource_create(&a, NULL, 0)) {
		unsigned int i;

		for (i = 0; i < VGPU_MAX_RESOURCES; i++)
			if (g->res[i] == r)
				g->res[i] = NULL;
		ret = virgl_error(g, VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	}
	if (ret != VIRTIO_GPU_RESP_OK_NODATA) {
		g->hostmem -= bytes;
		free(r);
	}
	return ret;
}

static uint32_t transfer_3d(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_transfer_host_3d *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);
	struct virgl_box box = { req->box.x, req->box.y, req->box.z,
				 req->box.w, req->box.h, req->box.d };
	int ret;

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (!r || !r->is_3d) {
		counter__inc(g->bad_resources);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	if (c->hdr->ctx_id && ctx_slot(g, c->hdr->ctx_id) < 0)
		return bad_context(g);
	if (!r->backing) {
		counter__inc(g->bad_parameters);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	/* virglrenderer checks the box and the offset against the backing. */
	if (c->hdr->type == VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D)
		ret = virgl_renderer_transfer_write_iov(r->id, c->hdr->ctx_id, (int)req->level,
							req->stride, req->layer_stride, &box,
							req->offset, NULL, 0);
	else
		ret = virgl_renderer_transfer_read_iov(r->id, c->hdr->ctx_id, req->level,
						       req->stride, req->layer_stride, &box,
						       req->offset, NULL, 0);
	if (ret) {
		counter__inc(g->bad_parameters);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	counter__add(g->transfer_bytes, (uint64_t)req->box.w * req->box.h * 4);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t submit_3d(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_cmd_submit *req = c->req;
	void *buf;
	int ret;

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (ctx_slot(g, c->hdr->ctx_id) < 0)
		return bad_context(g);
	if (!req->size || req->size > MAX_SUBMIT || req->size % 4) {
		counter__inc(g->bad_parameters);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	buf = malloc(req->size);
	if (!buf) {
		counter__inc(g->no_memory);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	if (!virtq__iov_copy(c->chain->iov, c->chain->nr_out, c->req_size, buf, req->size, false)) {
		free(buf);
		counter__inc(g->short_commands);	/* shorter than it says */
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	ret = virgl_renderer_submit_cmd(buf, (int)c->hdr->ctx_id, (int)(req->size / 4));
	free(buf);
	return ret ? virgl_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC) : VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t get_capset_info(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_get_capset_info *req = c->req;
	struct virtio_gpu_resp_capset_info *info = (void *)(c->resp - sizeof(info->hdr));
	uint32_t ver = 0, size = 0;

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (req->capset_index > 1) {		/* two: VIRGL, VIRGL2 */
		counter__inc(g->bad_parameters);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	virgl_renderer_get_cap_set(req->capset_index + 1, &ver, &size);
	memset(&info->capset_id, 0, sizeof(*info) - sizeof(info->hdr));
	info->capset_id = req->capset_index + 1;
	info->capset_max_version = ver;
	info->capset_max_size = size;
	c->resp_len = sizeof(*info) - sizeof(info->hdr);
	return VIRTIO_GPU_RESP_OK_CAPSET_INFO;
}

static uint32_t get_capset(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_get_capset *req = c->req;
	uint32_t ver = 0, size = 0;

	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (req->capset_id == VIRTIO_GPU_CAPSET_VIRGL || req->capset_id == VIRTIO_GPU_CAPSET_VIRGL2)
		virgl_renderer_get_cap_set(req->capset_id, &ver, &size);
	if (!size || size > VGPU_RESP_MAX || req->capset_version > ver) {
		counter__inc(g->bad_parameters);
		return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
	}
	memset(c->resp, 0, size);
	virgl_renderer_fill_caps(req->capset_id, req->capset_version, c->resp);
	c->resp_len = size;
	return VIRTIO_GPU_RESP_OK_CAPSET;
}

const struct vgpu_op vgpu_virgl_ops[] = {
	{ VIRTIO_GPU_CMD_GET_CAPSET_INFO, sizeof(struct virtio_gpu_get_capset_info),
	  get_capset_info },
	{ VIRTIO_GPU_CMD_GET_CAPSET, sizeof(struct virtio_gpu_get_capset), get_capset },
	{ VIRTIO_GPU_CMD_CTX_CREATE, sizeof(struct virtio_gpu_ctx_create), ctx_create },
	{ VIRTIO_GPU_CMD_CTX_DESTROY, sizeof(struct virtio_gpu_ctx_destroy), ctx_destroy },
	{ VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, sizeof(struct virtio_gpu_ctx_resource), ctx_resource },
	{ VIRTIO_GPU_CMD_CTX_DETACH_RESOURCE, sizeof(struct virtio_gpu_ctx_resource), ctx_resource },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, sizeof(struct virtio_gpu_resource_create_3d),
	  resource_create_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_3D, sizeof(struct virtio_gpu_transfer_host_3d),
	  transfer_3d },
	{ VIRTIO_GPU_CMD_TRANSFER_FROM_HOST_3D, sizeof(struct virtio_gpu_transfer_host_3d),
	  transfer_3d },
	{ VIRTIO_GPU_CMD_SUBMIT_3D, sizeof(struct virtio_gpu_cmd_submit), submit_3d },
};
const unsigned int vgpu_nr_virgl_ops = sizeof(vgpu_virgl_ops) / sizeof(vgpu_virgl_ops[0]);

uint32_t vgpu_virgl__attach(struct vgpu *g, struct vgpu_res *r)
{
	if (ready(g))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (virgl_renderer_resource_attach_iov((int)r->id, r->backing, (int)r->nr_backing))
		return virgl_error(g, VIRTIO_GPU_RESP_ERR_UNSPEC);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vgpu_virgl__detach(struct vgpu *g, struct vgpu_res *r)
{
	if (!ready(g))
		virgl_renderer_resource_detach_iov((int)r->id, NULL, NULL);
}

void vgpu_virgl__reset(struct vgpu *g)
{
	unsigned int i;

	for (i = 0; i < VGPU_MAX_CONTEXTS; i++)
		if (g->virgl_ctx[i] && g->virgl_state > 0)
			virgl_renderer_context_destroy(g->virgl_ctx[i]);
	memset(g->virgl_ctx, 0, sizeof(g->virgl_ctx));
}

void vgpu_virgl__unref(struct vgpu *g, struct vgpu_res *r)
{
	if (g->virgl_state <= 0)
		return;
	if (r->backing)
		virgl_renderer_resource_detach_iov((int)r->id, NULL, NULL);
	virgl_renderer_resource_unref(r->id);
}

int vgpu_virgl__read(struct vgpu *g, struct vgpu_res *r, const struct virtio_gpu_rect *f)
{
	const struct virtio_gpu_rect *s = &g->scanout.r;
	struct virgl_box box = { f->x, f->y, 0, f->width, f->height, 1 };
	struct iovec iov = { g->disp.shadow, g->disp.shadow_size };
	uint64_t off = (f->y - s->y) * g->disp.pitch + (f->x - s->x) * 4;

	if (ready(g))
		return -EIO;
	return -virgl_renderer_transfer_read_iov(r->id, 0, 0, (uint32_t)g->disp.pitch, 0, &box, off,
						 &iov, 1);
}

void vgpu_virgl__fence(struct vgpu *g, uint32_t ctx_id)
{
	struct timespec nap = { 0, 20000 };
	uint64_t waited = 0;
	uint32_t id;

	if (g->virgl_state <= 0)
		return;
	id = ++g->fence_seq;
	if (virgl_renderer_create_fence((int)id, ctx_id)) {
		counter__inc(g->virgl_errors);
		return;
	}
	for (;;) {
		virgl_renderer_poll();
		if ((int32_t)(g->fence_done - id) >= 0)
			return;
		if (waited > FENCE_WAIT_NS) {	/* answered anyway; counted */
			counter__inc(g->virgl_errors);
			return;
		}
		nanosleep(&nap, NULL);
		waited += 20000;
	}
}

void vgpu_virgl__exit(struct vgpu *g)
{
	struct vgpu_job *j = &g->job;

	if (!j->running)
		return;
	pthread_mutex_lock(&j->lock);
	j->stop = true;
	pthread_cond_broadcast(&j->cond);
	pthread_mutex_unlock(&j->lock);
	pthread_join(j->thread, NULL);
	j->running = false;
}

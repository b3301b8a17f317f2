/*
 * virtio-gpu (virtio 1.2, section 5.7) on virtio-pci, PCI 1af4:1050: the
 * paravirtual display of the comparison, for Linux's virtio_gpu DRM
 * driver and the probe guest. 2D: the guest keeps its pixels in its own
 * pages (ATTACH_BACKING), copies the changed rectangle to the host's
 * resource (TRANSFER_TO_HOST_2D) and says what to show (RESOURCE_FLUSH):
 * no dirty tracking, a few commands per frame, each a ring kick
 * (ioeventfd) and an MSI-X completion. One scanout offering one mode
 * (GET_DISPLAY_INFO, GET_EDID), so every display mode renders at the
 * same resolution. The cursor queue keeps the 64x64 cursor image and its
 * position. With `virgl`, VIRTIO_GPU_F_VIRGL: the 3D commands go to
 * virglrenderer (virtio-gpu-virgl.c).
 *
 * Untrusted guest: unknown or short commands, bad resource or scanout
 * ids, backing outside guest RAM, transfers and flushes beyond a resource,
 * more than VGPU_MAX_HOSTMEM of resources get an error response
 * (VIRTIO_GPU_RESP_ERR_*) and a counter; nothing is sized from a guest
 * value without a bound.
 *
 *   --gfx pv[:mode=1280x720][,capture=FILE.png][,virgl]
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/virtio-gpu.h"
#include "hypervisor/kvm.h"
#include "lib/clock.h"
#include "lib/log.h"

#define VIRTIO_ID_GPU	16
#define QUEUE_SIZE	256
#define Q_CONTROL	0
#define Q_CURSOR	1
#define MAX_REQ		128		/* the largest fixed part: CTX_CREATE, 96 */
_Static_assert(sizeof(struct virtio_gpu_ctx_create) <= MAX_REQ, "MAX_REQ");

/* Where R, G and B sit in a pixel of each 32-bit format (5.7.6.8). */
static const struct {
	uint32_t format;
	uint8_t r, g, b;
} formats[] = {
	{ VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 2, 1, 0 },
	{ VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 2, 1, 0 },
	{ VIRTIO_GPU_FORMAT_A8R8G8B8_UNORM, 1, 2, 3 },
	{ VIRTIO_GPU_FORMAT_X8R8G8B8_UNORM, 1, 2, 3 },
	{ VIRTIO_GPU_FORMAT_R8G8B8A8_UNORM, 0, 1, 2 },
	{ VIRTIO_GPU_FORMAT_X8B8G8R8_UNORM, 3, 2, 1 },
	{ VIRTIO_GPU_FORMAT_A8B8G8R8_UNORM, 3, 2, 1 },
	{ VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, 0, 1, 2 },
};

static int format_index(uint32_t format)
{
	unsigned int i;

	for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (formats[i].format == format)
			return (int)i;
	return -1;
}

struct vgpu_res *vgpu__res(struct vgpu *g, uint32_t id)
{
	unsigned int i;

	for (i = 0; id && i < VGPU_MAX_RESOURCES; i++)
		if (g->res[i] && g->res[i]->id == id)
			return g->res[i];
	return NULL;
}

uint32_t vgpu__res_add(struct vgpu *g, struct vgpu_res *r)
{
	unsigned int i;

	if (!r->id || vgpu__res(g, r->id)) {
		counter__inc(g->bad_resources);
		return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
	}
	for (i = 0; i < VGPU_MAX_RESOURCES && g->res[i]; i++)
		;
	if (i == VGPU_MAX_RESOURCES) {
		counter__inc(g->no_memory);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	g->res[i] = r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* A rectangle inside a w x h resource, without overflow. */
static bool rect_inside(const struct virtio_gpu_rect *r, uint32_t w, uint32_t h)
{
	return (uint64_t)r->x + r->width <= w && (uint64_t)r->y + r->height <= h;
}

bool vgpu__hostmem_take(struct vgpu *g, uint64_t bytes)
{
	if (bytes > VGPU_MAX_HOSTMEM - g->hostmem) {
		counter__inc(g->no_memory);
		return false;
	}
	g->hostmem += bytes;
	return true;
}

static uint32_t bad_resource(struct vgpu *g)
{
	counter__inc(g->bad_resources);
	return VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID;
}

static uint32_t bad_parameter(struct vgpu *g)
{
	counter__inc(g->bad_parameters);
	return VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER;
}

static uint32_t get_display_info(struct vgpu *g, struct vgpu_cmd *c)
{
	struct virtio_gpu_resp_display_info *d = (void *)(c->resp - sizeof(d->hdr));

	memset(d->pmodes, 0, sizeof(d->pmodes));
	d->pmodes[0].r.width = g->mode_w;
	d->pmodes[0].r.height = g->mode_h;
	d->pmodes[0].enabled = 1;
	c->resp_len = sizeof(d->pmodes);
	return VIRTIO_GPU_RESP_OK_DISPLAY_INFO;
}

static uint32_t get_edid(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_cmd_get_edid *req = c->req;
	struct virtio_gpu_resp_edid *e = (void *)(c->resp - sizeof(e->hdr));

	if (!virtio_pci__has_feature(&g->vp, VIRTIO_GPU_F_EDID))
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	if (req->scanout) {
		counter__inc(g->bad_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	memset(&e->size, 0, sizeof(*e) - sizeof(e->hdr));
	e->size = sizeof(g->edid);
	memcpy(e->edid, g->edid, sizeof(g->edid));
	c->resp_len = sizeof(*e) - sizeof(e->hdr);
	return VIRTIO_GPU_RESP_OK_EDID;
}

static uint32_t resource_create_2d(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_resource_create_2d *req = c->req;
	uint64_t bytes = (uint64_t)req->width * req->height * 4;
	struct vgpu_res *r;
	uint32_t ret;

	if (format_index(req->format) < 0 || !req->width || !req->height ||
	    req->width > VGPU_MAX_DIM || req->height > VGPU_MAX_DIM)
		return bad_parameter(g);
	if (!vgpu__hostmem_take(g, bytes))
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	r = calloc(1, sizeof(*r));
	if (r)
		r->pixels = calloc(1, bytes);
	if (!r || !r->pixels) {
		free(r);
		g->hostmem -= bytes;
		counter__inc(g->no_memory);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	r->hostmem = bytes;
	r->id = req->resource_id;
	r->format = req->format;
	r->width = req->width;
	r->height = req->height;
	ret = vgpu__res_add(g, r);
	if (ret != VIRTIO_GPU_RESP_OK_NODATA) {
		g->hostmem -= bytes;
		free(r->pixels);
		free(r);
	}
	return ret;
}

static void res_free(struct vgpu *g, struct vgpu_res *r)
{
	unsigned int i;

	if (g->scanout.resource_id == r->id) {	/* as QEMU: the screen goes blank */
		g->scanout.resource_id = 0;
		display__off(&g->disp);
	}
	if (g->cursor.resource_id == r->id)
		g->cursor.resource_id = 0;
	if (r->is_3d)
		vgpu_virgl__unref(g, r);
	g->hostmem -= r->hostmem;
	for (i = 0; i < VGPU_MAX_RESOURCES; i++)
		if (g->res[i] == r)
			g->res[i] = NULL;
	free(r->pixels);
	free(r->backing);
	free(r);
}

static uint32_t resource_unref(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_resource_unref *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);

	if (!r)
		return bad_resource(g);
	res_free(g, r);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t attach_backing(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_resource_attach_backing *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);
	struct iovec *iov;
	uint64_t total = 0;
	unsigned int i;

	if (!r)
		return bad_resource(g);
	if (r->backing || !req->nr_entries || req->nr_entries > VGPU_MAX_BACKING)
		return bad_parameter(g);
	iov = calloc(req->nr_entries, sizeof(*iov));
	if (!iov) {
		counter__inc(g->no_memory);
		return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
	}
	for (i = 0; i < req->nr_entries; i++) {
		struct virtio_gpu_mem_entry e;

		if (!virtq__iov_copy(c->chain->iov, c->chain->nr_out,
				     c->req_size + (uint64_t)i * sizeof(e), &e, sizeof(e), false))
			goto bad;	/* fewer entries than it says */
		/* Each entry one piece of guest RAM: never host memory. */
		iov[i].iov_base = kvm__gpa_to_hva(g->kvm, e.addr, e.length);
		iov[i].iov_len = e.length;
		if (!iov[i].iov_base || !e.length)
			goto bad;
		total += e.length;
	}
	r->backing = iov;
	r->nr_backing = req->nr_entries;
	r->backing_bytes = total;
	if (r->is_3d && vgpu_virgl__attach(g, r) != VIRTIO_GPU_RESP_OK_NODATA) {
		r->backing = NULL;	/* the renderer did not take it */
		r->nr_backing = 0;
		r->backing_bytes = 0;
		free(iov);
		return VIRTIO_GPU_RESP_ERR_UNSPEC;
	}
	return VIRTIO_GPU_RESP_OK_NODATA;
bad:
	free(iov);
	counter__inc(g->bad_backing);
	return VIRTIO_GPU_RESP_ERR_UNSPEC;
}

static uint32_t detach_backing(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_resource_detach_backing *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);

	if (!r)
		return bad_resource(g);
	if (!r->backing)
		return bad_parameter(g);
	if (r->is_3d)
		vgpu_virgl__detach(g, r);
	free(r->backing);
	r->backing = NULL;
	r->nr_backing = 0;
	r->backing_bytes = 0;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

/* Rows of r from the guest's backing (rows of width * 4 bytes from
 * `offset`) into the resource (5.7.6.8, TRANSFER_TO_HOST_2D). */
static uint32_t transfer_to_host_2d(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_transfer_to_host_2d *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);
	uint64_t stride, row, y;

	if (!r || r->is_3d)
		return bad_resource(g);
	stride = (uint64_t)r->width * 4;
	row = (uint64_t)req->r.width * 4;
	if (!r->backing || !rect_inside(&req->r, r->width, r->height) ||
	    (req->r.height && (req->offset > r->backing_bytes ||
			       req->offset + stride * (req->r.height - 1) + row > r->backing_bytes)))
		return bad_parameter(g);
	if (req->r.x == 0 && req->r.width == r->width) {	/* whole rows: one copy */
		virtq__iov_copy(r->backing, r->nr_backing, req->offset,
				r->pixels + req->r.y * stride, stride * req->r.height, false);
	} else {
		for (y = 0; y < req->r.height; y++)
			virtq__iov_copy(r->backing, r->nr_backing, req->offset + stride * y,
					r->pixels + (req->r.y + y) * stride + req->r.x * 4, row,
					false);
	}
	counter__add(g->transfer_bytes, row * req->r.height);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static uint32_t set_scanout(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_set_scanout *req = c->req;
	struct vgpu_res *r;

	if (req->scanout_id) {
		counter__inc(g->bad_scanouts);
		return VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID;
	}
	if (!req->resource_id) {		/* the display is switched off */
		g->scanout.resource_id = 0;
		display__off(&g->disp);
		return VIRTIO_GPU_RESP_OK_NODATA;
	}
	r = vgpu__res(g, req->resource_id);
	if (!r)
		return bad_resource(g);
	if (!req->r.width || !req->r.height || req->r.width > 4096 || req->r.height > 4096 ||
	    !rect_inside(&req->r, r->width, r->height))
		return bad_parameter(g);
	/* A new resource or size is a new frame (a new gfx run); a page
	 * flip between the same buffers keeps the stamps seen so far. */
	if (!g->disp.on || g->scanout.resource_id != r->id || g->disp.width != req->r.width ||
	    g->disp.height != req->r.height) {
		if (display__set_mode(&g->disp, req->r.width, req->r.height,
				      (uint64_t)req->r.width * 4)) {
			counter__inc(g->no_memory);
			g->scanout.resource_id = 0;
			return VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY;
		}
	}
	g->scanout.resource_id = r->id;
	g->scanout.r = req->r;
	return VIRTIO_GPU_RESP_OK_NODATA;
}

void vgpu__to_xrgb(struct vgpu *g, const struct virtio_gpu_rect *f, uint32_t format)
{
	const struct virtio_gpu_rect *s = &g->scanout.r;
	int fi = format_index(format);
	uint32_t x, y;

	if (fi < 0 || format == VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM ||
	    format == VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM)
		return;			/* already B, G, R, X in memory */
	for (y = 0; y < f->height; y++) {
		uint8_t *p = g->disp.shadow + (f->y - s->y + y) * g->disp.pitch + (f->x - s->x) * 4;

		for (x = 0; x < f->width; x++, p += 4) {
			uint8_t r = p[formats[fi].r], gr = p[formats[fi].g], b = p[formats[fi].b];

			p[0] = b;
			p[1] = gr;
			p[2] = r;
			p[3] = 0;
		}
	}
}

/* The flushed part of the scanout's 2D resource into the shadow. */
static void show_2d(struct vgpu *g, const struct vgpu_res *r, const struct virtio_gpu_rect *f)
{
	const struct virtio_gpu_rect *s = &g->scanout.r;
	uint32_t y;

	for (y = f->y; y < f->y + f->height; y++)
		memcpy(g->disp.shadow + (y - s->y) * g->disp.pitch + (f->x - s->x) * 4,
		       r->pixels + ((uint64_t)y * r->width + f->x) * 4, (size_t)f->width * 4);
}

static uint32_t resource_flush(struct vgpu *g, struct vgpu_cmd *c)
{
	const struct virtio_gpu_resource_flush *req = c->req;
	struct vgpu_res *r = vgpu__res(g, req->resource_id);
	const struct virtio_gpu_rect *s = &g->scanout.r;
	struct virtio_gpu_rect f;
	uint64_t t0 = now_ns();

	if (!r)
		return bad_resource(g);
	if (!rect_inside(&req->r, r->width, r->height))
		return bad_parameter(g);
	if (g->scanout.resource_id != r->id || !g->disp.on)
		return VIRTIO_GPU_RESP_OK_NODATA;	/* not on screen: nothing to show */
	/* The flushed rectangle, clipped to what the scanout shows. */
	f.x = req->r.x > s->x ? req->r.x : s->x;
	f.y = req->r.y > s->y ? req->r.y : s->y;
	if ((uint64_t)req->r.x + req->r.width <= f.x || (uint64_t)s->x + s->width <= f.x ||
	    (uint64_t)req->r.y + req->r.height <= f.y || (uint64_t)s->y + s->height <= f.y)
		return VIRTIO_GPU_RESP_OK_NODATA;
	f.width = (uint32_t)((req->r.x + req->r.width < s->x + s->width ?
			      req->r.x + req->r.width : s->x + s->width) - f.x);
	f.height = (uint32_t)((req->r.y + req->r.height < s->y + s->height ?
			       req->r.y + req->r.height : s->y + s->height) - f.y);
	if (r->is_3d) {
		if (vgpu_virgl__read(g, r, &f)) {
			counter__inc(g->virgl_errors);
			return VIRTIO_GPU_RESP_ERR_UNSPEC;
		}
	} else {
		show_2d(g, r, &f);
	}
	vgpu__to_xrgb(g, &f, r->format);
	display__shown(&g->disp);
	counter__inc(g->frames);
	latency__record(g->flush_ns, now_ns() - t0);
	return VIRTIO_GPU_RESP_OK_NODATA;
}

static const struct vgpu_op ops_2d[] = {
	{ VIRTIO_GPU_CMD_GET_DISPLAY_INFO, sizeof(struct virtio_gpu_ctrl_hdr), get_display_info },
	{ VIRTIO_GPU_CMD_GET_EDID, sizeof(struct virtio_gpu_cmd_get_edid), get_edid },
	{ VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, sizeof(struct virtio_gpu_resource_create_2d),
	  resource_create_2d },
	{ VIRTIO_GPU_CMD_RESOURCE_UNREF, sizeof(struct virtio_gpu_resource_unref), resource_unref },
	{ VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING,
	  sizeof(struct virtio_gpu_resource_attach_backing), attach_backing },
	{ VIRTIO_GPU_CMD_RESOURCE_DETACH_BACKING,
	  sizeof(struct virtio_gpu_resource_detach_backing), detach_backing },
	{ VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, sizeof(struct virtio_gpu_transfer_to_host_2d),
	  transfer_to_host_2d },
	{ VIRTIO_GPU_CMD_SET_SCANOUT, sizeof(struct virtio_gpu_set_scanout), set_scanout },
	{ VIRTIO_GPU_CMD_RESOURCE_FLUSH, sizeof(struct virtio_gpu_resource_flush), resource_flush },
};

static const struct vgpu_op *find_op(const struct vgpu *g, uint32_t type)
{
	/* 3D: only for a driver that took VIRTIO_GPU_F_VIRGL (5.7.3). */
	bool virgl = virtio_pci__has_feature(&g->vp, VIRTIO_GPU_F_VIRGL);
	unsigned int i;

	for (i = 0; i < sizeof(ops_2d) / sizeof(ops_2d[0]); i++)
		if (ops_2d[i].type == type)
			return &ops_2d[i];
	for (i = 0; virgl && i < vgpu_nr_virgl_ops; i++)
		if (vgpu_virgl_ops[i].type == type)
			return &vgpu_virgl_ops[i];
	return NULL;
}

struct command_job {
	struct vgpu *g;
	const struct vgpu_op *op;
	struct vgpu_cmd *c;
	uint32_t type;
};

static void run_command(void *arg)
{
	struct command_job *j = arg;

	j->type = j->op->fn(j->g, j->c);
	/* Commands complete in order before the answer: a fence is passed
	 * when its command is (5.7.6.7); the renderer's, when it has run. */
	if ((j->c->hdr->flags & VIRTIO_GPU_FLAG_FENCE) &&
	    j->c->hdr->type >= VIRTIO_GPU_CMD_CTX_CREATE)
		vgpu_virgl__fence(j->g, j->c->hdr->ctx_id);
}

/* One control-queue chain: the command, then its response. Returns the
 * bytes written (0 when not even a header fits). */
static uint32_t vgpu__command(struct vgpu *g, const struct virtq_req *chain)
{
	uint8_t req[MAX_REQ] __attribute__((aligned(8)));
	struct virtio_gpu_ctrl_hdr *hdr = (void *)req;
	struct virtio_gpu_ctrl_hdr *rh = (void *)g->resp;
	struct vgpu_cmd c = { .hdr = hdr, .req = req, .chain = chain,
			      .resp = g->resp + sizeof(*rh) };
	const struct vgpu_op *op;
	struct command_job job;
	uint32_t type, len;

	counter__inc(g->commands);
	if (!virtq__iov_copy(chain->iov, chain->nr_out, 0, req, sizeof(*hdr), false)) {
		counter__inc(g->short_commands);
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		memset(hdr, 0, sizeof(*hdr));
		goto respond;
	}
	op = find_op(g, hdr->type);
	if (!op) {
		counter__inc(g->unknown_commands);
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		goto respond;
	}
	c.req_size = op->size;
	if (!virtq__iov_copy(chain->iov, chain->nr_out, 0, req, op->size, false)) {
		counter__inc(g->short_commands);
		type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		goto respond;
	}
	pthread_mutex_lock(&g->lock);
	job = (struct command_job){ g, op, &c, 0 };
	vgpu_virgl__run(g, run_command, &job);
	type = job.type;
	pthread_mutex_unlock(&g->lock);
	if (type >= VIRTIO_GPU_RESP_ERR_UNSPEC)
		c.resp_len = 0;
respond:
	memset(rh, 0, sizeof(*rh));
	rh->type = type;
	if (hdr->flags & VIRTIO_GPU_FLAG_FENCE) {
		rh->flags = VIRTIO_GPU_FLAG_FENCE;
		rh->fence_id = hdr->fence_id;
		rh->ctx_id = hdr->ctx_id;
	}
	len = (uint32_t)sizeof(*rh) + c.resp_len;
	if (chain->in_bytes < len) {
		/* No room for the answer: the header alone says so. */
		counter__inc(g->short_commands);
		rh->type = VIRTIO_GPU_RESP_ERR_UNSPEC;
		len = sizeof(*rh);
		if (chain->in_bytes < len)
			return 0;
	}
	virtq__iov_copy(chain->iov + chain->nr_out, chain->nr_in, 0, g->resp, len, true);
	return len;
}

/* The cursor queue: no responses (5.7.6.10). */
static void cursor_command(struct vgpu *g, const struct virtq_req *chain)
{
	struct virtio_gpu_update_cursor u;
	struct vgpu_res *r;
	uint32_t y;

	if (!virtq__iov_copy(chain->iov, chain->nr_out, 0, &u, sizeof(u), false) ||
	    (u.hdr.type != VIRTIO_GPU_CMD_UPDATE_CURSOR && u.hdr.type != VIRTIO_GPU_CMD_MOVE_CURSOR) ||
	    u.pos.scanout_id) {
		counter__inc(g->unknown_commands);
		return;
	}
	pthread_mutex_lock(&g->lock);
	g->cursor.x = u.pos.x;
	g->cursor.y = u.pos.y;
	if (u.hdr.type == VIRTIO_GPU_CMD_UPDATE_CURSOR) {
		r = vgpu__res(g, u.resource_id);
		if (u.resource_id && (!r || r->is_3d || r->width != VGPU_CURSOR ||
				      r->height != VGPU_CURSOR)) {
			counter__inc(g->bad_resources);
		} else {
			g->cursor.resource_id = u.resource_id;	/* 0: hidden */
			g->cursor.hot_x = u.hot_x;
			g->cursor.hot_y = u.hot_y;
			for (y = 0; r && y < VGPU_CURSOR; y++)
				memcpy(g->cursor.image + y * VGPU_CURSOR,
				       r->pixels + (uint64_t)y * r->width * 4, VGPU_CURSOR * 4);
			counter__inc(g->cursor_updates);
		}
	}
	pthread_mutex_unlock(&g->lock);
}

static uint32_t vgpu__handle(struct virtio_pci *vp, unsigned int qi, struct virtq_req *r)
{
	struct vgpu *g = vp->priv;

	if (qi == Q_CONTROL)
		return vgpu__command(g, r);
	cursor_command(g, r);
	return 0;
}

static void vgpu__notify(struct virtio_pci *vp, unsigned int qi)
{
	struct vgpu *g = vp->priv;

	virtio_pci__serve(vp, qi, vgpu__handle, g->short_commands,
			  qi == Q_CONTROL ? g->command_ns : NULL);
}

static void vgpu__config_read(struct virtio_pci *vp, uint32_t off, void *data, uint32_t len)
{
	struct vgpu *g = vp->priv;
	struct virtio_gpu_config cfg = {
		.num_scanouts = 1,
		.num_capsets = g->virgl ? 2 : 0,	/* VIRGL, VIRGL2 */
	};

	memcpy(data, (uint8_t *)&cfg + off, len);	/* the transport bounds off + len */
}

static void free_all(void *arg)
{
	struct vgpu *g = arg;
	unsigned int i;

	for (i = 0; i < VGPU_MAX_RESOURCES; i++)
		if (g->res[i])
			res_free(g, g->res[i]);
	vgpu_virgl__reset(g);
}

static void vgpu__reset(struct virtio_pci *vp)
{
	struct vgpu *g = vp->priv;

	pthread_mutex_lock(&g->lock);
	vgpu_virgl__run(g, free_all, g);
	g->scanout.resource_id = 0;
	g->cursor.resource_id = 0;
	pthread_mutex_unlock(&g->lock);
}

static const struct virtio_dev_ops vgpu_virtio_ops = {
	.name = "virtio-gpu",
	.device_id = VIRTIO_ID_GPU,
	.class_code = 0x038000,		/* display, other: as QEMU's virtio-gpu-pci */
	.nr_queues = 2,
	.queue_max = QUEUE_SIZE,
	.config_size = sizeof(struct virtio_gpu_config),
	.config_read = vgpu__config_read,
	.notify = vgpu__notify,
	.reset = vgpu__reset,
};

static int parse_args(struct vgpu *g, const char *args)
{
	char copy[320], *save, *tok;

	g->mode_w = 1280;
	g->mode_h = 720;
	snprintf(copy, sizeof(copy), "%s", args ? args : "");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "virgl"))
			g->virgl = true;
		else if (display__parse_option(tok, &g->mode_w, &g->mode_h, g->capture,
					       sizeof(g->capture)))
			return -1;
	}
	return 0;
}

static int vgpu__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct vgpu *g = calloc(1, sizeof(*g));
	struct virtio_dev_ops *vops;

	if (!g)
		return -ENOMEM;
	dev->priv = g;
	g->dev = dev;
	g->kvm = kvm;
	pthread_mutex_init(&g->lock, NULL);
	if (parse_args(g, args)) {
		pr_err("--gfx pv:%s: expected [mode=WxH (64x64..2560x1600)][,capture=FILE.png][,virgl]",
		       args);
		return -EINVAL;
	}
	g->resp = calloc(1, sizeof(struct virtio_gpu_ctrl_hdr) + VGPU_RESP_MAX);
	if (!g->resp || display__init(&g->disp) || vgpu_virgl__init(g))
		return -ENOMEM;
	display__edid(g->edid, g->mode_w, g->mode_h);
	g->commands = metrics__counter(&dev->metrics, "commands");
	g->frames = metrics__counter(&dev->metrics, "frames");
	g->transfer_bytes = metrics__counter(&dev->metrics, "transfer_bytes");
	g->cursor_updates = metrics__counter(&dev->metrics, "cursor_updates");
	g->bad_resources = metrics__counter(&dev->metrics, "bad_resource_ids");
	g->bad_parameters = metrics__counter(&dev->metrics, "bad_parameters");
	g->bad_scanouts = metrics__counter(&dev->metrics, "bad_scanout_ids");
	g->bad_backing = metrics__counter(&dev->metrics, "bad_backing");
	g->unknown_commands = metrics__counter(&dev->metrics, "unknown_commands");
	g->short_commands = metrics__counter(&dev->metrics, "malformed_commands");
	g->no_memory = metrics__counter(&dev->metrics, "out_of_memory");
	g->virgl_errors = metrics__counter(&dev->metrics, "virgl_errors");
	g->command_ns = metrics__latency(&dev->metrics, "command_ns");
	g->flush_ns = metrics__latency(&dev->metrics, "flush_ns");
	/* The device's features depend on its arguments: a copy of the ops. */
	vops = malloc(sizeof(*vops));
	if (!vops)
		return -ENOMEM;
	*vops = vgpu_virtio_ops;
	vops->features = 1ull << VIRTIO_GPU_F_EDID | (g->virgl ? 1ull << VIRTIO_GPU_F_VIRGL : 0);
	return virtio_pci__init(&g->vp, kvm, dev, vops, g);
}

static void vgpu__exit(struct device *dev)
{
	struct vgpu *g = dev->priv;
	int ret;

	if (!g)
		return;
	if (g->vp.queues) {
		const struct virtio_dev_ops *vops = g->vp.ops;

		virtio_pci__exit(&g->vp);
		free((void *)vops);
	}
	pthread_mutex_lock(&g->lock);
	if (g->capture[0]) {
		ret = display__capture_png(&g->disp, g->capture);
		if (ret)
			pr_warn("%s: no frame saved to %s: %s", dev->name, g->capture,
				ret == -ENODATA ? "no frame was shown" : strerror(-ret));
	}
	pthread_mutex_unlock(&g->lock);
	vgpu__reset(&g->vp);
	vgpu_virgl__exit(g);
	display__exit(&g->disp);
	free(g->resp);
	free(g);
}

static int64_t vgpu__frame_verify(struct device *dev, uint32_t pattern, uint32_t w, uint32_t h,
				  uint64_t frames)
{
	struct vgpu *g = dev->priv;
	int64_t bad;

	pthread_mutex_lock(&g->lock);
	bad = display__verify(&g->disp, pattern, w, h, frames);
	pthread_mutex_unlock(&g->lock);
	return bad;
}

static uint64_t vgpu__frame_seen(struct device *dev, uint64_t frame)
{
	struct vgpu *g = dev->priv;
	uint64_t t;

	pthread_mutex_lock(&g->lock);
	t = display__seen(&g->disp, frame);
	pthread_mutex_unlock(&g->lock);
	return t;
}

static void vgpu__to_json(struct device *dev, cJSON *obj)
{
	struct vgpu *g = dev->priv;

	pthread_mutex_lock(&g->lock);
	cJSON_AddNumberToObject(obj, "xres", g->disp.on ? g->disp.width : 0);
	cJSON_AddNumberToObject(obj, "yres", g->disp.on ? g->disp.height : 0);
	cJSON_AddBoolToObject(obj, "virgl", g->virgl_state > 0);
	cJSON_AddNumberToObject(obj, "cursor_x", g->cursor.x);
	cJSON_AddNumberToObject(obj, "cursor_y", g->cursor.y);
	pthread_mutex_unlock(&g->lock);
}

static const struct device_ops vgpu_ops = {
	.name = "virtio-gpu",
	.help = "paravirtual display: virtio-gpu 2D, 3D through virglrenderer (--gfx pv)",
	.init = vgpu__init,
	.exit = vgpu__exit,
	.frame_verify = vgpu__frame_verify,
	.frame_seen = vgpu__frame_seen,
	.to_json = vgpu__to_json,
};
device_register(vgpu_ops);

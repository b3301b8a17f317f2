/*
 * virtio-gpu driven as a guest driver drives it: the one mode and its
 * EDID, a 2D resource on guest pages, a scanout, transfers and flushes
 * that reach the host's view of the screen pixel for pixel (and formats
 * converted), the cursor queue. Then what a guest gets wrong or makes up:
 * unknown and short commands, bad resource and scanout ids, backing
 * outside RAM, transfers beyond the resource or the backing, resources
 * beyond the memory bound, answers that do not fit: an error response,
 * a counter, and the device keeps working. With virgl, the 3D commands
 * run through virglrenderer (EGL surfaceless), garbage streams included.
 */
#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_gpu.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/device.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM	(8u << 20)
#define QSIZE	16
#define Q(q)	(0x10000 + 0x4000 * (q))	/* desc, avail +0x1000, used +0x2000 */
#define REQ	0x20000
#define RESP	0x21000
#define DATA	0x22000
#define PIXELS	0x100000			/* the guest's backing: 320x200x4 */
#define W	320
#define H	200

static struct kvm *kvm;
static struct device *dev;
static uint64_t bar;

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }
static uint32_t rd(uint64_t off, uint32_t len) { return test_mmio_read(kvm, bar + off, len); }
static void wr(uint64_t off, uint32_t v, uint32_t len) { test_mmio_write(kvm, bar + off, v, len); }
static uint64_t metric(const char *name) { return metrics__value(&dev->metrics, name); }

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

static void start(const char *args, uint32_t features)
{
	log_level = LOG_ERR - 1;
	kvm = test_fake_kvm_with_ram(RAM);
	dev = device__create(kvm, "virtio-gpu", args);
	cr_assert_not_null(dev);
	bar = pci__bar_address(kvm->pci.slots[0], 0);
	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], 2), 0x1040 + 16, "virtio-gpu");
	test_virtio_bring_up(kvm, bar, features, 2, QSIZE, Q(0), Q(1) - Q(0));
}

static void setup(void)
{
	start("mode=320x200", 1u << VIRTIO_GPU_F_EDID);
}

static void teardown(void)
{
	if (kvm) {
		device__destroy_all(kvm);
		test_fake_kvm_free(kvm);
	}
	kvm = NULL;
}

TestSuite(virtio_gpu, .init = setup, .fini = teardown);

/* A chain on queue q: the request (len bytes at REQ), optional data, and
 * resp_len bytes of response at RESP; kicked. The used length. */
static int chain(unsigned int q, uint32_t len, uint32_t data_len, uint32_t resp_len)
{
	struct vring_desc *desc = gpa(Q(q));
	struct vring_avail *avail = gpa(Q(q) + 0x1000);
	struct vring_used *used = gpa(Q(q) + 0x2000);
	uint16_t before = used->idx, n = 0;

	desc[n] = (struct vring_desc){ REQ, len, VRING_DESC_F_NEXT, 1 };
	n++;
	if (data_len) {
		desc[n] = (struct vring_desc){ DATA, data_len, VRING_DESC_F_NEXT, (uint16_t)(n + 1) };
		n++;
	}
	if (resp_len)
		desc[n] = (struct vring_desc){ RESP, resp_len, VRING_DESC_F_WRITE, 0 };
	else
		desc[n - 1].flags &= (uint16_t)~VRING_DESC_F_NEXT;
	avail->ring[avail->idx % QSIZE] = 0;
	avail->idx++;
	wr(0x3000 + 4 * q, q, 2);
	cr_assert_neq(used->idx, before, "the device answered");
	return (int)used->ring[(uint16_t)(used->idx - 1) % QSIZE].len;
}

/* A command of `len` bytes already at REQ: the response type. */
static uint32_t cmd(uint32_t len)
{
	struct virtio_gpu_ctrl_hdr *r = gpa(RESP);

	memset(r, 0xee, sizeof(*r));
	cr_assert_geq(chain(0, len, 0, 2048), (int)sizeof(*r));
	return r->type;
}

static void *req(uint32_t type, size_t size)
{
	struct virtio_gpu_ctrl_hdr *h = gpa(REQ);

	memset(h, 0, size);
	h->type = type;
	return h;
}

static uint32_t create_2d(uint32_t id, uint32_t format, uint32_t w, uint32_t h)
{
	struct virtio_gpu_resource_create_2d *c = req(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, sizeof(*c));

	c->resource_id = id;
	c->format = format;
	c->width = w;
	c->height = h;
	return cmd(sizeof(*c));
}

static uint32_t attach(uint32_t id, uint64_t addr, uint32_t len)
{
	struct virtio_gpu_resource_attach_backing *a =
		req(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, sizeof(*a) + sizeof(struct virtio_gpu_mem_entry));
	struct virtio_gpu_mem_entry *e = (void *)(a + 1);

	a->resource_id = id;
	a->nr_entries = 1;
	e->addr = addr;
	e->length = len;
	return cmd(sizeof(*a) + sizeof(*e));
}

static uint32_t rect_cmd(uint32_t type, uint32_t id, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	struct virtio_gpu_transfer_to_host_2d *t;
	struct virtio_gpu_resource_flush *f;
	struct virtio_gpu_set_scanout *s;
	struct virtio_gpu_rect r = { x, y, w, h };

	switch (type) {
	case VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D:
		t = req(type, sizeof(*t));
		t->r = r;
		t->offset = ((uint64_t)y * W + x) * 4;
		t->resource_id = id;
		return cmd(sizeof(*t));
	case VIRTIO_GPU_CMD_RESOURCE_FLUSH:
		f = req(type, sizeof(*f));
		f->r = r;
		f->resource_id = id;
		return cmd(sizeof(*f));
	default:
		s = req(type, sizeof(*s));
		s->r = r;
		s->resource_id = id;
		return cmd(sizeof(*s));
	}
}

/* A screen: resource 1 (XRGB8888) on the backing at PIXELS, scanned out. */
static void screen(void)
{
	cr_assert_eq(create_2d(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(attach(1, PIXELS, W * H * 4), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 1, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
}

Test(virtio_gpu, one_mode_and_its_edid)
{
	struct virtio_gpu_resp_display_info *d = gpa(RESP);
	struct virtio_gpu_resp_edid *e = gpa(RESP);
	struct virtio_gpu_cmd_get_edid *g;
	unsigned int i, sum = 0;

	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_gpu_config, num_scanouts), 4), 1);
	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_gpu_config, num_capsets), 4), 0, "no virgl");
	req(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, sizeof(struct virtio_gpu_ctrl_hdr));
	cr_assert_eq(cmd(sizeof(struct virtio_gpu_ctrl_hdr)), VIRTIO_GPU_RESP_OK_DISPLAY_INFO);
	cr_assert_eq(d->pmodes[0].r.width, W);
	cr_assert_eq(d->pmodes[0].r.height, H);
	cr_assert_eq(d->pmodes[0].enabled, 1);
	cr_assert_eq(d->pmodes[1].enabled, 0, "one scanout");
	g = req(VIRTIO_GPU_CMD_GET_EDID, sizeof(*g));
	cr_assert_eq(cmd(sizeof(*g)), VIRTIO_GPU_RESP_OK_EDID);
	cr_assert_eq(e->size, 128);
	cr_assert_eq(memcmp(e->edid, "\0\xff\xff\xff\xff\xff\xff\0", 8), 0);
	for (i = 0; i < 128; i++)
		sum += e->edid[i];
	cr_assert_eq(sum % 256, 0, "checksum");
	cr_assert_eq(e->edid[54 + 2] | (e->edid[54 + 4] >> 4) << 8, W, "the detailed timing's width");
	g = req(VIRTIO_GPU_CMD_GET_EDID, sizeof(*g));
	g->scanout = 1;
	cr_assert_eq(cmd(sizeof(*g)), VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
}

/* The gfx workload's frames (abi.h) by hand: the host sees exactly them. */
Test(virtio_gpu, frames_reach_the_host_pixel_for_pixel)
{
	uint32_t *px = gpa(PIXELS), x, y, k;

	screen();
	for (k = 0; k < 3; k++) {
		uint32_t x0 = vio_rect_x(k, W), y0 = vio_rect_y(k, H);

		for (y = 0; y < VIO_RECT; y++)
			for (x = 0; x < VIO_RECT; x++)
				px[(y0 + y) * W + x0 + x] = vio_color(k);
		px[0] = vio_stamp(k);
		cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 1, x0, y0, VIO_RECT, VIO_RECT),
			     VIRTIO_GPU_RESP_OK_NODATA);
		cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 1, 0, 0, 1, 1),
			     VIRTIO_GPU_RESP_OK_NODATA);
		cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 1, 0, 0, x0 + VIO_RECT,
				      y0 + VIO_RECT), VIRTIO_GPU_RESP_OK_NODATA);
		cr_assert_neq(dev->ops->frame_seen(dev, k), 0, "frame %u's stamp was shown", k);
	}
	cr_assert_eq(dev->ops->frame_verify(dev, VIO_GFX_RECTS, W, H, 3), 0);
	cr_assert_eq(metric("frames"), 3);
	cr_assert_eq(metric("transfer_bytes"), 3 * (VIO_RECT * VIO_RECT * 4 + 4));
	/* A pixel the guest changed but did not transfer is not on screen. */
	px[W * H - 1] = 0xffffff;
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 1, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(dev->ops->frame_verify(dev, VIO_GFX_RECTS, W, H, 3), 0);
	/* Whole frames, in a format with red first: converted for the host. */
	cr_assert_eq(create_2d(2, VIRTIO_GPU_FORMAT_R8G8B8X8_UNORM, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(attach(2, PIXELS, W * H * 4), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 2, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	for (x = 0; x < W * H; x++)
		px[x] = __builtin_bswap32(vio_color(0)) >> 8;	/* bytes R, G, B, X */
	px[0] = __builtin_bswap32(vio_stamp(0)) >> 8;
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 2, 0, 0, W, H),
		     VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 2, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(dev->ops->frame_verify(dev, VIO_GFX_FULL, W, H, 1), 0);
	/* Unref the scanout's resource: the screen goes dark, nothing to check. */
	req(VIRTIO_GPU_CMD_RESOURCE_UNREF, sizeof(struct virtio_gpu_resource_unref));
	((struct virtio_gpu_resource_unref *)gpa(REQ))->resource_id = 2;
	cr_assert_eq(cmd(sizeof(struct virtio_gpu_resource_unref)), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(dev->ops->frame_verify(dev, VIO_GFX_FULL, W, H, 1), -1);
}

Test(virtio_gpu, cursor_queue)
{
	struct virtio_gpu_update_cursor *u = gpa(REQ);

	cr_assert_eq(create_2d(5, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 64, 64), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(create_2d(6, VIRTIO_GPU_FORMAT_B8G8R8A8_UNORM, 32, 32), VIRTIO_GPU_RESP_OK_NODATA);
	memset(u, 0, sizeof(*u));
	u->hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR;
	u->resource_id = 5;
	u->pos.x = 100;
	u->pos.y = 50;
	cr_assert_eq(chain(1, sizeof(*u), 0, 0), 0, "no response on the cursor queue");
	cr_assert_eq(metric("cursor_updates"), 1);
	u->hdr.type = VIRTIO_GPU_CMD_MOVE_CURSOR;
	u->pos.x = 7;
	chain(1, sizeof(*u), 0, 0);
	u->hdr.type = VIRTIO_GPU_CMD_UPDATE_CURSOR;
	u->resource_id = 6;			/* not 64x64 */
	chain(1, sizeof(*u), 0, 0);
	cr_assert_eq(metric("cursor_updates"), 1);
	cr_assert_eq(metric("bad_resource_ids"), 1);
	u->hdr.type = 0x0399;
	chain(1, sizeof(*u), 0, 0);
	cr_assert_eq(metric("unknown_commands"), 1);
}

Test(virtio_gpu, malformed_commands_get_errors_and_counters)
{
	struct virtio_gpu_ctrl_hdr *h;
	struct virtio_gpu_resource_attach_backing *a;
	struct virtio_gpu_transfer_to_host_2d *t;

	req(0x0177, 64);
	cr_assert_eq(cmd(64), VIRTIO_GPU_RESP_ERR_UNSPEC);
	cr_assert_eq(metric("unknown_commands"), 1);
	req(VIRTIO_GPU_CMD_CTX_CREATE, 96);		/* 3D, not offered */
	cr_assert_eq(cmd(96), VIRTIO_GPU_RESP_ERR_UNSPEC);
	cr_assert_eq(metric("unknown_commands"), 2);
	req(VIRTIO_GPU_CMD_RESOURCE_CREATE_2D, 40);
	cr_assert_eq(cmd(12), VIRTIO_GPU_RESP_ERR_UNSPEC, "shorter than its header");
	cr_assert_eq(cmd(28), VIRTIO_GPU_RESP_ERR_UNSPEC, "shorter than its struct");
	cr_assert_eq(metric("malformed_commands"), 2);
	cr_assert_eq(create_2d(0, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8),
		     VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "id 0");
	cr_assert_eq(create_2d(1, 99, 8, 8), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "format");
	cr_assert_eq(create_2d(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 0, 8),
		     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cr_assert_eq(create_2d(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 16384, 16384),
		     VIRTIO_GPU_RESP_ERR_OUT_OF_MEMORY, "1 GiB: beyond the bound");
	cr_assert_eq(metric("out_of_memory"), 1);
	screen();
	cr_assert_eq(create_2d(1, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 8, 8),
		     VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID, "taken");
	/* Backing: outside RAM, in no RAM at all, more entries than sent. */
	cr_assert_eq(create_2d(3, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM, 64, 64), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(attach(3, RAM - 4096, 8192), VIRTIO_GPU_RESP_ERR_UNSPEC);
	cr_assert_eq(attach(3, 0xfffffffffffff000ull, 4096), VIRTIO_GPU_RESP_ERR_UNSPEC);
	a = req(VIRTIO_GPU_CMD_RESOURCE_ATTACH_BACKING, sizeof(*a));
	a->resource_id = 3;
	a->nr_entries = 1000;
	cr_assert_eq(cmd(sizeof(*a) + 16), VIRTIO_GPU_RESP_ERR_UNSPEC);
	a->nr_entries = 1u << 30;
	cr_assert_eq(cmd(sizeof(*a)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cr_assert_eq(metric("bad_backing"), 3);
	cr_assert_eq(attach(9, PIXELS, 4096), VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	/* Transfers: no backing, beyond the resource, beyond the backing. */
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 3, 0, 0, 8, 8),
		     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 1, W - 8, 0, 16, 8),
		     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 1, 0xffffffffu, 0, 2, 1),
		     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "x + width wraps");
	t = req(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, sizeof(*t));
	t->r = (struct virtio_gpu_rect){ 0, 0, W, H };
	t->offset = 4;
	t->resource_id = 1;
	cr_assert_eq(cmd(sizeof(*t)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "4 bytes past the backing");
	t->offset = ~0ull;
	cr_assert_eq(cmd(sizeof(*t)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 1, 0, 0, W + 1, H),
		     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 7, 0, 0, 1, 1),
		     VIRTIO_GPU_RESP_ERR_INVALID_RESOURCE_ID);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 1, 0, 0, W, H + 1),
		     VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	((struct virtio_gpu_set_scanout *)gpa(REQ))->scanout_id = 3;
	cr_assert_eq(cmd(sizeof(struct virtio_gpu_set_scanout)), VIRTIO_GPU_RESP_ERR_INVALID_SCANOUT_ID);
	/* A fenced command: the fence comes back with the answer. */
	h = req(VIRTIO_GPU_CMD_RESOURCE_FLUSH, sizeof(struct virtio_gpu_resource_flush));
	h->flags = VIRTIO_GPU_FLAG_FENCE;
	h->fence_id = 0x1234567890ull;
	((struct virtio_gpu_resource_flush *)h)->resource_id = 1;
	((struct virtio_gpu_resource_flush *)h)->r = (struct virtio_gpu_rect){ 0, 0, W, H };
	cr_assert_eq(cmd(sizeof(struct virtio_gpu_resource_flush)), VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->flags, VIRTIO_GPU_FLAG_FENCE);
	cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->fence_id, 0x1234567890ull);
	/* No room for the answer: a header saying so, or nothing at all. */
	req(VIRTIO_GPU_CMD_GET_DISPLAY_INFO, 24);
	cr_assert_eq(chain(0, 24, 0, 100), 24);
	cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	cr_assert_eq(chain(0, 24, 0, 8), 0);
	/* And the device still works. */
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_TRANSFER_TO_HOST_2D, 1, 0, 0, W, H),
		     VIRTIO_GPU_RESP_OK_NODATA);
	cr_assert_eq(metric("frames"), 1);
}

/* 3D through virglrenderer: capsets, a context, a render target, a clear
 * in a virgl stream, read back on flush; garbage streams and bad ids are
 * errors, counted. Skips where Mesa's EGL and llvmpipe are missing. */
Test(virtio_gpu, virgl_clear_through_virglrenderer)
{
	struct virtio_gpu_resp_capset_info *ci;
	struct virtio_gpu_get_capset_info *gci;
	struct virtio_gpu_resource_create_3d *c3;
	struct virtio_gpu_ctx_create *cc;
	struct virtio_gpu_ctx_resource *cr;
	struct virtio_gpu_cmd_submit *s;
	uint32_t *stream, color = vio_color(5);

	test_require_virgl();
	teardown();				/* this one offers VIRGL */
	start("mode=320x200,virgl", 1u << VIRTIO_GPU_F_EDID | 1u << VIRTIO_GPU_F_VIRGL);
	ci = gpa(RESP);
	stream = gpa(DATA);
	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_gpu_config, num_capsets), 4), 2);
	gci = req(VIRTIO_GPU_CMD_GET_CAPSET_INFO, sizeof(*gci));
	cr_assert_eq(cmd(sizeof(*gci)), VIRTIO_GPU_RESP_OK_CAPSET_INFO,
		     "virglrenderer starts (EGL surfaceless, Mesa llvmpipe)");
	cr_assert_eq(ci->capset_id, VIRTIO_GPU_CAPSET_VIRGL);
	cr_assert_gt(ci->capset_max_size, 0);
	gci = req(VIRTIO_GPU_CMD_GET_CAPSET_INFO, sizeof(*gci));
	gci->capset_index = 2;
	cr_assert_eq(cmd(sizeof(*gci)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER);
	cc = req(VIRTIO_GPU_CMD_CTX_CREATE, sizeof(*cc));
	cc->hdr.ctx_id = 1;
	cc->nlen = 4;
	memcpy(cc->debug_name, "test", 4);
	cr_assert_eq(cmd(sizeof(*cc)), VIRTIO_GPU_RESP_OK_NODATA);
	cc->nlen = 1000;
	cc->hdr.ctx_id = 2;
	cr_assert_eq(cmd(sizeof(*cc)), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID, "name length");
	c3 = req(VIRTIO_GPU_CMD_RESOURCE_CREATE_3D, sizeof(*c3));
	c3->hdr.ctx_id = 1;
	*c3 = (struct virtio_gpu_resource_create_3d){ c3->hdr, 1, 2, VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM,
						      (1 << 1) | (1 << 3), W, H, 1, 1, 0, 0, 0, 0 };
	cr_assert_eq(cmd(sizeof(*c3)), VIRTIO_GPU_RESP_OK_NODATA);
	c3->resource_id = 2;
	c3->target = 77;
	cr_assert_eq(cmd(sizeof(*c3)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "no such target");
	cr = req(VIRTIO_GPU_CMD_CTX_ATTACH_RESOURCE, sizeof(*cr));
	cr->hdr.ctx_id = 1;
	cr->resource_id = 1;
	cr_assert_eq(cmd(sizeof(*cr)), VIRTIO_GPU_RESP_OK_NODATA);
	cr->hdr.ctx_id = 9;
	cr_assert_eq(cmd(sizeof(*cr)), VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_SET_SCANOUT, 1, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	/* surface 1 on resource 1; framebuffer; clear to the colour (floats). */
	{
		uint32_t n = 0, i;
		float rgb[3] = { (color >> 16 & 0xff) / 255.0f, (color >> 8 & 0xff) / 255.0f,
				 (color & 0xff) / 255.0f };

		stream[n++] = 1 | 8 << 8 | 5 << 16;
		stream[n++] = 1;
		stream[n++] = 1;
		stream[n++] = VIRTIO_GPU_FORMAT_B8G8R8X8_UNORM;
		stream[n++] = 0;
		stream[n++] = 0;
		stream[n++] = 5 | 3 << 16;
		stream[n++] = 1;
		stream[n++] = 0;
		stream[n++] = 1;
		stream[n++] = 7 | 8 << 16;
		stream[n++] = 1 << 2;
		for (i = 0; i < 3; i++)
			memcpy(&stream[n++], &rgb[i], 4);
		stream[n++] = 0x3f800000;
		stream[n++] = 0;
		stream[n++] = 0;
		stream[n++] = 0;
		/* Frame 5's stamp, written inline into pixel (0, 0). */
		stream[n++] = 9 | 12 << 16;
		memcpy(&stream[n], (const uint32_t[]){ 1, 0, 0, 4, 0, 0, 0, 0, 1, 1, 1 }, 44);
		n += 11;
		stream[n++] = vio_stamp(5);
		s = req(VIRTIO_GPU_CMD_SUBMIT_3D, sizeof(*s));
		s->hdr.ctx_id = 1;
		s->hdr.flags = VIRTIO_GPU_FLAG_FENCE;
		s->hdr.fence_id = 42;
		s->size = n * 4;
		cr_assert_eq(chain(0, sizeof(*s), n * 4, 2048), 24);
		cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->type, VIRTIO_GPU_RESP_OK_NODATA);
		cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->fence_id, 42);
	}
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 1, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
	/* Frame 5 of pattern full, read back from the renderer. */
	cr_assert_eq(dev->ops->frame_verify(dev, VIO_GFX_FULL, W, H, 6), 0);
	cr_assert_neq(dev->ops->frame_seen(dev, 5), 0);
	/* Garbage: a stream virglrenderer's decoder refuses, sizes we refuse. */
	memset(stream, 0xff, 64);
	s = req(VIRTIO_GPU_CMD_SUBMIT_3D, sizeof(*s));
	s->hdr.ctx_id = 1;
	s->size = 64;
	cr_assert_eq(chain(0, sizeof(*s), 64, 2048), 24);
	cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->type, VIRTIO_GPU_RESP_ERR_UNSPEC);
	cr_assert_eq(metric("virgl_errors"), 1);
	s->size = 6;
	cr_assert_eq(cmd(sizeof(*s)), VIRTIO_GPU_RESP_ERR_INVALID_PARAMETER, "not whole dwords");
	s->size = 4096;
	cr_assert_eq(chain(0, sizeof(*s), 64, 2048), 24);
	cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->type, VIRTIO_GPU_RESP_ERR_UNSPEC,
		     "longer than the chain");
	s->hdr.ctx_id = 5;
	s->size = 64;
	cr_assert_eq(chain(0, sizeof(*s), 64, 2048), 24);
	cr_assert_eq(((struct virtio_gpu_ctrl_hdr *)gpa(RESP))->type,
		     VIRTIO_GPU_RESP_ERR_INVALID_CONTEXT_ID);
	/* The renderer survived all that. */
	cr_assert_eq(rect_cmd(VIRTIO_GPU_CMD_RESOURCE_FLUSH, 1, 0, 0, W, H), VIRTIO_GPU_RESP_OK_NODATA);
}

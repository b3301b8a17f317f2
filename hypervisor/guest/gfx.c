/*
 * The gfx workload:
 *   gfx dev=emul|pv|virgl pattern=full|rects size=WxH frames=N
 * Frame k of pattern full repaints the whole screen in the frame's
 * colour, of rects a 64x64 square (abi.h); then pixel (0, 0) takes the
 * frame's stamp and the guest keeps the TSC of that write. The VMM checks
 * the last frame it saw against the same pattern, pixel by pixel
 * (frame_mismatches), times each frame from its stamp to the moment the
 * host side had it (the update latency), and saves the last frame as PNG.
 *   emul   bochs-display: the mode through the VBE DISPI registers (BAR2,
 *          as Linux's bochs driver), pixels straight into the linear
 *          framebuffer (BAR0); no exits, the VMM's dirty tracking finds
 *          them at its 60 Hz refresh.
 *   pv     virtio-gpu 2D: pixels into the guest's own backing pages, then
 *          TRANSFER_TO_HOST_2D of what changed and RESOURCE_FLUSH, one kick.
 *   virgl  virtio-gpu 3D: a virgl command stream (SUBMIT_3D) clears the
 *          frame's colour into a render target (full) or into a 64x64
 *          texture blitted into place (rects), writes the stamp inline,
 *          then RESOURCE_FLUSH; the VMM reads the target back.
 */
#include "hypervisor/guest/gpu.h"
#include "hypervisor/guest/virgl.h"

#define MAX_FRAMES	100000
#define GFX_VECTOR	(INTR_MSIX_BASE + 1)
#define DEV_EMUL	1
#define DEV_PV		2
#define DEV_VIRGL	3

static const char *const gfx_args[] = { "dev", "pattern", "size", "frames", NULL };
static const struct arg_choice gfx_devs[] = { { "emul", DEV_EMUL }, { "pv", DEV_PV },
					      { "virgl", DEV_VIRGL }, { 0 } };
static const struct arg_choice patterns[] = { { "full", VIO_GFX_FULL },
					      { "rects", VIO_GFX_RECTS }, { 0 } };
static struct vio_result result;

static void on_tick(uint8_t v) { }

static void dispi(uint64_t regs, unsigned int idx, uint16_t v)
{
	*(volatile uint16_t *)(regs + 0x500 + 2 * idx) = v;
}

/* n pixels of one colour: rep stosl, one instruction for the row. */
static void fill(uint32_t *p, uint32_t color, uint64_t n)
{
	asm volatile("rep stosl" : "+D"(p), "+c"(n) : "a"(color) : "memory");
}

static int parse_size(const char *args, uint32_t *w, uint32_t *h)
{
	char buf[24];
	uint64_t a, b;
	const char *p;

	if (!arg_get(args, "size", buf, sizeof(buf)))
		return 0;
	p = parse_u64(buf, &a);
	if (!p || *p != 'x' || !(p = parse_u64(p + 1, &b)) || *p || a < 64 || b < 64 ||
	    a > 2560 || b > 1600) {
		printf("guest: gfx: size=%s: expected WxH, 64x64..2560x1600\n", buf);
		return -1;
	}
	*w = (uint32_t)a;
	*h = (uint32_t)b;
	return 0;
}


struct gfx {
	int dev, pattern;
	uint32_t w, h;
	uint32_t *fb;			/* emul: the framebuffer BAR; pv: the backing */
	uint32_t *stream;		/* virgl: one frame's command stream */
};

/* Frame k into g->fb as abi.h draws it, the stamp last. */
static void draw(const struct gfx *g, uint64_t k)
{
	uint32_t *fb = g->fb, y;

	if (g->pattern == VIO_GFX_FULL) {
		/* Bottom row first: the last frame's stamp in row 0 stays
		 * on screen until this frame is nearly drawn. */
		for (y = g->h; y-- > 0; )
			fill(fb + (uint64_t)y * g->w, vio_color(k), g->w);
	} else {
		uint32_t x0 = vio_rect_x(k, g->w), y0 = vio_rect_y(k, g->h);

		for (y = 0; y < VIO_RECT; y++)
			fill(fb + (uint64_t)(y0 + y) * g->w + x0, vio_color(k), VIO_RECT);
	}
	*(volatile uint32_t *)fb = vio_stamp(k);	/* the frame is complete */
}

static int emul_setup(struct gfx *g)
{
	struct pci_dev pd;
	uint64_t regs;

	if (pci_find(0x1234, 0x1111, &pd) || !pd.bar[0] || !pd.bar[2]) {
		printf("guest: gfx: no bochs-display; add --gfx emul\n");
		return VIO_ERR_NODEV;
	}
	g->fb = (uint32_t *)pd.bar[0];
	regs = pd.bar[2];
	/* bochs_hw_setmode's order: off, BPP, XRES, YRES, BANK, VIRT_*, offsets, on. */
	dispi(regs, 4, 0);
	dispi(regs, 3, 32);
	dispi(regs, 1, (uint16_t)g->w);
	dispi(regs, 2, (uint16_t)g->h);
	dispi(regs, 5, 0);
	dispi(regs, 6, (uint16_t)g->w);
	dispi(regs, 7, (uint16_t)g->h);
	dispi(regs, 8, 0);
	dispi(regs, 9, 0);
	dispi(regs, 4, 0x41);			/* enabled, linear framebuffer */
	return VIO_OK;
}

static void rect(uint32_t *p, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	p[0] = x;
	p[1] = y;
	p[2] = w;
	p[3] = h;
}

static int gpu_failed(const char *what, uint32_t err)
{
	printf("guest: gfx: virtio-gpu %s: %s 0x%x\n", what,
	       err == 1 ? "no answer" : "error response", err);
	return err == 1 ? VIO_ERR_TIMEOUT : VIO_ERR_DEVICE;
}

/* One mode offered, and it is the workload's size (comparable numbers). */
static int check_mode(const struct gfx *g)
{
	const uint32_t *d;
	uint32_t err;

	ggpu_cmd(GPU_GET_DISPLAY_INFO, 0, 0);
	err = ggpu_submit();
	if (err)
		return gpu_failed("GET_DISPLAY_INFO", err);
	d = ggpu_resp(0) + 6;
	if (!d[4] || d[2] != g->w || d[3] != g->h)
		printf("guest: gfx: the display offers %ux%u; drawing %ux%u\n", d[2], d[3], g->w,
		       g->h);
	return VIO_OK;
}

static int pv_setup(struct gfx *g)
{
	uint64_t bytes = (uint64_t)g->w * g->h * 4;
	uint32_t *c, err;
	int ret = ggpu_init(GFX_VECTOR, 0);

	if (ret) {
		printf("guest: gfx: no virtio-gpu; add --gfx pv\n");
		return VIO_ERR_NODEV;
	}
	ret = check_mode(g);
	if (ret)
		return ret;
	g->fb = guest_alloc(bytes);
	if (!g->fb)
		return VIO_ERR_NOMEM;
	c = ggpu_cmd(GPU_RESOURCE_CREATE_2D, 0, 4);
	c[0] = 1;
	c[1] = GPU_FORMAT_B8G8R8X8;
	c[2] = g->w;
	c[3] = g->h;
	c = ggpu_cmd(GPU_ATTACH_BACKING, 0, 6);	/* one entry: the pages are contiguous */
	c[0] = 1;
	c[1] = 1;
	c[2] = (uint32_t)(uint64_t)g->fb;
	c[3] = (uint32_t)((uint64_t)g->fb >> 32);
	c[4] = (uint32_t)bytes;
	c[5] = 0;
	c = ggpu_cmd(GPU_SET_SCANOUT, 0, 6);
	rect(c, 0, 0, g->w, g->h);
	c[4] = 0;
	c[5] = 1;
	err = ggpu_submit();
	return err ? gpu_failed("setup", err) : VIO_OK;
}

static void transfer(const struct gfx *g, uint32_t x, uint32_t y, uint32_t w, uint32_t h)
{
	uint64_t off = ((uint64_t)y * g->w + x) * 4;
	uint32_t *c = ggpu_cmd(GPU_TRANSFER_TO_HOST_2D, 0, 8);

	rect(c, x, y, w, h);
	c[4] = (uint32_t)off;
	c[5] = (uint32_t)(off >> 32);
	c[6] = 1;
	c[7] = 0;
}

static void flush(uint32_t w, uint32_t h)
{
	uint32_t *c = ggpu_cmd(GPU_RESOURCE_FLUSH, 0, 6);

	rect(c, 0, 0, w, h);
	c[4] = 1;
	c[5] = 0;
}

/* The frame's pixels to the host, then one flush of what changed (the
 * bounding box, as Linux's merged damage clip). */
static uint32_t pv_frame(const struct gfx *g, uint64_t k)
{
	uint32_t x0 = vio_rect_x(k, g->w), y0 = vio_rect_y(k, g->h);

	if (g->pattern == VIO_GFX_FULL) {
		transfer(g, 0, 0, g->w, g->h);
		flush(g->w, g->h);
	} else {
		transfer(g, x0, y0, VIO_RECT, VIO_RECT);
		transfer(g, 0, 0, 1, 1);
		flush(x0 + VIO_RECT, y0 + VIO_RECT);
	}
	return ggpu_submit();
}

#define PIPE_TEXTURE_2D		2
#define BIND_RENDER_TARGET	(1u << 1)
#define BIND_SAMPLER_VIEW	(1u << 3)
#define CTX			1
#define RES_SCREEN		1
#define RES_TILE		2	/* rects: the 64x64 square, blitted into place */

static uint32_t submit(uint32_t *stream, uint32_t *end, uint32_t fw, uint32_t fh)
{
	uint32_t *c = ggpu_cmd(GPU_SUBMIT_3D, CTX, 2);

	c[0] = (uint32_t)((end - stream) * 4);
	c[1] = 0;
	ggpu_cmd_data(stream, c[0]);
	if (fw)
		flush(fw, fh);
	return ggpu_submit();
}

static void create_3d(uint32_t id, uint32_t w, uint32_t h)
{
	uint32_t *c = ggpu_cmd(GPU_RESOURCE_CREATE_3D, CTX, 12);

	memset(c, 0, 48);
	c[0] = id;
	c[1] = PIPE_TEXTURE_2D;
	c[2] = GPU_FORMAT_B8G8R8X8;
	c[3] = BIND_RENDER_TARGET | BIND_SAMPLER_VIEW;
	c[4] = w;
	c[5] = h;
	c[6] = 1;			/* depth */
	c[7] = 1;			/* array size */
	c = ggpu_cmd(GPU_CTX_ATTACH_RESOURCE, CTX, 2);
	c[0] = id;
	c[1] = 0;
}

static int virgl_setup(struct gfx *g)
{
	uint32_t *c, *p, err;
	int ret = ggpu_init(GFX_VECTOR, 1);

	if (ret) {
		printf("guest: gfx: %s; add --gfx pv:virgl\n",
		       ret == -2 ? "virtio-gpu without VIRGL" : "no virtio-gpu");
		return VIO_ERR_NODEV;
	}
	ret = check_mode(g);
	if (ret)
		return ret;
	g->stream = guest_alloc(4096);
	if (!g->stream)
		return VIO_ERR_NOMEM;
	c = ggpu_cmd(GPU_CTX_CREATE, CTX, 18);
	memset(c, 0, 72);
	c[0] = 8;
	memcpy(c + 2, "vioscope", 8);
	create_3d(RES_SCREEN, g->w, g->h);
	create_3d(RES_TILE, VIO_RECT, VIO_RECT);
	err = ggpu_submit();
	if (err)
		return gpu_failed("3D setup", err);
	c = ggpu_cmd(GPU_SET_SCANOUT, 0, 6);
	rect(c, 0, 0, g->w, g->h);
	c[4] = 0;
	c[5] = RES_SCREEN;
	/* Surfaces on both, and the screen cleared (textures start undefined). */
	p = virgl__surface(g->stream, 1, RES_SCREEN, GPU_FORMAT_B8G8R8X8);
	p = virgl__surface(p, 2, RES_TILE, GPU_FORMAT_B8G8R8X8);
	p = virgl__set_framebuffer(p, 1);
	p = virgl__clear(p, 0);
	err = submit(g->stream, p, 0, 0);
	return err ? gpu_failed("3D setup", err) : VIO_OK;
}

/* Frame k as a stream; the stamp goes in inline, after the drawing. */
static uint32_t virgl_frame(const struct gfx *g, uint64_t k, uint64_t *tsc)
{
	uint32_t *p = g->stream, x0 = vio_rect_x(k, g->w), y0 = vio_rect_y(k, g->h);

	if (g->pattern == VIO_GFX_FULL) {
		p = virgl__set_framebuffer(p, 1);
		p = virgl__clear(p, vio_color(k));
	} else {
		p = virgl__set_framebuffer(p, 2);
		p = virgl__clear(p, vio_color(k));
		p = virgl__blit(p, RES_SCREEN, x0, y0, RES_TILE, VIO_RECT, VIO_RECT,
				GPU_FORMAT_B8G8R8X8);
	}
	p = virgl__write_pixel(p, RES_SCREEN, 0, 0, vio_stamp(k));
	*tsc = rdtsc();
	return g->pattern == VIO_GFX_FULL ? submit(g->stream, p, g->w, g->h)
					  : submit(g->stream, p, x0 + VIO_RECT, y0 + VIO_RECT);
}

int gfx_run(const char *args, const struct vio_boot_info *bi)
{
	struct gfx g = { DEV_EMUL, VIO_GFX_FULL, 1280, 720, 0, 0 };
	uint64_t frames = 60, *lat, k;
	uint32_t err = 0;
	int ret;

	if (arg_check("gfx", args, gfx_args) ||
	    arg_choose("gfx", args, "dev", gfx_devs, &g.dev) < 0 ||
	    arg_choose("gfx", args, "pattern", patterns, &g.pattern) < 0 ||
	    arg_u64("gfx", args, "frames", 1, MAX_FRAMES, &frames) < 0 ||
	    parse_size(args, &g.w, &g.h))
		return VIO_ERR_WORKLOAD;
	lat = guest_alloc(frames * sizeof(uint64_t));
	if (!lat) {
		printf("guest: gfx: buffers do not fit in RAM\n");
		return VIO_ERR_NOMEM;
	}
	if (g.dev != DEV_EMUL) {
		intr_set_handler(INTR_WATCHDOG, on_tick);
		lapic_timer_periodic(100000000u);	/* the driver's waits end on it */
	}
	ret = g.dev == DEV_EMUL ? emul_setup(&g) : g.dev == DEV_PV ? pv_setup(&g) : virgl_setup(&g);
	if (ret)
		goto out;
	result = (struct vio_result){ .magic = VIO_RESULT_MAGIC, .kind = VIO_GFX };
	outl(VIO_CTL_BEGIN, 0);
	result.tsc_start = rdtsc();
	for (k = 0; k < frames && !err; k++) {
		if (g.dev == DEV_VIRGL) {
			err = virgl_frame(&g, k, &lat[k]);
			continue;
		}
		draw(&g, k);
		lat[k] = rdtsc();
		if (g.dev == DEV_PV)
			err = pv_frame(&g, k);
	}
	result.tsc_end = rdtsc();
	if (err) {
		ret = gpu_failed("frame", err);
		goto out;
	}
	result.ops = frames;
	result.measured = (struct vio_samples){ (uint64_t)lat, frames };
	result.gfx = (struct vio_gfx){ (uint32_t)g.pattern, g.w, g.h,
				       g.dev == DEV_EMUL ? VIO_GFX_EMUL :
				       g.dev == DEV_VIRGL ? VIO_GFX_VIRGL : 0, frames };
	result.space = g.dev == DEV_EMUL ? VIO_SPACE_MMIO : VIO_SPACE_NONE;
	outl(VIO_CTL_RESULT, (uint32_t)(uint64_t)&result);
	printf("guest: gfx%s: %lu frames\n", args, frames);
out:
	if (g.dev != DEV_EMUL)
		lapic_timer_stop();
	return ret;
}

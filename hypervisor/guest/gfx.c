/*
 * The gfx workload on the emulated display (bochs-display):
 *   gfx dev=emul pattern=full|rects size=WxH frames=N
 * The guest sets the mode through the VBE DISPI registers (BAR2, as
 * Linux's bochs driver) and draws N frames into the linear framebuffer
 * (BAR0): pattern full repaints the whole screen in the frame's colour,
 * rects a 64x64 square (abi.h), then stamps pixel (0, 0) with the frame
 * number and keeps its TSC. Framebuffer writes do not exit: the cost is
 * the VMM's dirty tracking and copying at each display refresh. The VMM
 * checks the last frame it saw against the same pattern, pixel by pixel
 * (frame_mismatches), times each frame from its stamp to the refresh that
 * showed it (the update latency), and saves the last frame as PNG.
 */
#include "hypervisor/guest/guest.h"

#define MAX_FRAMES	100000

static const char *const gfx_args[] = { "dev", "pattern", "size", "frames", NULL };
static const struct arg_choice gfx_devs[] = { { "emul", 1 }, { 0 } };
static const struct arg_choice patterns[] = { { "full", VIO_GFX_FULL },
					      { "rects", VIO_GFX_RECTS }, { 0 } };
static struct vio_result result;

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

int gfx_run(const char *args, const struct vio_boot_info *bi)
{
	uint64_t frames = 60, *lat, k;
	uint32_t w = 1280, h = 720, y;
	int dev = 1, pattern = VIO_GFX_FULL;
	struct pci_dev pd;
	uint32_t *fb;
	uint64_t regs;

	if (arg_check("gfx", args, gfx_args) ||
	    arg_choose("gfx", args, "dev", gfx_devs, &dev) < 0 ||
	    arg_choose("gfx", args, "pattern", patterns, &pattern) < 0 ||
	    arg_u64("gfx", args, "frames", 1, MAX_FRAMES, &frames) < 0 || parse_size(args, &w, &h))
		return VIO_ERR_WORKLOAD;
	if (pci_find(0x1234, 0x1111, &pd) || !pd.bar[0] || !pd.bar[2]) {
		printf("guest: gfx: no bochs-display; add --gfx emul\n");
		return VIO_ERR_NODEV;
	}
	fb = (uint32_t *)pd.bar[0];
	regs = pd.bar[2];
	lat = guest_alloc(frames * sizeof(uint64_t));
	if (!lat) {
		printf("guest: gfx: buffers do not fit in RAM\n");
		return VIO_ERR_NOMEM;
	}
	/* bochs_hw_setmode's order: off, BPP, XRES, YRES, BANK, VIRT_*, offsets, on. */
	dispi(regs, 4, 0);
	dispi(regs, 3, 32);
	dispi(regs, 1, (uint16_t)w);
	dispi(regs, 2, (uint16_t)h);
	dispi(regs, 5, 0);
	dispi(regs, 6, (uint16_t)w);
	dispi(regs, 7, (uint16_t)h);
	dispi(regs, 8, 0);
	dispi(regs, 9, 0);
	dispi(regs, 4, 0x41);			/* enabled, linear framebuffer */
	result = (struct vio_result){ .magic = VIO_RESULT_MAGIC, .kind = VIO_GFX };
	outl(VIO_CTL_BEGIN, 0);
	result.tsc_start = rdtsc();
	for (k = 0; k < frames; k++) {
		if (pattern == VIO_GFX_FULL) {
			/* Bottom row first: the last frame's stamp in row 0 stays
			 * on screen until this frame is nearly drawn. */
			for (y = h; y-- > 0; )
				fill(fb + (uint64_t)y * w, vio_color(k), w);
		} else {
			uint32_t x0 = vio_rect_x(k, w), y0 = vio_rect_y(k, h);

			for (y = 0; y < VIO_RECT; y++)
				fill(fb + (uint64_t)(y0 + y) * w + x0, vio_color(k), VIO_RECT);
		}
		*(volatile uint32_t *)fb = vio_stamp(k);	/* the frame is complete */
		lat[k] = rdtsc();
	}
	result.tsc_end = rdtsc();
	result.ops = frames;
	result.measured = (struct vio_samples){ (uint64_t)lat, frames };
	result.gfx = (struct vio_gfx){ (uint32_t)pattern, w, h, VIO_GFX_EMUL, frames };
	result.space = VIO_SPACE_MMIO;
	outl(VIO_CTL_RESULT, (uint32_t)(uint64_t)&result);
	printf("guest: gfx%s: %lu frames\n", args, frames);
	return VIO_OK;
}

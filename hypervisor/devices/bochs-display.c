/*
 * bochs-display (PCI 1234:1111), the emulated display of the comparison,
 * compatible with Linux's bochs DRM driver: a linear framebuffer in BAR0
 * and, in BAR2, an EDID block (0x000), the VBE DISPI registers (0x500,
 * 16-bit, "bochs VBE" interface: ID, XRES, YRES, BPP, ENABLE, BANK,
 * VIRT_WIDTH/HEIGHT, X/Y_OFFSET, VIDEO_MEMORY_64K) and QEMU's extension
 * registers (0x600: size, byte order). The EDID offers one mode, so every
 * display mode of the comparison renders at the same resolution.
 *
 * The framebuffer is host memory mapped into the guest as a KVM memory
 * slot with dirty logging: guest writes do not exit, and 60 times a second
 * the display's refresh asks KVM which pages changed (KVM_GET_DIRTY_LOG)
 * and copies those of the visible frame into its shadow: the cost that
 * real emulation pays, measured as dirty pages and copy time per frame.
 * Where the slot cannot be mapped (no KVM) the BAR traps and the model
 * keeps the dirty bitmap itself. The last frame can be saved as PNG.
 *
 *   --gfx emul[:mode=1280x720][,capture=FILE.png]
 */
#include <cJSON.h>
#include <errno.h>
#include <linux/kvm.h>
#include <png.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "hypervisor/pci.h"
#include "lib/clock.h"
#include "lib/log.h"

#define FB_BAR		0
#define MMIO_BAR	2
#define FB_SIZE		(16u << 20)	/* QEMU's default vgamem */
#define PAGE		4096u
#define FB_PAGES	(FB_SIZE / PAGE)
#define REFRESH_NS	16666667	/* 60 Hz */
#define MAX_STAMPS	(1u << 17)	/* frames of one gfx run that get a time */

/* BAR2 layout (QEMU's include/hw/display/bochs-vbe.h) */
#define EDID_OFF	0x000		/* then VGA ioports at 0x400: read 0, writes ignored */
#define DISPI_OFF	0x500
#define QEXT_OFF	0x600
#define QEXT_SIZE	8
#define QEXT_LE		0x1e1e1e1e

enum {
	VBE_ID, VBE_XRES, VBE_YRES, VBE_BPP, VBE_ENABLE, VBE_BANK, VBE_VIRT_WIDTH,
	VBE_VIRT_HEIGHT, VBE_X_OFFSET, VBE_Y_OFFSET, VBE_NB,
	VBE_VIDEO_MEMORY_64K = VBE_NB,
};
#define VBE_ID5		0xb0c5
#define VBE_ENABLED	0x01
#define VBE_LFB		0x40
#define VBE_NOCLEARMEM	0x80
#define MAX_XRES	4096
#define MAX_YRES	4096

struct bochs {
	struct device *dev;
	struct kvm *kvm;
	pthread_mutex_t lock;
	struct pci_device pci;
	uint8_t *fb;
	int slot;			/* KVM slot of BAR0, or -1: the BAR traps */
	uint64_t bitmap[FB_PAGES / 64];	/* dirty pages: KVM's, or ours when trapped */
	uint16_t vbe[VBE_NB];
	uint8_t edid[128];
	uint32_t mode_w, mode_h;	/* the one mode the EDID offers */
	uint8_t *shadow;		/* the visible frame as the host last saw it */
	int timer_fd;
	uint64_t *seen;			/* host ns each stamp was first shown, by frame */
	uint32_t last_stamp;
	char capture[256];
	struct metric_counter *frames, *dirty_pages, *bad_modes, *reg_writes, *refreshes;
	struct metric_counter *dirty_log_errors;
	struct metric_latency *refresh_ns, *pages_per_frame;
};

/* The EDID 1.4 of a display with one mode, w x h at 60 Hz (VESA E-EDID). */
static void edid_build(uint8_t *e, uint32_t w, uint32_t h)
{
	static const uint8_t header[8] = { 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0 };
	uint32_t hb = 160, vb = 30, clock = (w + hb) * (h + vb) * 60 / 10000, i, sum = 0;
	uint8_t *d = e + 54;

	memset(e, 0, 128);
	memcpy(e, header, 8);
	e[8] = 0x5a;			/* manufacturer "VIO" (5-bit letters) */
	e[9] = 0xef;
	e[10] = 0x01;			/* product */
	e[16] = 1;			/* week */
	e[17] = 35;			/* 2025 */
	e[18] = 1;			/* EDID 1.4 */
	e[19] = 4;
	e[20] = 0xa5;			/* digital, 8 bits, DisplayPort */
	e[21] = (uint8_t)(w / 40);	/* size in cm, roughly */
	e[22] = (uint8_t)(h / 40);
	e[23] = 120;			/* gamma 2.2 */
	e[24] = 0x06;			/* sRGB, preferred timing native */
	memset(e + 38, 0x01, 16);	/* no standard timings */
	/* Detailed timing descriptor (3.10.2): the one mode. */
	d[0] = (uint8_t)clock;
	d[1] = (uint8_t)(clock >> 8);
	d[2] = (uint8_t)w;
	d[3] = (uint8_t)hb;
	d[4] = (uint8_t)((w >> 8) << 4 | hb >> 8);
	d[5] = (uint8_t)h;
	d[6] = (uint8_t)vb;
	d[7] = (uint8_t)((h >> 8) << 4 | vb >> 8);
	d[8] = 48;			/* hsync offset */
	d[9] = 32;			/* hsync width */
	d[10] = 3 << 4 | 5;		/* vsync offset, width */
	d[17] = 0x1a;			/* digital separate sync */
	/* Display product name descriptor. */
	d = e + 72;
	d[3] = 0xfc;
	memcpy(d + 5, "vioscope\n    ", 13);
	/* Dummy descriptors for the last two. */
	e[90 + 3] = 0x10;
	e[108 + 3] = 0x10;
	for (i = 0; i < 127; i++)
		sum += e[i];
	e[127] = (uint8_t)(256 - sum % 256);
}

/* The visible frame's bytes: [*start, *start + *len) of the framebuffer. */
static void visible(const struct bochs *b, uint64_t *start, uint64_t *len, uint64_t *pitch)
{
	*pitch = (uint64_t)b->vbe[VBE_VIRT_WIDTH] * 4;
	*start = (uint64_t)b->vbe[VBE_Y_OFFSET] * *pitch + (uint64_t)b->vbe[VBE_X_OFFSET] * 4;
	*len = *pitch * b->vbe[VBE_YRES];
}

static bool mode_valid(const struct bochs *b)
{
	uint32_t w = b->vbe[VBE_XRES], h = b->vbe[VBE_YRES];
	uint64_t start, len, pitch;

	visible(b, &start, &len, &pitch);
	return (b->vbe[VBE_ENABLE] & VBE_ENABLED) && b->vbe[VBE_BPP] == 32 && w && h &&
	       w <= MAX_XRES && h <= MAX_YRES && b->vbe[VBE_VIRT_WIDTH] >= w &&
	       start + len <= FB_SIZE;
}

/* One display refresh: the dirty pages of the visible frame into the
 * shadow. Returns the pages copied. */
static unsigned int refresh(struct bochs *b)
{
	uint64_t start, len, pitch, t0 = now_ns();
	unsigned int p, first, last, n = 0;

	counter__inc(b->refreshes);
	if (b->slot >= 0) {
		int ret = kvm__dirty_log(b->kvm, b->slot, b->bitmap);

		if (ret) {	/* this refresh copies every page; counted */
			pr_warn_ratelimited("%s: KVM_GET_DIRTY_LOG: %s: every page counts as dirty",
					    b->dev->name, strerror(-ret));
			counter__inc(b->dirty_log_errors);
			memset(b->bitmap, 0xff, sizeof(b->bitmap));
		}
	}
	if (!mode_valid(b))
		goto out;
	visible(b, &start, &len, &pitch);
	first = (unsigned int)(start / PAGE);
	last = (unsigned int)((start + len - 1) / PAGE);
	for (p = first; p <= last; p++) {
		uint64_t lo, hi;

		if (!(b->bitmap[p / 64] & (1ull << (p % 64))))
			continue;
		lo = (uint64_t)p * PAGE < start ? start : (uint64_t)p * PAGE;
		hi = (uint64_t)(p + 1) * PAGE > start + len ? start + len : (uint64_t)(p + 1) * PAGE;
		memcpy(b->shadow + (lo - start), b->fb + lo, hi - lo);
		n++;
	}
	if (n) {
		uint32_t px;

		/* The gfx workload's stamp in pixel (0, 0): its frame is now
		 * on the screen (abi.h). */
		memcpy(&px, b->shadow, 4);
		px &= 0xffffff;
		if (px != b->last_stamp && (px & 0x800000) && (px & 0x7fffff) < MAX_STAMPS &&
		    !b->seen[px & 0x7fffff])
			b->seen[px & 0x7fffff] = now_ns();
		b->last_stamp = px;
		counter__inc(b->frames);
		counter__add(b->dirty_pages, n);
		latency__record(b->pages_per_frame, n);
		latency__record(b->refresh_ns, now_ns() - t0);
	}
out:
	memset(b->bitmap, 0, sizeof(b->bitmap));
	return n;
}

static void on_timer(void *opaque, int fd, uint32_t events)
{
	struct bochs *b = opaque;
	uint64_t ticks;

	if (read(fd, &ticks, sizeof(ticks)) != sizeof(ticks))
		return;
	pthread_mutex_lock(&b->lock);
	refresh(b);
	pthread_mutex_unlock(&b->lock);
}

static void dispi_write(struct bochs *b, unsigned int idx, uint16_t v)
{
	switch (idx) {
	case VBE_ENABLE: {
		bool was = b->vbe[VBE_ENABLE] & VBE_ENABLED;

		b->vbe[VBE_ENABLE] = v & (VBE_ENABLED | VBE_LFB | VBE_NOCLEARMEM);
		if ((v & VBE_ENABLED) && !was) {
			/* A mode set: the virtual width follows XRES (as
			 * QEMU does), the screen clears unless told not to. */
			if (b->vbe[VBE_VIRT_WIDTH] < b->vbe[VBE_XRES])
				b->vbe[VBE_VIRT_WIDTH] = b->vbe[VBE_XRES];
			if (!mode_valid(b)) {
				counter__inc(b->bad_modes);
				break;
			}
			if (!(v & VBE_NOCLEARMEM))
				memset(b->fb, 0, (uint64_t)b->vbe[VBE_VIRT_WIDTH] * 4 * b->vbe[VBE_YRES]);
			memset(b->shadow, 0, FB_SIZE);
			memset(b->bitmap, 0xff, sizeof(b->bitmap));	/* a full frame next */
			memset(b->seen, 0, MAX_STAMPS * sizeof(b->seen[0]));	/* a new run */
			b->last_stamp = 0;
		}
		break;
	}
	case VBE_BANK:			/* no banked window: LFB only */
	case VBE_VIDEO_MEMORY_64K:	/* read-only */
		break;
	default:			/* checked when the mode is enabled */
		b->vbe[idx] = v;
		break;
	}
}

static void mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct bochs *b = opaque;
	uint32_t v = 0;

	if (len > 4) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		memcpy(&v, data, len);
	pthread_mutex_lock(&b->lock);
	if (off + len <= EDID_OFF + sizeof(b->edid)) {
		if (!is_write)
			memcpy(&v, b->edid + off, len);
	} else if (off >= DISPI_OFF && off < DISPI_OFF + 2 * (VBE_NB + 1) && len == 2 && !(off & 1)) {
		unsigned int idx = (unsigned int)(off - DISPI_OFF) / 2;

		if (is_write) {
			counter__inc(b->reg_writes);
			dispi_write(b, idx, (uint16_t)v);
		} else {
			v = idx == VBE_VIDEO_MEMORY_64K ? FB_SIZE / 65536
			  : idx == VBE_ID ? VBE_ID5 : b->vbe[idx];
		}
	} else if (off == QEXT_OFF && len == 4 && !is_write) {
		v = QEXT_SIZE;
	} else if (off == QEXT_OFF + 4 && len == 4 && !is_write) {
		v = QEXT_LE;		/* little-endian only: writes ignored */
	}
	pthread_mutex_unlock(&b->lock);
	if (!is_write)
		memcpy(data, &v, len);
}

/* The framebuffer when it traps (no KVM slot): the model tracks dirt. */
static void fb_mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct bochs *b = opaque;

	if (off + len > FB_SIZE || len > 8) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&b->lock);
	if (is_write) {
		memcpy(b->fb + off, data, len);
		b->bitmap[off / PAGE / 64] |= 1ull << (off / PAGE % 64);
		b->bitmap[(off + len - 1) / PAGE / 64] |= 1ull << ((off + len - 1) / PAGE % 64);
	} else {
		memcpy(data, b->fb + off, len);
	}
	pthread_mutex_unlock(&b->lock);
}

static void bar_moved(struct pci_device *pdev, int idx, uint64_t old_addr, uint64_t new_addr)
{
	struct bochs *b = pdev->priv;

	(void)old_addr;
	if (idx != FB_BAR)
		return;
	/* Under the lock: a refresh must not ask for the log of a slot
	 * that is going away (Linux toggles decoding while it probes). */
	pthread_mutex_lock(&b->lock);
	if (b->slot >= 0)
		kvm__unmap_user(b->kvm, b->slot);
	b->slot = -1;
	if (new_addr)
		b->slot = kvm__map_user_flags(b->kvm, new_addr, FB_SIZE, b->fb, KVM_MEM_LOG_DIRTY_PAGES);
	if (b->slot < 0)
		b->slot = -1;	/* the BAR traps: fb_mmio */
	memset(b->bitmap, 0xff, sizeof(b->bitmap));	/* writes while it moved */
	pthread_mutex_unlock(&b->lock);
}

/* The shadow (the last frame the host saw) as an RGB PNG. */
static int capture_png(struct bochs *b, const char *path)
{
	uint32_t w = b->vbe[VBE_XRES], h = b->vbe[VBE_YRES], x, y;
	uint64_t pitch = (uint64_t)b->vbe[VBE_VIRT_WIDTH] * 4;
	png_structp png = NULL;
	png_infop info = NULL;
	uint8_t *volatile row = NULL;	/* volatile: live across libpng's longjmp */
	FILE *f;
	volatile int ret = -EIO;

	if (!mode_valid(b))
		return -ENODATA;
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
	info = png ? png_create_info_struct(png) : NULL;
	row = malloc((size_t)w * 3);
	if (!png || !info || !row || setjmp(png_jmpbuf(png)))
		goto out;
	png_init_io(png, f);
	png_set_IHDR(png, info, w, h, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
		     PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
	png_write_info(png, info);
	for (y = 0; y < h; y++) {
		const uint8_t *px = b->shadow + y * pitch;

		for (x = 0; x < w; x++) {	/* XRGB8888 little-endian: B, G, R, X */
			row[3 * x] = px[4 * x + 2];
			row[3 * x + 1] = px[4 * x + 1];
			row[3 * x + 2] = px[4 * x];
		}
		png_write_row(png, row);
	}
	png_write_end(png, NULL);
	ret = 0;
out:
	png_destroy_write_struct(&png, &info);
	free((uint8_t *)row);
	if (fclose(f) && !ret)
		ret = -errno;
	return ret;
}

static int parse_args(struct bochs *b, const char *args)
{
	char copy[320], *save, *tok;

	b->mode_w = 1280;
	b->mode_h = 720;
	snprintf(copy, sizeof(copy), "%s", args ? args : "");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strncmp(tok, "mode=", 5)) {
			if (sscanf(tok + 5, "%ux%u", &b->mode_w, &b->mode_h) != 2 || b->mode_w < 64 ||
			    b->mode_h < 64 || b->mode_w > 2560 || b->mode_h > 1600 ||
			    (uint64_t)b->mode_w * b->mode_h * 4 > FB_SIZE)
				return -1;
		} else if (!strncmp(tok, "capture=", 8)) {
			snprintf(b->capture, sizeof(b->capture), "%s", tok + 8);
		} else {
			return -1;
		}
	}
	return 0;
}

static int bochs__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct bochs *b = calloc(1, sizeof(*b));
	struct itimerspec t = { { 0, REFRESH_NS }, { 0, REFRESH_NS } };
	int ret;

	if (!b)
		return -ENOMEM;
	dev->priv = b;
	b->dev = dev;
	b->kvm = kvm;
	b->slot = -1;
	b->timer_fd = -1;
	pthread_mutex_init(&b->lock, NULL);
	if (parse_args(b, args)) {
		pr_err("--gfx emul:%s: expected [mode=WxH (64x64..2560x1600)][,capture=FILE.png]",
		       args);
		return -EINVAL;
	}
	b->fb = mmap(NULL, FB_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b->shadow = calloc(1, FB_SIZE);		/* a visible frame fits in the framebuffer */
	b->seen = calloc(MAX_STAMPS, sizeof(b->seen[0]));
	if (b->fb == MAP_FAILED || !b->shadow || !b->seen) {
		b->fb = NULL;
		return -ENOMEM;
	}
	edid_build(b->edid, b->mode_w, b->mode_h);
	b->frames = metrics__counter(&dev->metrics, "frames");
	b->dirty_pages = metrics__counter(&dev->metrics, "dirty_pages");
	b->bad_modes = metrics__counter(&dev->metrics, "bad_modes");
	b->reg_writes = metrics__counter(&dev->metrics, "register_writes");
	b->refreshes = metrics__counter(&dev->metrics, "refreshes");
	b->dirty_log_errors = metrics__counter(&dev->metrics, "dirty_log_errors");
	b->refresh_ns = metrics__latency(&dev->metrics, "frame_copy_ns");
	b->pages_per_frame = metrics__latency(&dev->metrics, "dirty_pages_per_frame");

	/* Bochs' IDs (1234:1111), class 03/80 (other display) as QEMU's. */
	pci__device_init(&b->pci, dev->name, 0x1234, 0x1111, 0x038000);
	b->pci.priv = b;
	b->pci.bar_moved = bar_moved;
	ret = pci__add_bar(&b->pci, FB_BAR, FB_SIZE, false, fb_mmio, b);
	if (!ret)
		ret = pci__add_bar(&b->pci, MMIO_BAR, 0x1000, false, mmio, b);
	if (!ret)
		ret = pci__register(&kvm->pci, &b->pci);
	if (ret)
		return ret;
	if (kvm->evloop) {
		b->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (b->timer_fd < 0 || timerfd_settime(b->timer_fd, 0, &t, NULL) ||
		    evloop__add(kvm->evloop, b->timer_fd, EPOLLIN, on_timer, b))
			return -errno;
	}
	return 0;
}

static void bochs__sync(struct device *dev)
{
	struct bochs *b = dev->priv;

	pthread_mutex_lock(&b->lock);
	refresh(b);			/* the guest's last writes reach the shadow */
	pthread_mutex_unlock(&b->lock);
}

/* The gfx workload's last frame, replayed (abi.h), against the shadow. */
static int64_t bochs__frame_verify(struct device *dev, uint32_t pattern, uint32_t w, uint32_t h,
				   uint64_t frames)
{
	struct bochs *b = dev->priv;
	uint64_t pitch, start, len, k, bad = 0;
	uint32_t *want, x, y;

	pthread_mutex_lock(&b->lock);
	refresh(b);
	if (!frames || !mode_valid(b) || b->vbe[VBE_XRES] != w || b->vbe[VBE_YRES] != h ||
	    w < VIO_RECT || h < VIO_RECT || !(want = calloc((size_t)w * h, 4))) {
		pthread_mutex_unlock(&b->lock);
		return -1;
	}
	visible(b, &start, &len, &pitch);
	if (pattern == VIO_GFX_FULL) {
		for (x = 0; x < w * h; x++)
			want[x] = vio_color(frames - 1);
	} else {
		for (k = 0; k < frames; k++)
			for (y = 0; y < VIO_RECT; y++)
				for (x = 0; x < VIO_RECT; x++)
					want[(vio_rect_y(k, h) + y) * w + vio_rect_x(k, w) + x] =
						vio_color(k);
	}
	want[0] = vio_stamp(frames - 1);
	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++) {
			uint32_t px;

			memcpy(&px, b->shadow + y * pitch + 4 * x, 4);
			bad += (px & 0xffffff) != want[y * w + x];
		}
	pthread_mutex_unlock(&b->lock);
	free(want);
	return (int64_t)bad;
}

static uint64_t bochs__frame_seen(struct device *dev, uint64_t frame)
{
	struct bochs *b = dev->priv;
	uint64_t t;

	pthread_mutex_lock(&b->lock);
	t = frame < MAX_STAMPS ? b->seen[frame] : 0;
	pthread_mutex_unlock(&b->lock);
	return t;
}

static void bochs__exit(struct device *dev)
{
	struct bochs *b = dev->priv;
	int ret;

	if (!b)
		return;
	if (b->timer_fd >= 0) {
		if (dev->kvm->evloop)
			evloop__del(dev->kvm->evloop, b->timer_fd);
		close(b->timer_fd);
	}
	if (b->fb && b->capture[0]) {
		pthread_mutex_lock(&b->lock);
		refresh(b);
		ret = capture_png(b, b->capture);
		pthread_mutex_unlock(&b->lock);
		if (ret)
			pr_warn("%s: no frame saved to %s: %s", dev->name, b->capture,
				ret == -ENODATA ? "no valid mode set" : strerror(-ret));
	}
	if (b->fb)
		munmap(b->fb, FB_SIZE);
	free(b->shadow);
	free(b->seen);
	free(b);
}

static void bochs__to_json(struct device *dev, cJSON *obj)
{
	struct bochs *b = dev->priv;

	pthread_mutex_lock(&b->lock);
	cJSON_AddNumberToObject(obj, "xres", b->vbe[VBE_XRES]);
	cJSON_AddNumberToObject(obj, "yres", b->vbe[VBE_YRES]);
	cJSON_AddNumberToObject(obj, "bpp", b->vbe[VBE_BPP]);
	cJSON_AddBoolToObject(obj, "enabled", mode_valid(b));
	cJSON_AddStringToObject(obj, "dirty_tracking",
				b->slot < 0 ? "trapped framebuffer" : "KVM_GET_DIRTY_LOG");
	pthread_mutex_unlock(&b->lock);
}

static const struct device_ops bochs_ops = {
	.name = "bochs-display",
	.help = "emulated display: bochs-display, framebuffer with dirty logging (--gfx emul)",
	.init = bochs__init,
	.exit = bochs__exit,
	.sync = bochs__sync,
	.frame_verify = bochs__frame_verify,
	.frame_seen = bochs__frame_seen,
	.to_json = bochs__to_json,
};
device_register(bochs_ops);

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
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/display.h"
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
	struct display disp;		/* the visible frame as the host last saw it */
	int timer_fd;
	char capture[256];
	struct metric_counter *frames, *dirty_pages, *bad_modes, *reg_writes, *refreshes;
	struct metric_counter *dirty_log_errors;
	struct metric_latency *refresh_ns, *pages_per_frame;
};

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
	if (!b->disp.on || b->disp.width != b->vbe[VBE_XRES] ||
	    b->disp.height != b->vbe[VBE_YRES] || b->disp.pitch != pitch) {
		/* A mode set, or the guest moved the geometry under an enabled
		 * mode: the shadow follows, and the whole frame is copied. */
		if (display__set_mode(&b->disp, b->vbe[VBE_XRES], b->vbe[VBE_YRES], pitch))
			goto out;
		memset(b->bitmap, 0xff, sizeof(b->bitmap));
	}
	first = (unsigned int)(start / PAGE);
	last = (unsigned int)((start + len - 1) / PAGE);
	for (p = first; p <= last; p++) {
		uint64_t lo, hi;

		if (!(b->bitmap[p / 64] & (1ull << (p % 64))))
			continue;
		lo = (uint64_t)p * PAGE < start ? start : (uint64_t)p * PAGE;
		hi = (uint64_t)(p + 1) * PAGE > start + len ? start + len : (uint64_t)(p + 1) * PAGE;
		memcpy(b->disp.shadow + (lo - start), b->fb + lo, hi - lo);
		n++;
	}
	if (n) {
		display__shown(&b->disp);
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
			display__off(&b->disp);	/* the next refresh starts a new run */
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

static int parse_args(struct bochs *b, const char *args)
{
	char copy[320], *save, *tok;

	b->mode_w = 1280;
	b->mode_h = 720;
	snprintf(copy, sizeof(copy), "%s", args ? args : "");
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (display__parse_option(tok, &b->mode_w, &b->mode_h, b->capture,
					  sizeof(b->capture)))
			return -1;
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
	if (b->fb == MAP_FAILED || display__init(&b->disp)) {
		b->fb = NULL;
		return -ENOMEM;
	}
	display__edid(b->edid, b->mode_w, b->mode_h);
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
	int64_t bad = -1;

	pthread_mutex_lock(&b->lock);
	refresh(b);
	if (mode_valid(b))
		bad = display__verify(&b->disp, pattern, w, h, frames);
	pthread_mutex_unlock(&b->lock);
	return bad;
}

static uint64_t bochs__frame_seen(struct device *dev, uint64_t frame)
{
	struct bochs *b = dev->priv;
	uint64_t t;

	pthread_mutex_lock(&b->lock);
	t = display__seen(&b->disp, frame);
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
		ret = display__capture_png(&b->disp, b->capture);
		pthread_mutex_unlock(&b->lock);
		if (ret)
			pr_warn("%s: no frame saved to %s: %s", dev->name, b->capture,
				ret == -ENODATA ? "no frame was shown" : strerror(-ret));
	}
	if (b->fb)
		munmap(b->fb, FB_SIZE);
	display__exit(&b->disp);
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

/*
 * bochs-display driven as Linux's bochs driver drives it: the DISPI ID and
 * memory size, the EDID (one mode, a valid block), a mode set, then pixels
 * written to the framebuffer; a refresh copies the dirty pages of the
 * visible frame and the PNG capture holds exactly what was written. With
 * no KVM here the framebuffer BAR traps and the model keeps its own dirty
 * bitmap (under vioscope-vmm it is a KVM slot with dirty logging). Mode
 * registers out of range are refused, counted.
 */
#include <criterion/criterion.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "tests/helpers.h"

static struct kvm *kvm;
static struct device *dev;
static uint64_t fb, regs;
static char png_path[] = "/tmp/vioscope-bochs-XXXXXX";

static uint32_t rd(uint32_t off, uint32_t len) { return test_mmio_read(kvm, regs + off, len); }
static void dispi(unsigned int idx, uint16_t v) { test_mmio_write(kvm, regs + 0x500 + 2 * idx, v, 2); }
static uint64_t metric(const char *name) { return metrics__value(&dev->metrics, name); }

static void setup(void)
{
	char args[96];
	int fd = mkstemp(png_path);

	log_level = LOG_ERR - 1;
	close(fd);
	kvm = test_fake_kvm_with_ram(1 << 20);
	snprintf(args, sizeof(args), "mode=320x200,capture=%s", png_path);
	dev = device__create(kvm, "bochs-display", args);
	cr_assert_not_null(dev);
	fb = pci__bar_address(kvm->pci.slots[0], 0);
	regs = pci__bar_address(kvm->pci.slots[0], 2);
	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], 0), 0x1234);
	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], 2), 0x1111);
}

static void teardown(void)
{
	if (kvm) {
		device__destroy_all(kvm);
		test_fake_kvm_free(kvm);
	}
	unlink(png_path);
}

TestSuite(bochs_display, .init = setup, .fini = teardown);

/* Linux's bochs_hw_setmode: disable, BPP, XRES, YRES, BANK, VIRT_WIDTH,
 * VIRT_HEIGHT, offsets, enable with the linear framebuffer. */
static void set_mode(uint16_t w, uint16_t h)
{
	dispi(4, 0);
	dispi(3, 32);
	dispi(1, w);
	dispi(2, h);
	dispi(5, 0);
	dispi(6, w);
	dispi(7, h);
	dispi(8, 0);
	dispi(9, 0);
	dispi(4, 0x01 | 0x40);
}

static uint32_t pixel(unsigned int x, unsigned int y)
{
	return (x * 7u) << 16 | (y * 5u) << 8 | ((x ^ y) & 0xff);	/* XRGB */
}

Test(bochs_display, identity_edid_and_extension_registers)
{
	uint8_t e[128];
	unsigned int i, sum = 0;

	cr_assert_eq(rd(0x500, 2), 0xb0c5, "VBE_DISPI_ID5");
	cr_assert_eq(rd(0x500 + 2 * 10, 2) * 65536u, 16u << 20, "video memory, 64 KiB units");
	cr_assert_eq(rd(0x600, 4), 8, "QEMU extension registers: 8 bytes");
	cr_assert_eq(rd(0x604, 4), 0x1e1e1e1e, "little-endian framebuffer");
	for (i = 0; i < 128; i++)
		e[i] = (uint8_t)rd(i, 1);
	cr_assert_eq(memcmp(e, "\0\xff\xff\xff\xff\xff\xff\0", 8), 0, "EDID header");
	for (i = 0; i < 128; i++)
		sum += e[i];
	cr_assert_eq(sum % 256, 0, "EDID checksum");
	cr_assert_eq(e[54 + 2] | (e[54 + 4] >> 4) << 8, 320, "the one mode: width");
	cr_assert_eq(e[54 + 5] | (e[54 + 7] >> 4) << 8, 200, "height");
}

Test(bochs_display, written_pixels_reach_the_captured_frame)
{
	unsigned int x, y;
	FILE *f;
	png_image img;
	uint8_t *rgb;

	set_mode(320, 200);
	for (y = 0; y < 200; y++)
		for (x = 0; x < 320; x++)
			test_mmio_write(kvm, fb + (y * 320 + x) * 4, pixel(x, y), 4);
	dev->ops->sync(dev);
	cr_assert_eq(metric("frames"), 1);
	cr_assert_eq(metric("dirty_pages"), 320 * 200 * 4 / 4096 + 1, "every page of the frame");
	/* A second frame with one pixel changed copies one page. */
	test_mmio_write(kvm, fb + (10 * 320 + 10) * 4, 0x00ff00ff, 4);
	dev->ops->sync(dev);
	cr_assert_eq(metric("frames"), 2);
	cr_assert_eq(metric("dirty_pages"), 320 * 200 * 4 / 4096 + 2);
	device__destroy_all(kvm);		/* writes the capture */
	test_fake_kvm_free(kvm);
	kvm = NULL;
	memset(&img, 0, sizeof(img));
	img.version = PNG_IMAGE_VERSION;
	f = fopen(png_path, "rb");
	cr_assert_not_null(f);
	cr_assert(png_image_begin_read_from_stdio(&img, f), "%s", img.message);
	cr_assert_eq(img.width, 320);
	cr_assert_eq(img.height, 200);
	img.format = PNG_FORMAT_RGB;
	rgb = malloc(PNG_IMAGE_SIZE(img));
	cr_assert(png_image_finish_read(&img, NULL, rgb, 0, NULL), "%s", img.message);
	fclose(f);
	for (y = 0; y < 200; y++)
		for (x = 0; x < 320; x++) {
			uint32_t want = x == 10 && y == 10 ? 0x00ff00ff : pixel(x, y);
			const uint8_t *p = rgb + 3 * (y * 320 + x);

			cr_assert_eq((uint32_t)(p[0] << 16 | p[1] << 8 | p[2]), want & 0xffffff,
				     "pixel %u,%u", x, y);
		}
	free(rgb);
}

Test(bochs_display, modes_out_of_range_are_refused)
{
	set_mode(5000, 200);			/* beyond 4096 */
	set_mode(320, 0);
	dispi(4, 0);
	dispi(3, 8);				/* 8 bpp: not this display's */
	dispi(1, 320);
	dispi(2, 200);
	dispi(4, 0x41);
	dispi(4, 0);
	dispi(3, 32);
	dispi(1, 4096);				/* 4096 x 4096 x 4 > 16 MiB */
	dispi(2, 4096);
	dispi(6, 4096);
	dispi(4, 0x41);
	cr_assert_eq(metric("bad_modes"), 4);
	test_mmio_write(kvm, fb, 0x123456, 4);
	dev->ops->sync(dev);
	cr_assert_eq(metric("frames"), 0, "no valid mode: nothing shown");
	test_mmio_write(kvm, regs + 0x501, 0x55, 1);	/* odd and byte accesses: ignored */
	cr_assert_eq(rd(0x501, 1), 0);
}

#include <asm/bootparam.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"

#define SETUP_SECTS	4
#define KERNEL_BYTES	8192

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* A synthetic bzImage: real header layout, dummy setup and kernel bytes. */
static uint8_t *make_bzimage(size_t *size)
{
	size_t n = (SETUP_SECTS + 1) * 512 + KERNEL_BYTES;
	uint8_t *img = calloc(1, n);

	img[0x1f1] = SETUP_SECTS;
	put32(img + 0x1f4, KERNEL_BYTES / 16);		/* syssize */
	put16(img + 0x1fe, 0xaa55);
	img[0x201] = 0x268 - 0x202;			/* header length */
	put32(img + 0x202, 0x53726448);			/* "HdrS" */
	put16(img + 0x206, 0x020f);			/* protocol 2.15 */
	img[0x211] = LOADED_HIGH;
	put32(img + 0x22c, 0x7fffffff);			/* initrd_addr_max */
	put32(img + 0x230, 0x200000);			/* kernel_alignment */
	put16(img + 0x236, XLF_KERNEL_64);
	put32(img + 0x238, 2047);			/* cmdline_size */
	put32(img + 0x260, 0x400000);			/* init_size */
	memset(img + (SETUP_SECTS + 1) * 512, 0xab, KERNEL_BYTES);
	*size = n;
	return img;
}

Test(bzimage, parses_a_valid_header)
{
	struct bzimage_info info;
	size_t size;
	uint8_t *img = make_bzimage(&size);
	const char *why;

	cr_assert_eq(bzimage__parse(img, size, &info, &why), 0);
	cr_assert_eq(info.version, 0x020f);
	cr_assert_eq(info.setup_bytes, (SETUP_SECTS + 1) * 512);
	cr_assert_eq(info.kernel_size, KERNEL_BYTES);
	cr_assert_eq(info.init_size, 0x400000);
	cr_assert_eq(info.cmdline_size, 2047);
	free(img);
}

static void no_boot_flag(uint8_t *img) { img[0x1fe] = 0; }
static void no_hdrs(uint8_t *img) { img[0x202] = 'X'; }
static void old_protocol(uint8_t *img) { put16(img + 0x206, 0x0206); }
static void not_64bit(uint8_t *img) { put16(img + 0x236, 0); }
static void zimage(uint8_t *img) { img[0x211] = 0; }
static void huge_setup(uint8_t *img) { img[0x1f1] = 0xff; }
static void syssize_too_big(uint8_t *img) { put32(img + 0x1f4, KERNEL_BYTES); }

Test(bzimage, malformed_images_are_rejected)
{
	static const struct {
		const char *name;
		void (*mutate)(uint8_t *img);
	} cases[] = {
		{ "no boot flag", no_boot_flag }, { "no HdrS", no_hdrs },
		{ "protocol 2.06", old_protocol }, { "no 64-bit entry", not_64bit },
		{ "zImage", zimage }, { "setup past the end", huge_setup },
		{ "syssize past the end", syssize_too_big },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bzimage_info info;
		size_t size;
		uint8_t *img = make_bzimage(&size);
		const char *why = NULL;

		cases[i].mutate(img);
		cr_assert_eq(bzimage__parse(img, size, &info, &why), -ENOEXEC,
			     "%s accepted", cases[i].name);
		cr_assert_not_null(why);
		free(img);
	}
}

Test(bzimage, truncated_files_are_rejected)
{
	struct bzimage_info info;
	size_t size, cut[] = { 0, 0x100, 0x267, (SETUP_SECTS + 1) * 512,
			       (SETUP_SECTS + 1) * 512 + KERNEL_BYTES / 2 };
	uint8_t *img = make_bzimage(&size);
	const char *why;
	unsigned int i;

	for (i = 0; i < sizeof(cut) / sizeof(cut[0]); i++) {
		uint8_t *copy = malloc(cut[i] ? cut[i] : 1);

		memcpy(copy, img, cut[i]);
		cr_assert_eq(bzimage__parse(copy, cut[i], &info, &why), -ENOEXEC,
			     "%zu bytes accepted", cut[i]);
		free(copy);
	}
	free(img);
}

Test(boot_params, zero_page_carries_header_cmdline_initrd_and_e820)
{
	struct boot_params *bp = calloc(1, sizeof(*bp));
	struct bzimage_info info;
	size_t size;
	uint8_t *img = make_bzimage(&size);
	const char *why;
	uint64_t ram = 512ULL << 20, total = 0;
	unsigned int i;

	cr_assert_eq(bzimage__parse(img, size, &info, &why), 0);
	cr_assert_eq(boot_params__build(bp, img, &info, ram, BZ_CMDLINE_GPA, 20,
					0x1f000000, 0x100000), 0);
	cr_assert_eq(bp->hdr.header, 0x53726448);
	cr_assert_eq(bp->hdr.version, 0x020f);
	cr_assert_eq(bp->hdr.type_of_loader, 0xff);
	cr_assert(bp->hdr.loadflags & CAN_USE_HEAP);
	cr_assert(bp->hdr.loadflags & LOADED_HIGH);
	cr_assert_eq(bp->hdr.cmd_line_ptr, BZ_CMDLINE_GPA);
	cr_assert_eq(bp->hdr.ramdisk_image, 0x1f000000);
	cr_assert_eq(bp->hdr.ramdisk_size, 0x100000);
	cr_assert_eq(bp->hdr.init_size, 0x400000);
	cr_assert_geq(bp->e820_entries, 2);
	for (i = 0; i < bp->e820_entries; i++) {
		const struct boot_e820_entry *e = &bp->e820_table[i];

		if (i)
			cr_assert_geq(e->addr, bp->e820_table[i - 1].addr +
					       bp->e820_table[i - 1].size, "sorted, no overlap");
		if (e->type == 1)
			total += e->size;
	}
	cr_assert_eq(bp->e820_table[bp->e820_entries - 1].addr + bp->e820_table[bp->e820_entries - 1].size, ram);
	cr_assert_gt(total, ram - (1 << 20));
	free(bp);
	free(img);
}

Test(boot_params, rejects_long_cmdline_and_small_ram)
{
	struct boot_params *bp = calloc(1, sizeof(*bp));
	struct bzimage_info info;
	size_t size;
	uint8_t *img = make_bzimage(&size);
	const char *why;

	bzimage__parse(img, size, &info, &why);
	cr_assert_eq(boot_params__build(bp, img, &info, 512 << 20, BZ_CMDLINE_GPA, 4096, 0, 0),
		     -E2BIG);
	cr_assert_eq(boot_params__build(bp, img, &info, 4 << 20, BZ_CMDLINE_GPA, 10, 0, 0),
		     -ENOMEM);
	free(bp);
	free(img);
}

Test(boot_params, headerless_vmlinux_gets_a_synthesized_header)
{
	struct boot_params *bp = calloc(1, sizeof(*bp));
	struct bzimage_info info = {
		.version = 0x020c, .init_size = 0x4000000, .cmdline_size = 2047,
	};

	cr_assert_eq(boot_params__build(bp, NULL, &info, 512u << 20, BZ_CMDLINE_GPA, 30, 0, 0), 0);
	cr_assert_eq(bp->hdr.boot_flag, 0xaa55);
	cr_assert_eq(bp->hdr.header, 0x53726448);
	cr_assert_eq(bp->hdr.version, 0x020c);
	cr_assert_eq(bp->hdr.cmdline_size, 2047);
	cr_assert_eq(bp->hdr.kernel_alignment, 0x1000000);
	cr_assert_eq(bp->hdr.cmd_line_ptr, BZ_CMDLINE_GPA);
	cr_assert_eq(bp->hdr.ramdisk_size, 0);
	cr_assert_eq(bp->e820_entries, 4);
	free(bp);
}

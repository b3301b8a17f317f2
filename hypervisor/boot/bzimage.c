/*
 * Linux x86 boot protocol, 64-bit entry (Documentation/arch/x86/boot.rst):
 * the protected-mode kernel is loaded at 1 MiB, the zero page carries the
 * setup header, command line, initrd and e820 map, and the CPU enters at
 * load address + 0x200 in long mode with rsi pointing at the zero page.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

#define SETUP_HDR_OFF		0x1f1
#define BOOT_FLAG_OFF		0x1fe
#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define MIN_PROTOCOL		0x020c	/* 2.12: xloadflags, 64-bit entry */
#define ENTRY64_OFFSET		0x200
#define E820_RAM		1
#define E820_RESERVED		2
#define EBDA_START		0x9fc00ULL
#define BIOS_START		0xf0000ULL
#define KERNEL_MAX		(256U << 20)
#define INITRD_MAX		(2048U << 20)

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

int bzimage__parse(const uint8_t *img, size_t size, struct bzimage_info *info,
		   const char **why)
{
	uint32_t setup_sects;

	*why = NULL;
	memset(info, 0, sizeof(*info));
	if (size < 0x268 || rd16(img + BOOT_FLAG_OFF) != 0xaa55 ||
	    rd32(img + 0x202) != HDRS_MAGIC) {
		*why = "not a bzImage (no boot flag / HdrS header)";
		return -ENOEXEC;
	}
	info->version = rd16(img + 0x206);
	if (info->version < MIN_PROTOCOL) {
		*why = "boot protocol older than 2.12 (no 64-bit entry)";
		return -ENOEXEC;
	}
	if (!(img[0x211] & LOADED_HIGH)) {	/* loadflags */
		*why = "zImage (not loaded high) is not supported";
		return -ENOEXEC;
	}
	info->xloadflags = rd16(img + 0x236);
	if (!(info->xloadflags & XLF_KERNEL_64)) {
		*why = "kernel has no 64-bit entry point (XLF_KERNEL_64 clear)";
		return -ENOEXEC;
	}
	setup_sects = img[SETUP_HDR_OFF];
	if (setup_sects == 0)
		setup_sects = 4;
	info->setup_bytes = (setup_sects + 1) * 512;
	if (info->setup_bytes >= size) {
		*why = "truncated: no protected-mode kernel after the setup code";
		return -ENOEXEC;
	}
	info->kernel_size = (uint32_t)(size - info->setup_bytes);
	/* syssize (0x1f4) counts 16-byte paragraphs of the protected-mode kernel. */
	if ((uint64_t)rd32(img + 0x1f4) * 16 > info->kernel_size) {
		*why = "truncated: file is shorter than the header's syssize";
		return -ENOEXEC;
	}
	info->initrd_addr_max = rd32(img + 0x22c);
	info->cmdline_size = rd32(img + 0x238);
	info->init_size = rd32(img + 0x260);
	if (info->init_size < info->kernel_size)
		info->init_size = info->kernel_size;
	return 0;
}

static void e820_add(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

int boot_params__build(struct boot_params *bp, const uint8_t *img,
		       const struct bzimage_info *info, uint64_t ram_size,
		       uint64_t cmdline_gpa, uint32_t cmdline_len,
		       uint64_t initrd_gpa, uint32_t initrd_size)
{
	/* Byte 0x201 holds the offset of the header's end from 0x202. */
	size_t hdr_len = 0x202 + img[0x201] - SETUP_HDR_OFF;

	if (ram_size <= BZ_KERNEL_GPA + info->init_size)
		return -ENOMEM;
	if (info->cmdline_size && cmdline_len > info->cmdline_size)
		return -E2BIG;
	memset(bp, 0, sizeof(*bp));
	if (hdr_len > sizeof(bp->hdr))
		hdr_len = sizeof(bp->hdr);
	memcpy(&bp->hdr, img + SETUP_HDR_OFF, hdr_len);

	bp->hdr.type_of_loader = 0xff;		/* undefined boot loader */
	bp->hdr.vid_mode = 0xffff;		/* "normal" */
	bp->hdr.loadflags |= CAN_USE_HEAP;
	bp->hdr.heap_end_ptr = 0xfe00;
	bp->hdr.cmd_line_ptr = (uint32_t)cmdline_gpa;
	bp->ext_cmd_line_ptr = (uint32_t)(cmdline_gpa >> 32);
	bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
	bp->hdr.ramdisk_size = initrd_size;
	bp->ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);

	e820_add(bp, 0, EBDA_START, E820_RAM);
	e820_add(bp, EBDA_START, 0xa0000 - EBDA_START, E820_RESERVED);
	e820_add(bp, BIOS_START, BZ_KERNEL_GPA - BIOS_START, E820_RESERVED);
	e820_add(bp, BZ_KERNEL_GPA, ram_size - BZ_KERNEL_GPA, E820_RAM);
	return 0;
}

int bzimage__load(struct kvm *kvm, const char *kernel, const char *initrd,
		  const char *cmdline, uint64_t *entry)
{
	struct bzimage_info info;
	uint8_t *img = NULL, *rd = NULL;
	size_t img_size, rd_size = 0;
	uint64_t initrd_gpa = 0;
	uint32_t cmdline_len = (uint32_t)strlen(cmdline) + 1;
	const char *why;
	void *dst;
	int ret;

	ret = loader__read_file(kernel, KERNEL_MAX, &img, &img_size);
	if (ret) {
		pr_err("--kernel %s: %s", kernel, strerror(-ret));
		return ret;
	}
	ret = bzimage__parse(img, img_size, &info, &why);
	if (ret) {
		pr_err("--kernel %s: %s", kernel, why);
		goto out;
	}
	if (BZ_KERNEL_GPA + info.init_size >= kvm->ram_size) {
		pr_err("--kernel %s: needs %u MiB from 1 MiB up, --mem is too small",
		       kernel, info.init_size >> 20);
		ret = -ENOMEM;
		goto out;
	}
	if (cmdline_len > BZ_CMDLINE_MAX) {
		pr_err("--cmdline: longer than %u bytes", BZ_CMDLINE_MAX - 1);
		ret = -E2BIG;
		goto out;
	}
	if (initrd) {
		uint64_t top = kvm->ram_size;

		ret = loader__read_file(initrd, INITRD_MAX, &rd, &rd_size);
		if (ret) {
			pr_err("--initrd %s: %s", initrd, strerror(-ret));
			goto out;
		}
		if (info.initrd_addr_max && top > (uint64_t)info.initrd_addr_max + 1)
			top = (uint64_t)info.initrd_addr_max + 1;
		/* As high as allowed, page aligned, above the kernel's init_size. */
		initrd_gpa = (top - rd_size) & ~0xfffULL;
		if (rd_size >= top || initrd_gpa < BZ_KERNEL_GPA + info.init_size) {
			pr_err("--initrd %s: %zu MiB does not fit in guest RAM", initrd,
			       rd_size >> 20);
			ret = -ENOMEM;
			goto out;
		}
		memcpy(kvm__gpa_to_hva(kvm, initrd_gpa, rd_size), rd, rd_size);
	}

	ret = boot_params__build(kvm__gpa_to_hva(kvm, BZ_ZERO_PAGE_GPA, sizeof(struct boot_params)),
				 img, &info, kvm->ram_size, BZ_CMDLINE_GPA, cmdline_len,
				 initrd_gpa, (uint32_t)rd_size);
	if (ret) {
		pr_err("--cmdline: longer than the kernel accepts (%u bytes)", info.cmdline_size);
		goto out;
	}
	memcpy(kvm__gpa_to_hva(kvm, BZ_CMDLINE_GPA, cmdline_len), cmdline, cmdline_len);
	dst = kvm__gpa_to_hva(kvm, BZ_KERNEL_GPA, info.kernel_size);
	memcpy(dst, img + info.setup_bytes, info.kernel_size);
	*entry = BZ_KERNEL_GPA + ENTRY64_OFFSET;
out:
	free(img);
	free(rd);
	return ret;
}

/*
 * bzImage, Linux x86 boot protocol 2.12+ with the 64-bit entry
 * (Documentation/arch/x86/boot.rst): the protected-mode kernel goes to
 * 1 MiB and the CPU enters at load address + 0x200 in long mode, rsi
 * pointing at the zero page (built by linux.c).
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
#define KERNEL_MAX		(256U << 20)

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

int bzimage__load(struct kvm *kvm, const char *kernel, const char *initrd,
		  const char *cmdline, uint64_t *entry)
{
	struct bzimage_info info;
	const char *why;
	uint8_t *img;
	size_t size;
	int ret;

	ret = loader__read_file(kernel, KERNEL_MAX, &img, &size);
	if (ret) {
		pr_err("--kernel %s: %s", kernel, strerror(-ret));
		return ret;
	}
	ret = bzimage__parse(img, size, &info, &why);
	if (ret) {
		pr_err("--kernel %s: %s", kernel, why);
		goto out;
	}
	ret = linux__setup(kvm, img, &info, initrd, cmdline);
	if (ret)
		goto out;
	memcpy(kvm__gpa_to_hva(kvm, BZ_KERNEL_GPA, info.kernel_size), img + info.setup_bytes,
	       info.kernel_size);
	*entry = BZ_KERNEL_GPA + ENTRY64_OFFSET;
out:
	free(img);
	return ret;
}

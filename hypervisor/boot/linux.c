/*
 * What every Linux kernel format shares (Documentation/arch/x86/boot.rst):
 * the zero page with its setup header and e820 map, the command line and
 * the initrd. bzimage.c and vmlinux.c put the kernel itself in place.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"
#include "hypervisor/boot/mptable.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

#define SETUP_HDR_OFF		0x1f1
#define HDRS_MAGIC		0x53726448	/* "HdrS" */
#define E820_RAM		1
#define E820_RESERVED		2
#define EBDA_START		MPTABLE_GPA	/* the MP tables live there */
#define BIOS_START		0xf0000ULL
#define INITRD_MAX		(2048U << 20)

static void e820_add(struct boot_params *bp, uint64_t addr, uint64_t size, uint32_t type)
{
	struct boot_e820_entry *e = &bp->e820_table[bp->e820_entries++];

	e->addr = addr;
	e->size = size;
	e->type = type;
}

/* For kernels without a setup header of their own (vmlinux ELF): the
 * fields a 64-bit kernel reads, as Firecracker provides them. */
static void synth_header(struct setup_header *hdr, const struct bzimage_info *info)
{
	hdr->boot_flag = 0xaa55;
	hdr->header = HDRS_MAGIC;
	hdr->version = info->version;
	hdr->loadflags = LOADED_HIGH;
	hdr->kernel_alignment = 0x1000000;
	hdr->cmdline_size = info->cmdline_size;
	hdr->init_size = info->init_size;
}

int boot_params__build(struct boot_params *bp, const uint8_t *img,
		       const struct bzimage_info *info, uint64_t ram_size,
		       uint64_t cmdline_gpa, uint32_t cmdline_len,
		       uint64_t initrd_gpa, uint32_t initrd_size)
{
	if (ram_size <= BZ_KERNEL_GPA + info->init_size)
		return -ENOMEM;
	if (info->cmdline_size && cmdline_len > info->cmdline_size)
		return -E2BIG;
	memset(bp, 0, sizeof(*bp));
	if (img) {
		/* Byte 0x201 holds the offset of the header's end from 0x202. */
		size_t hdr_len = 0x202 + img[0x201] - SETUP_HDR_OFF;

		if (hdr_len > sizeof(bp->hdr))
			hdr_len = sizeof(bp->hdr);
		memcpy(&bp->hdr, img + SETUP_HDR_OFF, hdr_len);
	} else {
		synth_header(&bp->hdr, info);
	}

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

int linux__setup(struct kvm *kvm, const uint8_t *img, const struct bzimage_info *info,
		 const char *initrd, const char *cmdline)
{
	uint32_t cmdline_len = (uint32_t)strlen(cmdline) + 1;
	uint64_t initrd_gpa = 0;
	size_t rd_size = 0;
	uint8_t *rd = NULL;
	int ret;

	if (BZ_KERNEL_GPA + info->init_size >= kvm->ram_size) {
		pr_err("--kernel: needs %u MiB from 1 MiB up, --mem is too small",
		       info->init_size >> 20);
		return -ENOMEM;
	}
	if (cmdline_len > BZ_CMDLINE_MAX) {
		pr_err("--cmdline: longer than %u bytes", BZ_CMDLINE_MAX - 1);
		return -E2BIG;
	}
	if (initrd) {
		uint64_t top = kvm->ram_size;

		ret = loader__read_file(initrd, INITRD_MAX, &rd, &rd_size);
		if (ret) {
			pr_err("--initrd %s: %s", initrd, strerror(-ret));
			return ret;
		}
		if (info->initrd_addr_max && top > (uint64_t)info->initrd_addr_max + 1)
			top = (uint64_t)info->initrd_addr_max + 1;
		/* As high as allowed, page aligned, above the kernel's init_size. */
		initrd_gpa = (top - rd_size) & ~0xfffULL;
		if (rd_size >= top || initrd_gpa < BZ_KERNEL_GPA + info->init_size) {
			pr_err("--initrd %s: %zu MiB does not fit in guest RAM", initrd,
			       rd_size >> 20);
			free(rd);
			return -ENOMEM;
		}
		memcpy(kvm__gpa_to_hva(kvm, initrd_gpa, rd_size), rd, rd_size);
		free(rd);
	}
	ret = boot_params__build(kvm__gpa_to_hva(kvm, BZ_ZERO_PAGE_GPA, sizeof(struct boot_params)),
				 img, info, kvm->ram_size, BZ_CMDLINE_GPA, cmdline_len,
				 initrd_gpa, (uint32_t)rd_size);
	if (ret) {
		pr_err("--cmdline: longer than the kernel accepts (%u bytes)", info->cmdline_size);
		return ret;
	}
	memcpy(kvm__gpa_to_hva(kvm, BZ_CMDLINE_GPA, cmdline_len), cmdline, cmdline_len);
	ret = mptable__write(kvm, MPTABLE_GPA, 0xa0000 - MPTABLE_GPA);
	if (ret)
		pr_err("MP table for %d vCPUs: %s", kvm->nr_cpus, strerror(-ret));
	return ret;
}

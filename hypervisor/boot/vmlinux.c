/*
 * An uncompressed vmlinux ELF, booted the way Firecracker boots it: the
 * PT_LOAD segments go to their physical addresses and the CPU enters
 * startup_64 (the ELF entry, a physical address) in long mode with rsi
 * pointing at the zero page. Nothing is decompressed in the guest, which
 * matters where guest kernel code is emulated (PVM: xz at ~8 KB/s).
 */
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

#define VMLINUX_MAX		(512U << 20)
#define VMLINUX_PROTOCOL	0x020c	/* the boot protocol we speak */
#define VMLINUX_CMDLINE_MAX	2047	/* COMMAND_LINE_SIZE - 1 on x86 */

/* Highest physical address the kernel occupies, from its program headers
 * (elf__load has already validated them). */
static uint64_t kernel_end(const uint8_t *img)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	uint64_t end = 0;
	unsigned int i;

	memcpy(&eh, img, sizeof(eh));
	for (i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_LOAD && ph.p_paddr + ph.p_memsz > end)
			end = ph.p_paddr + ph.p_memsz;
	}
	return end;
}

int vmlinux__load(struct kvm *kvm, const char *kernel, const char *initrd,
		  const char *cmdline, uint64_t *entry)
{
	struct bzimage_info info = {
		.version = VMLINUX_PROTOCOL,
		.initrd_addr_max = 0x7fffffff,
		.cmdline_size = VMLINUX_CMDLINE_MAX,
	};
	const char *why;
	uint8_t *img;
	size_t size;
	int ret;

	ret = loader__read_file(kernel, VMLINUX_MAX, &img, &size);
	if (ret) {
		pr_err("--kernel %s: %s", kernel, strerror(-ret));
		return ret;
	}
	ret = elf__load(img, size, kvm->ram, kvm->ram_size, BZ_KERNEL_GPA, entry, &why);
	if (ret) {
		pr_err("--kernel %s: %s", kernel, why);
		goto out;
	}
	info.init_size = (uint32_t)(kernel_end(img) - BZ_KERNEL_GPA);
	ret = linux__setup(kvm, NULL, &info, initrd, cmdline);
out:
	free(img);
	return ret;
}

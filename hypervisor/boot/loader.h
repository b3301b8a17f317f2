#ifndef VIOSCOPE__BOOT_LOADER_H
#define VIOSCOPE__BOOT_LOADER_H

#include <stddef.h>
#include <stdint.h>

struct boot_params;
struct kvm;

/* Reads a whole file (at most max bytes); returns 0 or -errno. */
int loader__read_file(const char *path, size_t max, uint8_t **buf, size_t *size);

/*
 * ELF64 executables (the probe guest). Every field is checked against the
 * image and RAM size before anything is copied: a truncated or crafted file
 * gets -ENOEXEC with *why set, never an out-of-bounds read or write.
 */
int elf__load(const uint8_t *img, size_t size, uint8_t *ram, uint64_t ram_size,
	      uint64_t min_gpa, uint64_t *entry, const char **why);

/* Linux x86 boot protocol 2.12+ (Documentation/arch/x86/boot.rst). */
#define BZ_KERNEL_GPA		0x100000ULL
#define BZ_ZERO_PAGE_GPA	0x7000ULL
#define BZ_CMDLINE_GPA		0x20000ULL
#define BZ_CMDLINE_MAX		0x10000U	/* room below BZ_CMDLINE_GPA + this */

struct bzimage_info {
	uint16_t version;
	uint32_t setup_bytes;		/* boot sector + setup, before the kernel */
	uint32_t kernel_size;		/* protected-mode part */
	uint32_t init_size;		/* memory the kernel needs from its load address */
	uint32_t initrd_addr_max;
	uint32_t cmdline_size;
	uint16_t xloadflags;
};

int bzimage__parse(const uint8_t *img, size_t size, struct bzimage_info *info,
		   const char **why);
/* Fills the zero page: the setup header from the image (or, with img NULL,
 * the fields a headerless vmlinux needs), loader fields, e820. */
int boot_params__build(struct boot_params *bp, const uint8_t *img,
		       const struct bzimage_info *info, uint64_t ram_size,
		       uint64_t cmdline_gpa, uint32_t cmdline_len,
		       uint64_t initrd_gpa, uint32_t initrd_size);
/* Places initrd, command line and zero page for a kernel described by info
 * (img: its bzImage, or NULL). Errors are reported. */
int linux__setup(struct kvm *kvm, const uint8_t *img, const struct bzimage_info *info,
		 const char *initrd, const char *cmdline);
/* Loads a bzImage (and initrd, cmdline); *entry is the 64-bit entry. */
int bzimage__load(struct kvm *kvm, const char *kernel, const char *initrd,
		  const char *cmdline, uint64_t *entry);
/* Loads an uncompressed vmlinux ELF at its physical addresses, entered at
 * startup_64 with the same zero page: no decompressor runs in the guest. */
int vmlinux__load(struct kvm *kvm, const char *kernel, const char *initrd,
		  const char *cmdline, uint64_t *entry);
/* True when the file starts with the ELF magic. */
int loader__is_elf(const char *path);

#endif /* VIOSCOPE__BOOT_LOADER_H */

#include <elf.h>
#include <errno.h>
#include <string.h>

#include "hypervisor/boot/loader.h"

/* True when [off, off + len) lies inside [0, limit), without overflow. */
static int in_range(uint64_t off, uint64_t len, uint64_t limit)
{
	return off <= limit && len <= limit - off;
}

int elf__load(const uint8_t *img, size_t size, uint8_t *ram, uint64_t ram_size,
	      uint64_t min_gpa, uint64_t *entry, const char **why)
{
	Elf64_Ehdr ehdr, *eh = &ehdr;
	Elf64_Phdr phdr, *ph = &phdr;
	int loaded = 0, entry_ok = 0;
	unsigned int i;

	*why = NULL;
	if (size < sizeof(*eh) || memcmp(img, ELFMAG, SELFMAG)) {
		*why = "not an ELF file";
		return -ENOEXEC;
	}
	memcpy(eh, img, sizeof(*eh));	/* the file gives no alignment guarantee */
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh->e_machine != EM_X86_64 || eh->e_type != ET_EXEC) {
		*why = "not an x86-64 ELF64 executable";
		return -ENOEXEC;
	}
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    !in_range(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size)) {
		*why = "program headers missing or outside the file (truncated?)";
		return -ENOEXEC;
	}
	/* Validate every segment before writing any. */
	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(ph, img + eh->e_phoff + i * sizeof(*ph), sizeof(*ph));

		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz || !in_range(ph->p_offset, ph->p_filesz, size)) {
			*why = "segment data outside the file (truncated?)";
			return -ENOEXEC;
		}
		if (ph->p_paddr < min_gpa || !in_range(ph->p_paddr, ph->p_memsz, ram_size)) {
			*why = "segment does not fit in guest RAM";
			return -ENOEXEC;
		}
		if ((ph->p_flags & PF_X) && eh->e_entry >= ph->p_paddr &&
		    eh->e_entry - ph->p_paddr < ph->p_memsz)
			entry_ok = 1;
		loaded++;
	}
	if (!loaded || !entry_ok) {
		*why = loaded ? "entry point outside executable segments" : "no loadable segment";
		return -ENOEXEC;
	}
	for (i = 0; i < eh->e_phnum; i++) {
		memcpy(ph, img + eh->e_phoff + i * sizeof(*ph), sizeof(*ph));

		if (ph->p_type != PT_LOAD)
			continue;
		memcpy(ram + ph->p_paddr, img + ph->p_offset, ph->p_filesz);
		memset(ram + ph->p_paddr + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	}
	*entry = eh->e_entry;
	return 0;
}

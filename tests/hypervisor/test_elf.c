#include <criterion/criterion.h>
#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"
#include "tests/helpers.h"

#define RAM_SIZE	(4u << 20)
#define LOAD_AT		0x100000

static uint8_t *ram;

static void setup(void)
{
	ram = calloc(1, RAM_SIZE);
}

static void teardown(void)
{
	free(ram);
}

TestSuite(elf, .init = setup, .fini = teardown);

/* A minimal valid executable: one PT_LOAD of 16 code bytes + 64 bytes bss. */
static size_t make_elf(uint8_t *buf)
{
	Elf64_Ehdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64, ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
		.e_entry = LOAD_AT + 4, .e_phoff = sizeof(Elf64_Ehdr),
		.e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1,
	};
	Elf64_Phdr ph = {
		.p_type = PT_LOAD, .p_flags = PF_R | PF_X,
		.p_offset = sizeof(eh) + sizeof(ph), .p_vaddr = LOAD_AT, .p_paddr = LOAD_AT,
		.p_filesz = 16, .p_memsz = 80, .p_align = 16,
	};

	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + sizeof(eh), &ph, sizeof(ph));
	memset(buf + sizeof(eh) + sizeof(ph), 0x90, 16);
	return sizeof(eh) + sizeof(ph) + 16;
}

static Elf64_Phdr *phdr(uint8_t *buf)
{
	return (Elf64_Phdr *)(buf + sizeof(Elf64_Ehdr));
}

Test(elf, loads_segments_and_zeroes_bss)
{
	uint8_t img[512];
	size_t n = make_elf(img);
	uint64_t entry = 0;
	const char *why;

	memset(ram + LOAD_AT, 0xcc, 128);
	cr_assert_eq(elf__load(img, n, ram, RAM_SIZE, LOAD_AT, &entry, &why), 0);
	cr_assert_eq(entry, LOAD_AT + 4);
	cr_assert_eq(ram[LOAD_AT + 15], 0x90);
	cr_assert_eq(ram[LOAD_AT + 16], 0);
	cr_assert_eq(ram[LOAD_AT + 79], 0);
	cr_assert_eq(ram[LOAD_AT + 80], 0xcc, "nothing past memsz is touched");
}

/* Every truncation of a valid file is refused, none crashes. */
Test(elf, every_truncated_prefix_is_rejected)
{
	uint8_t img[512];
	size_t n = make_elf(img), len;
	uint64_t entry;
	const char *why;

	for (len = 0; len < n; len++) {
		uint8_t *copy = malloc(len ? len : 1);	/* exact size: ASan sees overreads */

		memcpy(copy, img, len);
		cr_assert_eq(elf__load(copy, len, ram, RAM_SIZE, LOAD_AT, &entry, &why), -ENOEXEC,
			     "prefix of %zu bytes", len);
		cr_assert_not_null(why);
		free(copy);
	}
}

struct bad_case {
	const char *name;
	void (*mutate)(uint8_t *img);
};

static void bad_magic(uint8_t *img) { img[1] = 'X'; }
static void bad_class(uint8_t *img) { img[EI_CLASS] = ELFCLASS32; }
static void bad_machine(uint8_t *img) { ((Elf64_Ehdr *)img)->e_machine = EM_AARCH64; }
static void no_phdrs(uint8_t *img) { ((Elf64_Ehdr *)img)->e_phnum = 0; }
static void huge_phoff(uint8_t *img) { ((Elf64_Ehdr *)img)->e_phoff = UINT64_MAX - 8; }
static void filesz_gt_memsz(uint8_t *img) { phdr(img)->p_memsz = 8; }
static void offset_wraps(uint8_t *img) { phdr(img)->p_offset = UINT64_MAX - 4; }
static void beyond_ram(uint8_t *img) { phdr(img)->p_memsz = RAM_SIZE; }
static void addr_wraps(uint8_t *img) { phdr(img)->p_paddr = UINT64_MAX - 8; }
static void below_min(uint8_t *img) { phdr(img)->p_paddr = 0x1000; }
static void entry_outside(uint8_t *img) { ((Elf64_Ehdr *)img)->e_entry = 0x300000; }
static void entry_not_exec(uint8_t *img) { phdr(img)->p_flags = PF_R | PF_W; }

Test(elf, malformed_headers_are_rejected)
{
	static const struct bad_case cases[] = {
		{ "bad magic", bad_magic }, { "ELF32", bad_class },
		{ "wrong machine", bad_machine }, { "no program headers", no_phdrs },
		{ "phoff past the end", huge_phoff }, { "filesz > memsz", filesz_gt_memsz },
		{ "offset wraps", offset_wraps }, { "segment beyond RAM", beyond_ram },
		{ "address wraps", addr_wraps }, { "segment below 1 MiB", below_min },
		{ "entry outside segments", entry_outside },
		{ "entry in a non-executable segment", entry_not_exec },
	};
	unsigned int i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t img[512];
		size_t n = make_elf(img);
		uint64_t entry;
		const char *why;

		cases[i].mutate(img);
		cr_assert_eq(elf__load(img, n, ram, RAM_SIZE, LOAD_AT, &entry, &why), -ENOEXEC,
			     "%s accepted", cases[i].name);
		cr_assert_not_null(why);
	}
}

Test(elf, the_built_probe_guest_loads)
{
	uint8_t *img, *big = calloc(1, 64u << 20);
	size_t size;
	uint64_t entry;
	const char *why;

	cr_assert_eq(loader__read_file(test_bin("vioscope-guest.elf"), 64u << 20, &img, &size), 0,
		     "build bin/vioscope-guest.elf first");
	cr_assert_eq(elf__load(img, size, big, 64u << 20, LOAD_AT, &entry, &why), 0, "%s", why);
	cr_assert_eq(entry, LOAD_AT, "linked with its entry first at 1 MiB");
	free(img);
	free(big);
}

Test(loader, read_file_reports_errors)
{
	uint8_t *buf;
	size_t size;

	cr_assert_eq(loader__read_file("/nonexistent/file", 100, &buf, &size), -ENOENT);
	cr_assert_eq(loader__read_file("/", 100, &buf, &size), -EISDIR);
	cr_assert_eq(loader__read_file("/proc/self/exe", 16, &buf, &size), -EFBIG);
}

/* libFuzzer target: the probe-guest ELF loader on arbitrary files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"

#define RAM (8u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *ram;
	uint8_t *copy = malloc(size ? size : 1);	/* exact size: overreads trip ASan */
	uint64_t entry;
	const char *why;

	if (!ram)
		ram = malloc(RAM);
	memcpy(copy, data, size);
	elf__load(copy, size, ram, RAM, 0x100000, &entry, &why);
	free(copy);
	return 0;
}

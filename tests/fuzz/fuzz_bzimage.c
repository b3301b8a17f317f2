/* libFuzzer target: bzImage header parsing and the zero page built from it. */
#include <asm/bootparam.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/boot/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);
	struct bzimage_info info;
	struct boot_params bp;
	const char *why;

	memcpy(copy, data, size);
	if (bzimage__parse(copy, size, &info, &why) == 0)
		boot_params__build(&bp, copy, &info, 256u << 20, BZ_CMDLINE_GPA, 64,
				   0x8000000, 4096);
	free(copy);
	return 0;
}

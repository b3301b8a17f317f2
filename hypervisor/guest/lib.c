/*
 * What gcc expects from a C library even when freestanding. The copies use
 * rep movsb/stosb: string instructions are what the CPL0 emulator runs
 * fastest (HOST-FACTS: byte loops are about 4x slower).
 */
#include "hypervisor/guest/guest.h"

extern char _end[];
static uint64_t heap_next, heap_end;

void *memcpy(void *dst, const void *src, size_t n)
{
	void *d = dst;

	asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) :: "memory");
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *d = dst;

	asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;

	if (!n)
		return 0;
	/* Stops after the first difference: the last pair compared decides. */
	asm volatile("repe cmpsb" : "+S"(x), "+D"(y), "+c"(n) :: "memory", "cc");
	return x[-1] - y[-1];
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (a[i] != b[i] || !a[i])
			return (unsigned char)a[i] - (unsigned char)b[i];
	}
	return 0;
}

const char *parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	while (*s >= '0' && *s <= '9') {
		if (v > (UINT64_MAX - 9) / 10)
			return NULL;
		v = v * 10 + (uint64_t)(*s++ - '0');
	}
	*out = v;
	return s;
}

void guest_alloc_init(uint64_t ram_size)
{
	heap_next = ((uint64_t)_end + 4095) & ~4095ULL;
	heap_end = ram_size;
}

void *guest_alloc(uint64_t size)
{
	uint64_t p = heap_next;

	size = (size + 4095) & ~4095ULL;
	if (size > heap_end - p)
		return NULL;
	heap_next += size;
	return (void *)p;
}

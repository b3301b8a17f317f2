#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "hypervisor/bus.h"

struct hit {
	int id;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	int calls;
};

static void record(void *opaque, uint64_t offset, void *data, uint32_t len, bool is_write)
{
	struct hit *h = opaque;

	h->offset = offset;
	h->len = len;
	h->is_write = is_write;
	h->calls++;
	if (!is_write)
		memset(data, h->id, len);
}

static struct bus bus;

static void setup(void)
{
	bus__init(&bus, "test");
}

static void teardown(void)
{
	bus__exit(&bus);
}

TestSuite(bus, .init = setup, .fini = teardown);

Test(bus, dispatches_to_the_covering_region_with_offset)
{
	struct hit a = { .id = 0xa }, b = { .id = 0xb };
	uint32_t v = 0;

	cr_assert_eq(bus__register(&bus, 0x1000, 0x100, record, &a, "a"), 0);
	cr_assert_eq(bus__register(&bus, 0x2000, 0x10, record, &b, "b"), 0);
	cr_assert(bus__dispatch(&bus, 0x2004, &v, 4, false));
	cr_assert_eq(b.calls, 1);
	cr_assert_eq(b.offset, 4);
	cr_assert_eq(v, 0x0b0b0b0b);
	cr_assert(bus__dispatch(&bus, 0x10ff, &v, 1, true));
	cr_assert_eq(a.offset, 0xff);
	cr_assert(a.is_write);
}

Test(bus, misses_are_counted_not_dispatched)
{
	struct hit a = { .id = 1 };
	uint32_t v;

	bus__register(&bus, 0x1000, 0x100, record, &a, "a");
	cr_assert_not(bus__dispatch(&bus, 0xfff, &v, 1, false));
	cr_assert_not(bus__dispatch(&bus, 0x1100, &v, 1, false));
	/* An access that starts inside but runs past the end is a miss too. */
	cr_assert_not(bus__dispatch(&bus, 0x10fe, &v, 4, false));
	cr_assert_not(bus__dispatch(&bus, UINT64_MAX - 1, &v, 4, true));
	cr_assert_eq(a.calls, 0);
	cr_assert_eq(bus.unhandled, 4);
}

Test(bus, rejects_overlaps_empty_and_wrapping_regions)
{
	struct hit a = { 0 };

	cr_assert_eq(bus__register(&bus, 0x1000, 0x100, record, &a, "a"), 0);
	cr_assert_eq(bus__register(&bus, 0x10ff, 1, record, &a, "x"), -EEXIST);
	cr_assert_eq(bus__register(&bus, 0x0f00, 0x101, record, &a, "x"), -EEXIST);
	cr_assert_eq(bus__register(&bus, 0x0f00, 0x300, record, &a, "x"), -EEXIST);
	cr_assert_eq(bus__register(&bus, 0x1100, 0, record, &a, "x"), -EINVAL);
	cr_assert_eq(bus__register(&bus, UINT64_MAX, 2, record, &a, "x"), -EINVAL);
	/* Adjacent regions are fine on both sides. */
	cr_assert_eq(bus__register(&bus, 0x0f00, 0x100, record, &a, "below"), 0);
	cr_assert_eq(bus__register(&bus, 0x1100, 0x100, record, &a, "above"), 0);
}

Test(bus, deregister_removes_only_that_region)
{
	struct hit a = { 0 }, b = { 0 };
	struct bus_region r;
	uint8_t v;

	bus__register(&bus, 0x10, 0x10, record, &a, "a");
	bus__register(&bus, 0x20, 0x10, record, &b, "b");
	cr_assert_eq(bus__deregister(&bus, 0x18), -ENOENT);
	cr_assert_eq(bus__deregister(&bus, 0x10), 0);
	cr_assert_not(bus__dispatch(&bus, 0x10, &v, 1, true));
	cr_assert(bus__lookup(&bus, 0x2f, &r));
	cr_assert_str_eq(r.name, "b");
}

/* Many regions registered out of order: every address finds its owner. */
Test(bus, lookup_is_exact_across_thousands_of_regions)
{
	static struct hit hits[2000];
	struct bus_region r;
	int i;

	for (i = 0; i < 2000; i++) {
		int k = (i * 7919) % 2000;	/* a permutation of 0..1999 */

		hits[k].id = k;
		cr_assert_eq(bus__register(&bus, 0x100000 + (uint64_t)k * 0x40, 0x20, record,
					   &hits[k], "r"), 0);
	}
	cr_assert_eq(bus.nr, 2000);
	for (i = 0; i < 2000; i++) {
		uint64_t base = 0x100000 + (uint64_t)i * 0x40;

		cr_assert(bus__lookup(&bus, base + 0x1f, &r));
		cr_assert_eq(r.opaque, &hits[i]);
		cr_assert_not(bus__lookup(&bus, base + 0x20, &r), "hole after region %d", i);
	}
}

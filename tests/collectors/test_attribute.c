#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/attribute.h"

static char dir[] = "/tmp/vioscope-rundir-XXXXXX";

static void setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	setenv("VIOSCOPE_RUN_DIR", dir, 1);
}

static void teardown(void)
{
	regions__remove(4242);
	rmdir(dir);
	unsetenv("VIOSCOPE_RUN_DIR");
}

TestSuite(attribute, .init = setup, .fini = teardown);

static struct kx_addr addr(unsigned int space, uint64_t a, unsigned int write, uint64_t events,
			   uint64_t user_ns, uint64_t user_n)
{
	struct kx_addr x = { .key = { .addr = a, .space = space, .write = write },
			     .events = events };

	hist__init(&x.user);
	while (user_n--)
		hist__record(&x.user, user_ns);
	return x;
}

Test(attribute, region_map_round_trip_and_malformed_files)
{
	struct region r[] = {
		{ REGION_PIO, 0x3f8, 8, "uart0" },
		{ REGION_MMIO, 0xc0000000, 0x4000, "ahci0" },
	};
	struct region_map m;
	char path[256];
	FILE *f;

	cr_assert_eq(regions__write(4242, r, 2), 0);
	cr_assert_eq(region_map__load(&m, 4242), 0);
	cr_assert_eq(m.nr, 2);
	cr_assert_str_eq(region_map__find(&m, REGION_PIO, 0x3ff)->name, "uart0");
	cr_assert_null(region_map__find(&m, REGION_PIO, 0x400));
	cr_assert_null(region_map__find(&m, REGION_MMIO, 0x3f8), "spaces are separate");
	cr_assert_str_eq(region_map__find(&m, REGION_MMIO, 0xc0003fff)->name, "ahci0");
	region_map__free(&m);

	cr_assert_eq(region_map__load(&m, 4243), -ENOENT);
	cr_assert_eq(regions__path(4242, path, sizeof(path)), 0);
	f = fopen(path, "w");
	fputs("pio 0x3f8 0x8 uart0\nport 12 nonsense\n", f);
	fclose(f);
	cr_assert_eq(region_map__load(&m, 4242), -EINVAL);
	cr_assert_eq(m.nr, 0);
}

/* Addresses of one device merge; others show as raw port or MMIO page. */
Test(attribute, groups_by_device_direction_and_raw_ranges)
{
	struct region r[] = {
		{ REGION_PIO, 0x3f8, 8, "uart0" },
		{ REGION_MMIO, 0xc0000000, 0x4000, "ahci0" },
	};
	struct kx_addr a[] = {
		addr(KX_MMIO, 0xc0000100, 0, 300, 8000, 300),
		addr(KX_MMIO, 0xc0000118, 0, 300, 9000, 300),
		addr(KX_MMIO, 0xc0000138, 1, 100, 7000, 100),
		addr(KX_PIO, 0x3f8, 1, 50, 6000, 50),
		addr(KX_MMIO, 0xfee000b0, 1, 70, 0, 0),
		addr(KX_MMIO, 0xfee00300, 1, 10, 0, 0),
		addr(KX_PIO, 0x40, 1, 5, 0, 0),
	};
	struct kx_snapshot s = { .addrs = a, .nr_addrs = 7 };
	struct region_map m;
	struct kx_device *d;
	int n;

	cr_assert_eq(regions__write(4242, r, 2), 0);
	cr_assert_eq(region_map__load(&m, 4242), 0);
	n = kx__attribute(&s, &m, &d);
	cr_assert_eq(n, 5);
	cr_assert_str_eq(d[0].name, "ahci0");
	cr_assert_eq(d[0].write, 0);
	cr_assert_eq(d[0].events, 600);
	cr_assert_eq(d[0].user.count, 600);
	cr_assert_str_eq(d[1].name, "ahci0");
	cr_assert_eq(d[1].write, 1);
	cr_assert_str_eq(d[2].name, "mmio 0xfee00000", "LAPIC page, in-kernel");
	cr_assert_eq(d[2].events, 80);
	cr_assert_eq(d[2].user.count, 0);
	cr_assert_str_eq(d[3].name, "uart0");
	cr_assert_str_eq(d[4].name, "pio 0x40");
	free(d);
	region_map__free(&m);
	/* No map (another VMM): everything raw. */
	n = kx__attribute(&s, NULL, &d);
	cr_assert_eq(n, 5, "ahci0 read, ahci0 write, LAPIC page, uart, PIT");
	cr_assert_str_eq(d[0].name, "mmio 0xc0000000");
	free(d);
}

/* Intervals: entries new in b count from zero, vanished ones are dropped. */
Test(attribute, snapshot_diff_handles_new_and_reordered_entries)
{
	struct kx_reason ra[2], rb[3];
	struct kx_snapshot a = { .t_ns = 1000, .reasons = ra, .nr_reasons = 2 };
	struct kx_snapshot b = { .t_ns = 3000, .reasons = rb, .nr_reasons = 3 };
	struct kx_snapshot d;
	int i;

	for (i = 0; i < 2; i++)
		hist__init(&ra[i].h);
	for (i = 0; i < 3; i++)
		hist__init(&rb[i].h);
	ra[0].key = (struct kx_key){ .kind = KX_USER, .reason = 2 };
	ra[1].key = (struct kx_key){ .kind = KX_USER, .reason = 6 };
	for (i = 0; i < 10; i++)
		hist__record(&ra[0].h, 5000);
	for (i = 0; i < 4; i++)
		hist__record(&ra[1].h, 7000);
	/* b: reordered, more of both, and a new reason */
	rb[0].key = ra[1].key;
	rb[1].key = ra[0].key;
	rb[2].key = (struct kx_key){ .kind = KX_USER, .reason = 5 };
	rb[0].h = ra[1].h;
	rb[1].h = ra[0].h;
	for (i = 0; i < 6; i++)
		hist__record(&rb[0].h, 7000);
	hist__record(&rb[2].h, 100);
	b.counters[KX_C_MSI] = 9;
	a.counters[KX_C_MSI] = 4;

	cr_assert_eq(kx_snapshot__diff(&a, &b, &d), 0);
	cr_assert_eq(d.t_ns, 2000);
	cr_assert_eq(d.nr_reasons, 2, "IO had no new exits: left out");
	cr_assert_eq(d.reasons[0].key.reason, 6);
	cr_assert_eq(d.reasons[0].h.count, 6);
	cr_assert_eq(d.reasons[0].h.sum, 42000);
	cr_assert_eq(d.reasons[1].key.reason, 5);
	cr_assert_eq(d.reasons[1].h.count, 1);
	cr_assert_eq(d.counters[KX_C_MSI], 5);
	kx_snapshot__free(&d);
}

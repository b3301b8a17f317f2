/* QEMU's device-path trace (hypervisor/qemu/trace.c), on lines recorded
 * from an AHCI run: only the agent's window counts, only the device's
 * regions, only the guest's accesses (not a device's MSI writes). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/qemu/qemu.h"
#include "hypervisor/qemu/trace.h"

Test(qemu_trace, counts_the_device_path_inside_the_agent_window)
{
	struct qemu_trace_counts c;
	char why[128];

	cr_assert_eq(qemu_trace__count("tests/data/qemu-trace.log", qemu__device("disk", "emul"),
				       &c, why, sizeof(why)), 0, "%s", why);
	cr_assert(c.windowed);
	/* 5 writes, 4 reads and one with a PID@time: prefix; the boot's
	 * and the ones after the end marker left out. */
	cr_assert_eq(c.accesses, 10);
	cr_assert_eq(c.interrupts, 3);
	cr_assert(c.have_interrupts);
	cr_assert_eq(c.lines, 17);
	/* Another device's regions: nothing of AHCI counts for virtio-blk. */
	cr_assert_eq(qemu_trace__count("tests/data/qemu-trace.log", qemu__device("disk", "pv"),
				       &c, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(c.accesses, 0);
	cr_assert_not(qemu__device("net", "emul")->irq_traced, "QEMU's e1000 has no irq event");
}

/* text in a new temporary file, its name in path. */
static void write_trace(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(qemu_trace, a_trace_without_the_agents_markers_is_refused)
{
	char path[] = "/tmp/vioscope-qtrace-XXXXXX", why[128];
	struct qemu_trace_counts c;

	write_trace(path,
		    "memory_region_ops_write cpu 0 mr 0x1 addr 0x80 value 0x56 size 1 name 'ioport80'\n"
		    "memory_region_ops_read cpu 0 mr 0x2 addr 0x8 value 0x1 size 4 name 'ahci'\n");
	cr_assert_eq(qemu_trace__count(path, qemu__device("disk", "emul"), &c, why, sizeof(why)),
		     -1);
	cr_assert_not_null(strstr(why, "no end marker"), "%s", why);
	unlink(path);
	cr_assert_eq(qemu_trace__count(path, qemu__device("disk", "emul"), &c, why, sizeof(why)),
		     -1);
	cr_assert_not_null(strstr(why, "no QEMU trace"), "%s", why);
}

Test(qemu_trace, a_device_of_several_regions)
{
	char path[] = "/tmp/vioscope-qtrace-XXXXXX", why[128];
	struct qemu_trace_counts c;

	/* qemu-xhci's registers are four regions without "xhci" in their names. */
	write_trace(path,
		    "memory_region_ops_write cpu 0 mr 0x1 addr 0x80 value 0x56 size 1 name 'ioport80'\n"
		    "memory_region_ops_write cpu 0 mr 0x2 addr 0x0 value 0x1 size 4 name 'doorbell'\n"
		    "memory_region_ops_read cpu 0 mr 0x3 addr 0x20 value 0x1 size 4 name 'runtime'\n"
		    "memory_region_ops_read cpu 0 mr 0x4 addr 0x4 value 0x1 size 4 name 'operational'\n"
		    "memory_region_ops_read cpu 0 mr 0x5 addr 0x61 value 0x20 size 1 name 'pcspk'\n"
		    "memory_region_ops_write cpu 0 mr 0x1 addr 0x80 value 0x76 size 1 name 'ioport80'\n");
	cr_assert_eq(qemu_trace__count(path, qemu__device("usb", "emul"), &c, why, sizeof(why)), 0,
		     "%s", why);
	cr_assert_eq(c.accesses, 3);
	cr_assert_eq(c.lines, 4);
	unlink(path);
}

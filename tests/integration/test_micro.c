/* The exit microbenchmarks end to end: probe guest on vioscope-vmm. */
#include <cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

#define OPS 2000

static cJSON *run_micro(const char *workload)
{
	char *out, *err;
	cJSON *j;
	int rc;

	rc = test_run_vmm((const char *[]){ "--workload", workload, "--quiet", NULL },
			  &out, &err, &j);
	cr_assert_eq(rc, 0, "%s: exit %d\nstdout: %s\nstderr: %s", workload, rc, out, err);
	cr_assert_not_null(strstr(out, "micro "), "summary line printed: %s", out);
	cr_assert_not_null(j, "%s: no JSON", workload);
	free(out);
	free(err);
	return j;
}

/* Checks common to every record: status, counts, ordered percentiles. */
static void check_record(cJSON *j, const char *kind, double ops)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
	double p50 = test_json_num(r, "per_op.ns.p50"), p99 = test_json_num(r, "per_op.ns.p99");
	double max = test_json_num(r, "per_op.ns.max");

	cr_assert_not_null(r, "no result record");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "kind")), kind);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "status")), "ok");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "unit")), "ns");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "direction")),
			 "lower_is_better");
	cr_assert_eq(test_json_num(r, "ops"), ops);
	cr_assert_eq(test_json_num(r, "per_op.samples"), ops);
	cr_assert(!isnan(p50) && p50 >= 0 && p50 <= p99 && p99 <= max,
		  "%s: p50 %f p99 %f max %f", kind, p50, p99, max);
	cr_assert_gt(test_json_num(r, "per_op_gross.cycles.p50"), 0);
	cr_assert_gt(test_json_num(r, "timer_overhead.samples"), 0);
	cr_assert_eq(test_json_num(j, "rejected_result_records"), 0);
}

Test(micro, pio_exits_once_per_op_and_carries_a_raw_baseline)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=pio count=2000");
	check_record(j, "pio", OPS);
	cr_assert_eq(test_json_num(j, "results.0.exits.pio"), OPS);
	cr_assert_eq(test_json_num(j, "results.0.exits.raw_loop"), OPS);
	cr_assert_eq(test_json_num(j, "results.0.exits.mmio"), 0);
	cr_assert_eq(test_json_num(j, "results.0.raw_baseline.samples"), OPS);
	cr_assert(!isnan(test_json_num(j, "results.0.overhead_vs_raw_pct")));
	cJSON_Delete(j);
}

Test(micro, mmio_exits_once_per_op)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=mmio count=2000");
	check_record(j, "mmio", OPS);
	cr_assert_eq(test_json_num(j, "results.0.exits.mmio"), OPS);
	cr_assert_eq(test_json_num(j, "results.0.exits.raw_loop"), OPS);
	cJSON_Delete(j);
}

Test(micro, ioeventfd_never_exits_to_userspace)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=ioeventfd count=2000");
	check_record(j, "ioeventfd", OPS);
	cr_assert_eq(test_json_num(j, "results.0.exits.pio"), 0);
	cr_assert_eq(test_json_num(j, "results.0.exits.mmio"), 0);
	/* KVM counts every write in the eventfd, however the wakeups coalesce. */
	cr_assert_eq(test_json_num(j, "results.0.exits.ioeventfd_signals"), OPS);
	cJSON_Delete(j);

	j = run_micro("micro kind=ioeventfd space=mmio count=500");
	check_record(j, "ioeventfd", 500);
	cr_assert_eq(test_json_num(j, "results.0.exits.mmio"), 0);
	cr_assert_eq(test_json_num(j, "results.0.exits.ioeventfd_signals"), 500);
	cJSON_Delete(j);
}

Test(micro, irq_round_trip_through_irqfd_and_msix)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=irq count=500");
	check_record(j, "irq", 500);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "irq_mode")), "msix");
	cr_assert_eq(test_json_num(j, "results.0.exits.irqs_injected"), 500);
	cr_assert_eq(test_json_num(j, "results.0.exits.ioeventfd_signals"), 500);
	cJSON_Delete(j);
}

Test(micro, irq_raised_by_the_vcpu_thread)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=irq via=vcpu count=300");
	check_record(j, "irq", 300);
	cr_assert_eq(test_json_num(j, "results.0.exits.irqs_injected"), 300);
	cr_assert_eq(test_json_num(j, "results.0.exits.mmio"), 300, "the doorbell traps");
	cr_assert_eq(test_json_num(j, "results.0.exits.ioeventfd_signals"), 0);
	cJSON_Delete(j);
}

Test(micro, irq_polling_fallback)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=irq irq=poll count=200");
	check_record(j, "irq", 200);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "irq_mode")), "poll");
	cr_assert_eq(test_json_num(j, "results.0.exits.irqs_injected"), 0);
	cr_assert_geq(test_json_num(j, "results.0.exits.mmio"), 200, "status reads exit");
	cJSON_Delete(j);
}

Test(micro, raw_kinds_and_several_workloads_in_one_boot)
{
	cJSON *j;

	test_require_kvm();
	j = run_micro("micro kind=pio-raw count=1000; micro kind=null count=500");
	cr_assert_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "results")), 2);
	check_record(j, "pio-raw", 1000);
	cr_assert_eq(test_json_num(j, "results.0.exits.raw_loop"), 1000);
	cr_assert_eq(test_json_num(j, "results.0.exits.pio"), 0);
	cr_assert_eq(test_json_num(j, "results.1.exits.pio"), 0);
	cJSON_Delete(j);
}

/* A fresh image path (created by the VMM) and its --disk argument. */
static void disk_arg(char *img, char *disk, size_t len, const char *mode, const char *opts)
{
	int fd = mkstemp(img);

	close(fd);
	unlink(img);
	snprintf(disk, len, "%s:%s,%s", mode, img, opts);
}

/* The disk workload on virtio-blk: verified from both sides, and the PV
 * path costs no userspace exit per I/O: one ioeventfd kick, one MSI-X. */
Test(disk, virtio_blk_randread_with_verify)
{
	char img[] = "/tmp/vioscope-disk-XXXXXX", disk[64];
	char *out, *err;
	cJSON *j, *m;
	int rc;

	test_require_kvm();
	disk_arg(img, disk, sizeof(disk), "pv", "size=8M");
	rc = test_run_vmm((const char *[]){ "--quiet", "--disk", disk, "--workload",
		"disk rw=randread bs=4096 iodepth=1 ios=500 verify=1", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	cr_assert_not_null(j);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "kind")), "disk");
	cr_assert_eq(test_json_num(j, "results.0.ops"), 500);
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.ioeventfd_signals"), 1);
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.mmio"), 0);
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.irqs_injected"), 1);
	m = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "metrics");
	for (int i = 0; i < cJSON_GetArraySize(m); i++) {
		const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(m, i), "name"));

		if (!strncmp(n, "verify_mismatches", 17) || !strcmp(n, "io_errors"))
			cr_assert_eq(test_json_num(cJSON_GetArrayItem(m, i), "value"), 0, "%s", n);
		if (!strcmp(n, "iops"))
			cr_assert_gt(test_json_num(cJSON_GetArrayItem(m, i), "value"), 0);
	}
	cr_assert_eq(test_json_num(j, "results.0.verify_blocks"), 32);
	/* perf_event counters of the VMM's threads, per I/O, where the host
	 * allows perf_event_open (else they must say why). */
	if (cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(j, "results"), 0), "threads_per_op"), "unavailable"), "task_clock_ns")) {
		fprintf(stderr, "SKIP: perf_event_open not allowed here: no thread counters\n");
	} else {
		cr_assert_gt(test_json_num(j, "results.0.threads_per_op.vcpu.task_clock_ns"), 0);
		cr_assert_gt(test_json_num(j, "results.0.threads_per_op.io.task_clock_ns"), 0,
			     "the io_uring completions run on the I/O thread");
		/* It blocks between requests (how often per request depends on
		 * whether the guest's next kick beats epoll_wait, and a pause
		 * of this VM lands in whichever thread was on the CPU: ratios
		 * of CPU to wall time are timings, not test assertions here). */
		cr_assert_gt(test_json_num(j, "results.0.threads_per_op.io.context_switches"), 0,
			     "the I/O thread sleeps between requests at QD1");
	}
	cJSON_Delete(j);
	free(out);
	free(err);
	unlink(img);
}

Test(disk, writes_at_depth_and_no_disk_is_a_clear_error)
{
	char img[] = "/tmp/vioscope-disk-XXXXXX", disk[64];
	char *out, *err;
	cJSON *j;
	int rc;

	test_require_kvm();
	disk_arg(img, disk, sizeof(disk), "pv", "size=4M,engine=sync");
	rc = test_run_vmm((const char *[]){ "--quiet", "--disk", disk, "--workload",
		"disk rw=randwrite bs=8192 iodepth=8 ios=400", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	cr_assert_eq(test_json_num(j, "results.0.iodepth"), 8);
	{
		const cJSON *d;
		double writes = -1;

		cJSON_ArrayForEach(d, cJSON_GetObjectItem(j, "devices"))
			if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(d, "model")), "virtio-blk"))
				writes = test_json_num(d, "metrics.counters.writes");
		cr_assert_eq(writes, 400, "every I/O reached the device model");
	}
	cJSON_Delete(j);
	free(out);
	free(err);
	unlink(img);

	rc = test_run_vmm((const char *[]){ "--workload", "disk rw=read", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 2, "VIO_ERR_NODEV without --disk");
	cr_assert_not_null(strstr(out, "add --disk pv:PATH"), "%s", out);
	cJSON_Delete(j);
	free(out);
	free(err);
}

/* The same workload on the emulated AHCI disk: verified both ways, and the
 * cost is visible as trapped MMIO exits per I/O instead of kicks. */
Test(disk, ahci_randread_with_verify_traps_registers)
{
	char img[] = "/tmp/vioscope-ahci-XXXXXX", disk[64];
	char *out, *err;
	cJSON *j;
	int rc;

	test_require_kvm();
	disk_arg(img, disk, sizeof(disk), "emul", "size=8M");
	rc = test_run_vmm((const char *[]){ "--quiet", "--disk", disk, "--workload",
		"disk dev=emul rw=randread bs=4096 iodepth=1 ios=300 verify=1", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	cr_assert_eq(test_json_num(j, "results.0.ops"), 300);
	cr_assert_gt(test_json_num(j, "results.0.exits_per_op.mmio"), 3,
		     "AHCI traps several register accesses per I/O");
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.ioeventfd_signals"), 0);
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.irqs_injected"), 1);
	cr_assert_not_null(strstr(out, "guest 0  host 0"), "verified both ways: %s", out);
	cJSON_Delete(j);
	free(out);
	free(err);
	unlink(img);
}

/* The usb workload: the disk engine over Bulk-Only Transport behind the
 * emulated xHCI. Written and read back, checked by the guest and in the
 * image; each I/O is three TDs (CBW, data, CSW), each a doorbell and an
 * ERDP write (trapped) and an interrupt. */
Test(disk, usb_xhci_write_read_verified_both_ways)
{
	char img[] = "/tmp/vioscope-usb-XXXXXX", disk[64];
	char *out, *err;
	cJSON *j;
	int rc;

	test_require_kvm();
	disk_arg(img, disk, sizeof(disk), "emul", "size=8M");
	rc = test_run_vmm((const char *[]){ "--quiet", "--usb", disk, "--workload",
		"usb rw=randwrite bs=4096 iodepth=4 ios=100 verify=1; usb rw=randread bs=65536 ios=50",
		NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	cr_assert_eq(test_json_num(j, "results.0.ops"), 100);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "device")), "xhci");
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.mmio"), 6, "doorbell + ERDP per TD");
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.ioeventfd_signals"), 0);
	cr_assert_eq(test_json_num(j, "results.1.ops"), 50);
	cr_assert_not_null(strstr(out, "guest 0  host 0"), "verified both ways: %s", out);
	cJSON_Delete(j);
	free(out);
	free(err);
	unlink(img);
	/* No controller: the guest says what to add. */
	rc = test_run_vmm((const char *[]){ "--workload", "usb", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 2, "VIO_ERR_NODEV without --usb");
	cr_assert_not_null(strstr(out, "add --usb emul:PATH"), "%s", out);
	cJSON_Delete(j);
	free(out);
	free(err);
}

/* The paravirtual side: the same engine and BOT driver over the USB/IP
 * channel, every URB through usbip__urb() as for a TCP client. Kicks, not
 * trapped registers: no MMIO exit per I/O. */
Test(disk, usb_usbip_channel_write_read_verified_both_ways)
{
	char img[] = "/tmp/vioscope-usbip-XXXXXX", disk[64];
	char *out, *err;
	cJSON *j;
	int rc;

	test_require_kvm();
	disk_arg(img, disk, sizeof(disk), "pv", "size=8M");
	rc = test_run_vmm((const char *[]){ "--quiet", "--usb", disk, "--workload",
		"usb dev=pv rw=randwrite bs=4096 iodepth=2 ios=100 verify=1", NULL }, &out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	cr_assert_eq(test_json_num(j, "results.0.ops"), 100);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0), "device")), "virtio-usbip");
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.mmio"), 0);
	cr_assert_eq(test_json_num(j, "results.0.exits_per_op.ioeventfd_signals"), 3,
		     "CBW, data and CSW: a kick each");
	cr_assert_not_null(strstr(out, "guest 0  host 0"), "verified both ways: %s", out);
	cJSON_Delete(j);
	free(out);
	free(err);
	unlink(img);
}

/* Input events from the host's keyboard to the guest, behind the xHCI and
 * over the USB/IP channel: every event delivered, none lost at this
 * pace, and the latency computed on the common clock (the VMM's TSC
 * anchors), positive and below the run's length. */
Test(disk, hid_events_reach_the_guest_in_both_modes)
{
	static const char *const modes[][2] = { { "emul", "xhci" }, { "pv", "virtio-usbip" } };
	char img[] = "/tmp/vioscope-hid-XXXXXX", disk[64], work[64];
	char *out, *err;
	cJSON *j, *rec;
	int rc, m;

	test_require_kvm();
	for (m = 0; m < 2; m++) {
		disk_arg(img, disk, sizeof(disk), modes[m][0], "size=1M");
		snprintf(work, sizeof(work), "hid dev=%s events=150 interval=5000", modes[m][0]);
		rc = test_run_vmm((const char *[]){ "--quiet", "--usb", disk, "--workload", work,
						    NULL }, &out, &err, &j);
		cr_assert_eq(rc, 0, "%s %s", out, err);
		rec = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 0);
		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "kind")), "hid");
		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "device")),
				 modes[m][1]);
		cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(rec, "hid_clock")));
		cr_assert_eq(test_json_num(j, "results.0.ops"), 150);
		cr_assert_eq(test_json_num(j, "results.0.hid.lost"), 0);
		cr_assert_gt(test_json_num(j, "results.0.per_op.ns.p50"), 0);
		cr_assert_lt(test_json_num(j, "results.0.per_op.ns.p99"), 150 * 5e6,
			     "latency below the run's length");
		cr_assert_geq(test_json_num(j, "results.0.exits_per_op.irqs_injected"), 1);
		cJSON_Delete(j);
		free(out);
		free(err);
		unlink(img);
	}
}

static double record_metric(const cJSON *rec, const char *name)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "metrics"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")), name))
			return cJSON_GetNumberValue(cJSON_GetObjectItem(m, "value"));
	return -2;
}

/* The emulated display: the guest draws through the framebuffer (no
 * exits), the VMM copies what KVM's dirty log says changed, times frames
 * from the guest's stamp to the refresh that showed them and checks the
 * last frame it saw pixel by pixel, for whole-screen and small-rectangle
 * updates; the capture is a PNG of that frame. */
Test(disk, gfx_frames_on_bochs_display_verified_by_the_host)
{
	char png[] = "/tmp/vioscope-gfx-XXXXXX", gfx[96];
	char *out, *err;
	cJSON *j, *dev;
	int rc, fd = mkstemp(png);

	test_require_kvm();
	close(fd);
	snprintf(gfx, sizeof(gfx), "emul:mode=320x240,capture=%s", png);
	rc = test_run_vmm((const char *[]){ "--quiet", "--gfx", gfx, "--workload",
		"gfx size=320x240 frames=3; gfx pattern=rects size=320x240 frames=100", NULL },
		&out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	for (int i = 0; i < 2; i++) {
		cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), i), *m;
		double bad = -2;

		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "kind")), "gfx");
		cJSON_ArrayForEach(m, cJSON_GetObjectItem(rec, "metrics"))
			if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")),
				    "frame_mismatches"))
				bad = cJSON_GetNumberValue(cJSON_GetObjectItem(m, "value"));
		cr_assert_eq(bad, 0, "record %d: the last frame, pixel by pixel", i);
		/* Seen: at most what was drawn (a 60 Hz refresh shows one). */
		cr_assert_gt(record_metric(rec, "frames_seen_per_s"), 0);
		cr_assert_leq(record_metric(rec, "frames_seen_per_s"), record_metric(rec, "frames_per_s"));
		/* Update latency: frames whose stamp a refresh showed, timed
		 * from the stamp to that refresh (60 Hz: under 100 ms here). */
		cr_assert_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
			rec, "per_op"), "ns"), "p50")), 0);
		cr_assert_lt(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
			rec, "per_op"), "ns"), "p50")), 100e6);
	}
	cr_assert_eq(test_json_num(j, "results.1.ops"), 100);
	cr_assert_eq(test_json_num(j, "results.1.exits_per_op.mmio"), 0, "no exit per frame");
	dev = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "devices"), 0);
	cJSON_ArrayForEach(dev, cJSON_GetObjectItem(j, "devices"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(dev, "model")), "bochs-display"))
			break;
	cr_assert_not_null(dev);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(dev, "dirty_tracking")),
			 "KVM_GET_DIRTY_LOG");
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		dev, "metrics"), "counters"), "dirty_log_errors")), 0);
	cJSON_Delete(j);
	free(out);
	free(err);
	{
		FILE *f = fopen(png, "rb");
		unsigned char sig[8] = { 0 };

		cr_assert_not_null(f);
		cr_assert_eq(fread(sig, 1, 8, f), 8);
		cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0, "the last frame saved as PNG");
		fclose(f);
	}
	unlink(png);
}

/* The paravirtual display, 2D and 3D: the guest's frames reach the host
 * through commands (transfer + flush, or a virgl stream that virglrenderer
 * renders and the VMM reads back), one kick a frame and no trapped
 * register; the host checks the last frame pixel by pixel and saw every
 * frame's stamp. */
static void gfx_on_virtio_gpu(const char *dev)
{
	char gfx[64], work[160];
	char *out, *err;
	cJSON *j;
	int rc, i;

	test_require_kvm();
	if (strcmp(dev, "pv"))
		test_require_virgl();
	snprintf(gfx, sizeof(gfx), "pv:mode=320x240%s", strcmp(dev, "pv") ? ",virgl" : "");
	snprintf(work, sizeof(work), "gfx dev=%s size=320x240 frames=3; "
		 "gfx dev=%s pattern=rects size=320x240 frames=100", dev, dev);
	rc = test_run_vmm((const char *[]){ "--quiet", "--gfx", gfx, "--workload", work, NULL },
			  &out, &err, &j);
	cr_assert_eq(rc, 0, "%s %s", out, err);
	for (i = 0; i < 2; i++) {
		cJSON *rec = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), i);

		cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "device")),
				 strcmp(dev, "pv") ? "virtio-gpu-virgl" : "virtio-gpu");
		cr_assert_eq(record_metric(rec, "frame_mismatches"), 0, "record %d, pixel by pixel", i);
		cr_assert_eq(record_metric(rec, "frames_shown"), i ? 100 : 3, "a flush a frame");
		cr_assert_eq(record_metric(rec, "frames_timed"), i ? 100 : 3, "every stamp seen");
		cr_assert_eq(record_metric(rec, "frames_seen_per_s"), record_metric(rec, "frames_per_s"),
			     "every frame drawn was seen");
	}
	cr_assert_eq(test_json_num(j, "results.1.exits_per_op.mmio"), 0, "no trapped register");
	cr_assert_eq(test_json_num(j, "results.1.exits_per_op.ioeventfd_signals"), 1,
		     "one kick a frame");
	if (!strcmp(dev, "pv"))
		cr_assert_eq(record_metric(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "results"), 1),
					   "transfer_bytes_per_frame"), 64 * 64 * 4 + 4,
			     "the square and the stamp, nothing else");
	cJSON_Delete(j);
	free(out);
	free(err);
}

Test(disk, gfx_frames_on_virtio_gpu_2d_verified_by_the_host)
{
	gfx_on_virtio_gpu("pv");
}

Test(disk, gfx_virgl_clears_and_blits_through_virglrenderer)
{
	gfx_on_virtio_gpu("virgl");
}

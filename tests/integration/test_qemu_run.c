/*
 * vioscope run --hypervisor qemu (skipped with the reason without QEMU, for
 * the network without root, for graphics without glmark2): the Linux guest
 * image boots under QEMU (TCG here) and its agent runs fio on QEMU's AHCI
 * and virtio-blk disks, iperf3 over e1000 and virtio-net against a server
 * in a network namespace of the run's own (and the same between two
 * namespaces over a veth pair, the native ceiling), and glmark2 on
 * bochs-display and virtio-gpu (2D and virgl) at the one mode asked for;
 * the figures land in the database with their units, directions and the
 * accelerator, and the report puts the disk
 * cells beside vioscope-vmm's.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/file.h"
#include "tests/helpers.h"

struct qrun {
	char dir[32], suite[96], db_path[96], work[96];
	sqlite3 *db;
};

static long long q(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void need_qemu(void)
{
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: QEMU is not installed (scripts/install-deps nested)\n");
		cr_skip_test("no QEMU");
	}
}

/* One iteration of each cell of suite_text in modes under QEMU, in a
 * fresh directory; the database opened. */
static void qemu_run(struct qrun *r, const char *suite_text, const char *modes)
{
	char *out, *err;
	FILE *f;

	snprintf(r->dir, sizeof(r->dir), "/tmp/vioscope-qemu-XXXXXX");
	cr_assert_not_null(mkdtemp(r->dir));
	snprintf(r->suite, sizeof(r->suite), "%s/s", r->dir);
	snprintf(r->db_path, sizeof(r->db_path), "%s/r.db", r->dir);
	snprintf(r->work, sizeof(r->work), "%s/wd", r->dir);
	f = fopen(r->suite, "w");
	cr_assert_not_null(f);
	fprintf(f, "option iterations=1 min-iterations=1\n%s\n", suite_text);
	fclose(f);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--hypervisor", "qemu",
					  "--suite", r->suite, "--modes", (char *)modes, "--db",
					  r->db_path, "--workdir", r->work, NULL }, &out, &err), 0,
		     "%s%s", out, err);
	cr_assert_eq(sqlite3_open_v2(r->db_path, &r->db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	free(out);
	free(err);
}

static void qemu_run_done(struct qrun *r)
{
	char cmd[64];

	sqlite3_close(r->db);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", r->dir);
	cr_assert_eq(system(cmd), 0);
}

/* The same suite on vioscope-vmm into the same database, then both runs
 * side by side in the report. */
static void side_by_side(struct qrun *r)
{
	char report[96], path[128], *out, *err, *html;

	if (access("/dev/kvm", R_OK | W_OK)) {
		fprintf(stderr, "SKIP (side by side): no usable /dev/kvm for vioscope-vmm\n");
		return;
	}
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--suite", r->suite,
					  "--modes", "emul,pv", "--db", r->db_path, "--workdir",
					  r->work, NULL }, &out, &err), 0, "%s", err);
	free(out);
	free(err);
	snprintf(report, sizeof(report), "%s/report", r->dir);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "report", "s", "--with",
					  "s-qemu", "--db", r->db_path, "--out", report, NULL },
			      &out, &err), 0, "%s", err);
	snprintf(path, sizeof(path), "%s/index.html", report);
	html = file__read_text(path);
	cr_assert_not_null(html);
	cr_assert_not_null(strstr(html, "Side by side: run 2 (vioscope-vmm on KVM"));
	cr_assert_not_null(strstr(html, "and run 1 (qemu on TCG)"));
	cr_assert_not_null(strstr(html, "disk rr"));
	snprintf(path, sizeof(path), "%s/with0.svg", report);
	cr_assert_eq(access(path, R_OK), 0, "the side-by-side chart");
	free(html);
	free(out);
	free(err);
}

Test(qemu_run, fio_in_a_linux_guest_on_ahci_and_virtio_blk, .timeout = 600)
{
	struct qrun r;

	need_qemu();
	qemu_run(&r, "disk rr rw=randread bs=4096 iodepth=4 ios=100 qemu_runtime=1", "emul,pv,pt");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM runs WHERE hypervisor = 'qemu' AND "
			     "status = 'done' AND label = 's-qemu'"), 1,
		     "QEMU's runs are a series of their own");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 2);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE mode = 'pt' AND status = "
			     "'unavailable'"), 1);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name = 'iops' AND value > 0"), 2);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name = 'lat_p99' AND value > 0"),
		     2);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM environment WHERE key IN ('qemu_accel', "
			     "'qemu_version', 'guest_image', 'qemu_devices')"), 4);
	side_by_side(&r);
	qemu_run_done(&r);
}

Test(qemu_run, iperf3_in_a_linux_guest_on_e1000_and_virtio_net_and_over_veth, .timeout = 600)
{
	struct qrun r;

	need_qemu();
	if (geteuid()) {
		fprintf(stderr, "SKIP: the network namespace and TAP need root\n");
		cr_skip_test("not root");
	}
	qemu_run(&r, "net tcp kind=tcp-tx qemu_runtime=1", "emul,pv,native");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 3);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name = 'throughput_mbit_s' AND "
			     "value > 1 AND unit = 'Mbit/s' AND direction = 'higher_is_better'"), 3);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name = 'retransmits'"), 3);
	/* The host side went with the namespaces. */
	cr_assert_neq(access("/sys/class/net/vtap0", F_OK), 0, "a TAP was left behind");
	cr_assert_neq(access("/sys/class/net/vs0", F_OK), 0, "a veth was left behind");
	qemu_run_done(&r);
}

/* USB mass storage: QEMU's xHCI (emul), and URB forwarding over USB/IP
 * (pv): the guest's vhci-hcd attaches vioscope usbip-server, which serves
 * its own mass-storage model on the host side of the run's TAP. */
Test(qemu_run, fio_on_usb_storage_over_xhci_ehci_and_usbip, .timeout = 600)
{
	struct qrun r;
	char path[128], *log;

	need_qemu();
	if (geteuid()) {
		fprintf(stderr, "SKIP: USB/IP's namespace and TAP need root\n");
		cr_skip_test("not root");
	}
	if (access("/usr/sbin/usbip", X_OK)) {
		fprintf(stderr, "SKIP: usbip is not installed (scripts/install-deps nested)\n");
		cr_skip_test("no usbip");
	}
	qemu_run(&r, "usb rr rw=randread bs=4096 iodepth=1 qemu_runtime=1\n"
		 "usb er rw=randread bs=4096 iodepth=1 qemu_runtime=1 hc=ehci", "emul,pv");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 3,
		     "xHCI, EHCI and USB/IP");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name = 'iops' AND value > 0"), 3);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE workload = 'er' AND mode = 'pv' AND "
			     "status = 'unavailable'"), 1, "EHCI is an emulated controller");
	snprintf(path, sizeof(path), "%s/usbip-server.log", r.work);
	log = file__read_text(path);
	cr_assert_not_null(log);
	cr_assert_not_null(strstr(log, "1 imports"), "%s", log);
	cr_assert_not_null(strstr(log, " 0 bad messages"), "%s", log);
	free(log);
	cr_assert_neq(access("/sys/class/net/vtap0", F_OK), 0, "a TAP was left behind");
	qemu_run_done(&r);
}

Test(qemu_run, glmark2_in_a_linux_guest_on_bochs_virtio_gpu_and_virgl_at_the_one_mode,
     .timeout = 900)
{
	struct qrun r;

	need_qemu();
	if (system("command -v glmark2-es2-drm >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: glmark2-es2-drm is not installed (scripts/install-deps "
				"nested): no graphics guest image\n");
		cr_skip_test("no glmark2");
	}
	if (system("command -v xvfb-run >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: xvfb-run is not installed (scripts/install-deps nested): "
				"no GL display for virgl\n");
		cr_skip_test("no Xvfb");
	}
	/* virtio-gpu's own EDID offers up to 5120x2160: a surface of 1024x768
	 * (which the run checks) shows the agent's one-mode EDID was taken;
	 * the run also checks the renderer is virgl for gl=virgl. */
	qemu_run(&r, "gfx g size=1024x768\ngfx v size=1024x768 gl=virgl", "emul,pv");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 3,
		     "bochs-display, virtio-gpu, virtio-gpu-gl");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM cells WHERE workload = 'v' AND mode = 'emul' AND "
			     "status = 'unavailable'"), 1, "gl=virgl is the pv display's");
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name = 'fps_mean' AND value > 0 "
			     "AND direction = 'higher_is_better'"), 3);
	cr_assert_eq(q(r.db, "SELECT COUNT(*) FROM metrics WHERE name LIKE 'frame_time_%' AND "
			     "unit = 'ms' AND value > 0"), 15, "one per scene of workloads/glmark2/scenes");
	qemu_run_done(&r);
}

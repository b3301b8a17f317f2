/*
 * vioscope run --hypervisor qemu (skipped with the reason without QEMU, and
 * for the network without root):
 * the Linux guest image boots under QEMU (TCG here), its agent runs fio on
 * QEMU's AHCI and virtio-blk disks, and the figures land in the database
 * with the accelerator recorded; and iperf3 runs over QEMU's e1000 and
 * virtio-net against a server in a network namespace of the run's own.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

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

Test(qemu_run, fio_in_a_linux_guest_on_ahci_and_virtio_blk, .timeout = 600)
{
	char dir[] = "/tmp/vioscope-qemu-XXXXXX", suite[96], db_path[96], work[96], cmd[160];
	char *out, *err;
	sqlite3 *db;
	FILE *f;

	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: QEMU is not installed (scripts/install-deps nested)\n");
		cr_skip_test("no QEMU");
	}
	cr_assert_not_null(mkdtemp(dir));
	snprintf(suite, sizeof(suite), "%s/s", dir);
	snprintf(db_path, sizeof(db_path), "%s/r.db", dir);
	snprintf(work, sizeof(work), "%s/wd", dir);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	fputs("option iterations=1 min-iterations=1\n"
	      "disk rr rw=randread bs=4096 iodepth=4 ios=100 qemu_runtime=1\n", f);
	fclose(f);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--hypervisor", "qemu",
					  "--suite", suite, "--modes", "emul,pv,pt", "--db", db_path,
					  "--workdir", work, NULL }, &out, &err), 0, "%s", err);
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM runs WHERE hypervisor = 'qemu' AND status = 'done'"),
		     1);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 2, "%s", out);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE mode = 'pt' AND status = "
			   "'unavailable'"), 1);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'iops' AND value > 0"), 2);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'lat_p99' AND value > 0"), 2);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM environment WHERE key = 'qemu_accel'"), 1);
	sqlite3_close(db);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(qemu_run, iperf3_in_a_linux_guest_on_e1000_and_virtio_net, .timeout = 600)
{
	char dir[] = "/tmp/vioscope-qemu-XXXXXX", suite[96], db_path[96], work[96], cmd[160];
	char *out, *err;
	sqlite3 *db;
	FILE *f;

	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: QEMU is not installed (scripts/install-deps nested)\n");
		cr_skip_test("no QEMU");
	}
	if (geteuid()) {
		fprintf(stderr, "SKIP: the network namespace and TAP need root\n");
		cr_skip_test("not root");
	}
	cr_assert_not_null(mkdtemp(dir));
	snprintf(suite, sizeof(suite), "%s/s", dir);
	snprintf(db_path, sizeof(db_path), "%s/r.db", dir);
	snprintf(work, sizeof(work), "%s/wd", dir);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	fputs("option iterations=1 min-iterations=1\n"
	      "net tcp kind=tcp-tx qemu_runtime=1\n", f);
	fclose(f);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--hypervisor", "qemu",
					  "--suite", suite, "--modes", "emul,pv", "--db", db_path,
					  "--workdir", work, NULL }, &out, &err), 0, "%s", err);
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 2, "%s%s", out, err);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'throughput_mbit_s' AND "
			   "value > 1 AND unit = 'Mbit/s' AND direction = 'higher_is_better'"), 2);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'retransmits'"), 2);
	sqlite3_close(db);
	/* The host side went with the namespace. */
	cr_assert_neq(access("/sys/class/net/vtap0", F_OK), 0, "a TAP was left behind");
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

Test(qemu_run, glmark2_in_a_linux_guest_on_virtio_gpu_at_the_one_mode, .timeout = 600)
{
	char dir[] = "/tmp/vioscope-qemu-XXXXXX", suite[96], db_path[96], work[96], cmd[160];
	char *out, *err;
	sqlite3 *db;
	FILE *f;

	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: QEMU is not installed (scripts/install-deps nested)\n");
		cr_skip_test("no QEMU");
	}
	if (system("command -v glmark2-es2-drm >/dev/null 2>&1")) {
		fprintf(stderr, "SKIP: glmark2-es2-drm is not installed (scripts/install-deps "
				"nested): no graphics guest image\n");
		cr_skip_test("no glmark2");
	}
	cr_assert_not_null(mkdtemp(dir));
	snprintf(suite, sizeof(suite), "%s/s", dir);
	snprintf(db_path, sizeof(db_path), "%s/r.db", dir);
	snprintf(work, sizeof(work), "%s/wd", dir);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	/* virtio-gpu's own EDID offers up to 5120x2160: a surface of
	 * 1024x768 (which the run checks) shows the agent's one-mode EDID
	 * was taken. */
	fputs("option iterations=1 min-iterations=1\ngfx g size=1024x768\n", f);
	fclose(f);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--hypervisor", "qemu",
					  "--suite", suite, "--modes", "pv", "--db", db_path,
					  "--workdir", work, NULL }, &out, &err), 0, "%s", err);
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 1, "%s%s", out, err);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'fps_mean' AND value > 0 AND "
			   "direction = 'higher_is_better'"), 1);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name LIKE 'frame_time_%' AND "
			   "unit = 'ms' AND value > 0"), 5, "one per scene of workloads/glmark2/scenes");
	sqlite3_close(db);
	free(out);
	free(err);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

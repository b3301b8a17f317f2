/*
 * The network path end to end (needs /dev/kvm and root): vioscope run
 * with frames workloads, so the probe guest's e1000 and virtio-net
 * drivers move test frames through vioscope-vmm's models and a TAP to
 * `vioscope peer` in a network namespace of the run's own, and the peer
 * to peer ceiling over a veth pair. Payloads are checked on both sides:
 * by the peer for what the guest sends, by the guest (verify=1) for what
 * it receives. Nothing of the namespaces is left behind.
 */
#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/helpers.h"

static char dir[] = "/tmp/vioscope-net-XXXXXX";
static char db_path[96], suite_path[96], workdir[96];

static void setup(void)
{
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/n.db", dir);
	snprintf(suite_path, sizeof(suite_path), "%s/net", dir);
	snprintf(workdir, sizeof(workdir), "%s/wd", dir);
	f = fopen(suite_path, "w");
	cr_assert_not_null(f);
	/* Counts below the TAP's queue (1000) plus the ring: none may be lost
	 * even if the guest is slow, so any loss is a bug. */
	fputs("option iterations=1 min-iterations=1\n"
	      "net tx frames=tx size=1514 count=600\n"
	      "net rx frames=rx size=1000 count=400 rate=2000 verify=1\n"
	      "net pp frames=pingpong size=64 count=100 verify=1\n", f);
	fclose(f);
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(net, .init = setup, .fini = teardown, .timeout = 300);

static double q(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	double v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_double(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Metric name of the cell (mode, workload): its one iteration's value. */
static double metric(sqlite3 *db, const char *mode, const char *workload, const char *name)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "SELECT m.value FROM metrics m JOIN iterations i ON "
		 "i.id = m.iteration_id JOIN cells c ON c.id = i.cell_id WHERE c.mode = '%s' AND "
		 "c.workload = '%s' AND m.name = '%s'", mode, workload, name);
	return q(db, sql);
}

static void require_root(void)
{
	if (geteuid()) {
		cr_log_warn("skipped: the network namespace and raw sockets need root");
		cr_skip_test("needs root");
	}
}

Test(net, frames_through_e1000_virtio_net_and_the_native_ceiling)
{
	static const char *const modes[] = { "emul", "pv" };
	char *out, *err;
	sqlite3 *db;
	int i;

	test_require_kvm();
	require_root();
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--suite",
					  suite_path, "--db", db_path, "--workdir", workdir,
					  "--modes", "emul,pv,native", NULL }, &out, &err),
		     0, "%s%s", out, err);
	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 9,
		     "3 workloads x 3 modes: %s", out);
	for (i = 0; i < 2; i++) {
		const char *m = modes[i];

		/* tx: the peer got every frame, each byte as the guest wrote it. */
		cr_assert_eq(metric(db, m, "tx", "peer_frames"), 600, "%s", m);
		cr_assert_gt(metric(db, m, "tx", "frames_per_s"), 0);
		/* rx: every frame arrived, every payload byte checked in the guest. */
		cr_assert_eq(metric(db, m, "rx", "frames_bad"), 0, "%s", m);
		cr_assert_eq(metric(db, m, "rx", "frames_lost"), 0, "%s", m);
		cr_assert_eq(metric(db, m, "rx", "nic_drops"), 0, "%s", m);
		/* pingpong: every echo back, its round trip timed. */
		cr_assert_eq(metric(db, m, "pp", "frames_lost"), 0, "%s", m);
		cr_assert_gt(metric(db, m, "pp", "lat_p50"), 0);
		cr_assert_gt(metric(db, m, "pp", "irqs_per_frame"), 0, "the echo interrupts");
	}
	/* Emulation traps its registers; virtio-net kicks through ioeventfds. */
	cr_assert_geq(metric(db, "emul", "pp", "exits_per_frame"), 2, "TDT, ICR, RDT");
	cr_assert_lt(metric(db, "pv", "pp", "exits_per_frame"), 0.5);
	cr_assert_geq(metric(db, "pv", "pp", "kicks_per_frame"), 1);
	/* The ceiling is far above either. */
	cr_assert_gt(metric(db, "native", "tx", "frames_per_s"),
		     2 * metric(db, "pv", "tx", "frames_per_s"));
	cr_assert_gt(metric(db, "native", "pp", "lat_p50"), 0);
	sqlite3_close(db);
	free(out);
	free(err);
	/* The advice takes round trips the lower-is-better way: no mode is
	 * "above native" for having larger latencies. */
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "recommend", "--db", db_path,
					  NULL }, &out, &err), 0, "%s", err);
	for (const char *p = strstr(out, " of native throughput"); p;
	     p = strstr(p + 1, " of native throughput")) {
		const char *num = p;

		while (num > out && (num[-1] == '.' || (num[-1] >= '0' && num[-1] <= '9')))
			num--;
		cr_assert_leq(atof(num), 1.0, "%s", out);
	}
	cr_assert_not_null(strstr(out, "net: "), "%s", out);
	/* Nothing left in this namespace (the run's own are gone with it). */
	cr_assert_neq(system("ip link show vtap0 >/dev/null 2>&1"), 0);
	free(out);
	free(err);
}

/*
 * vioscope run end to end (needs /dev/kvm; fio for the native cells): a
 * small suite into a temporary database, every sample stored, the
 * unavailable mode recorded with its reason; a run killed with SIGKILL
 * keeps what it committed and --resume finishes it.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib/file.h"
#include "tests/helpers.h"

static char dir[] = "/tmp/vioscope-run-XXXXXX";
static char db_path[96], suite_path[96], workdir[96];

static void setup(void)
{
	FILE *f;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/r.db", dir);
	snprintf(suite_path, sizeof(suite_path), "%s/mini", dir);
	snprintf(workdir, sizeof(workdir), "%s/wd", dir);
	f = fopen(suite_path, "w");
	cr_assert_not_null(f);
	fputs("# two cells a mode, two iterations each\n"
	      "option iterations=2 min-iterations=2\n"
	      "disk rr rw=randread bs=4096 iodepth=1 ios=300 verify=1 native_runtime=1\n"
	      "disk sw rw=write bs=65536 iodepth=2 ios=100\n", f);
	fclose(f);
}

static void teardown(void)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(run, .init = setup, .fini = teardown, .timeout = 300);

static sqlite3 *open_db(void)
{
	sqlite3 *db;

	cr_assert_eq(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static long long q(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	long long v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
		     sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static bool have_fio(void)
{
	return system("command -v fio >/dev/null 2>&1") == 0;
}

/* What every finished run of the mini suite must hold. */
static void check_complete(sqlite3 *db)
{
	long long done = have_fio() ? 6 : 4;

	cr_assert_eq(q(db, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells"), 8, "2 workloads x 4 modes");
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), done);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE mode = 'pt' AND status = 'unavailable' "
			   "AND length(reason) > 20"), 2, "pass-through says why it cannot run");
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM iterations"), 2 * done, "warm-ups are not kept");
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM (SELECT cell_id FROM iterations GROUP BY cell_id "
			   "HAVING MIN(seq) = 1 AND MAX(seq) = 2)"), done);
	/* Every guest I/O's latency is in the database. */
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM samples s JOIN iterations i ON i.id = s.iteration_id "
			   "JOIN cells c ON c.id = i.cell_id WHERE c.mode IN ('emul', 'pv') AND "
			   "s.count = (CASE c.workload WHEN 'rr' THEN 300 ELSE 100 END) AND "
			   "length(s.data) = 8 * s.count"), 8);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'iops' AND value > 0"), 2 * done);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'lat_p99' AND "
			   "direction = 'lower_is_better' AND value > 0"), 2 * done);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name LIKE 'verify_mismatches%' AND "
			   "value != 0"), 0);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM environment WHERE key IN ('kernel', 'cpu', "
			   "'kvm_kind', 'git_revision')"), 4);
}

/* Every chart index.html shows exists, as SVG and PNG. */
static void check_report(const char *outdir)
{
	char path[320], *html, *p;
	int charts = 0;

	snprintf(path, sizeof(path), "%s/index.html", outdir);
	html = file__read_text(path);
	cr_assert_not_null(html, "no %s", path);
	for (p = html; (p = strstr(p, "<img src=\"")); p++) {
		char name[96];

		cr_assert_eq(sscanf(p + 10, "%95[^.\"].svg", name), 1);
		snprintf(path, sizeof(path), "%s/%s.svg", outdir, name);
		cr_assert_eq(access(path, R_OK), 0, "%s is referenced but missing", path);
		snprintf(path, sizeof(path), "%s/%s.png", outdir, name);
		cr_assert_eq(access(path, R_OK), 0, "%s is referenced but missing", path);
		charts++;
	}
	/* two workloads: throughput, p99, CDF and exits each */
	cr_assert_geq(charts, 8, "%d charts", charts);
	cr_assert_not_null(strstr(html, "Recommendation"));
	cr_assert_not_null(strstr(html, "kvm_kind"));
	cr_assert_not_null(strstr(html, "unavailable"));
	free(html);
}

Test(run, a_suite_lands_in_the_database)
{
	char *out, *err, report[128];
	sqlite3 *db;

	test_require_kvm();
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--suite", suite_path,
					  "--db", db_path, "--workdir", workdir, "--label", "t", NULL },
			      &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "unavailable: "), "%s", out);
	db = open_db();
	check_complete(db);
	sqlite3_close(db);
	free(out);
	free(err);

	snprintf(report, sizeof(report), "%s/report", dir);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "report", "--db", db_path,
					  "--out", report, NULL }, &out, &err), 0, "%s", err);
	check_report(report);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "export", "--db", db_path,
					  "--format", "openmetrics", NULL }, &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "# TYPE vioscope_iops gauge"), "%s", out);
	cr_assert_not_null(strstr(out, "mode=\"pv\",workload=\"rr\""), "%s", out);
	cr_assert_not_null(strstr(out, "vioscope_cell_unavailable{"), "%s", out);
	cr_assert(strlen(out) > 6 && !strcmp(out + strlen(out) - 6, "# EOF\n"), "%s", out);
	free(out);
	free(err);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "recommend", "--db", db_path,
					  NULL }, &out, &err), 0, "%s", err);
	cr_assert_not_null(strstr(out, "disk: "), "%s", out);
	free(out);
	free(err);
}

/* SIGKILL at some point after the first commit: --resume finishes the run. */
Test(run, killed_runs_resume)
{
	struct timespec ts = { 0, 100 * 1000 * 1000 };
	char *out, *err;
	long long got = 0;
	sqlite3 *db;
	pid_t pid;
	int i, status;

	test_require_kvm();
	pid = fork();
	if (pid == 0) {
		setpgid(0, 0);
		freopen("/dev/null", "w", stdout);
		freopen("/dev/null", "w", stderr);
		execl(test_bin("vioscope"), "vioscope", "run", "--suite", suite_path, "--db", db_path,
		      "--workdir", workdir, "--modes", "emul,pv", NULL);
		_exit(127);
	}
	for (i = 0; i < 600 && got < 3; i++) {
		nanosleep(&ts, NULL);
		if (access(db_path, R_OK))
			continue;
		db = open_db();
		got = q(db, "SELECT COUNT(*) FROM iterations");
		sqlite3_close(db);
	}
	cr_assert_geq(got, 3, "no iteration committed in 60 s");
	kill(-pid, SIGKILL);	/* the run and the VMM it is running */
	waitpid(pid, &status, 0);
	db = open_db();
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM runs WHERE status = 'running'"), 1);
	cr_assert_geq(q(db, "SELECT COUNT(*) FROM iterations"), 3, "committed iterations survive");
	sqlite3_close(db);

	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--resume", "--db",
					  db_path, "--workdir", workdir, NULL }, &out, &err), 0,
		     "%s", err);
	db = open_db();
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM runs WHERE status = 'done'"), 1);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 4);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM iterations"), 8, "each cell exactly 2, once");
	sqlite3_close(db);
	free(out);
	free(err);
}

Test(run, bad_usage_is_one_clear_line)
{
	static const char *const cases[][3] = {
		{ "--suite", "no-such-suite", "cannot read" },
		{ "--iterations", "0", "--iterations" },
		{ "--cv", "-1", "--cv" },
		{ "--resume", NULL, "no unfinished run" },
	};
	char *out, *err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--db", db_path,
						  (char *)cases[i][0], (char *)cases[i][1], NULL },
				      &out, &err), 1, "%s %s", cases[i][0], cases[i][1] ?: "");
		cr_assert_eq(test_count_lines(err), 1, "%s", err);
		cr_assert_not_null(strstr(err, cases[i][2]), "%s", err);
		free(out);
		free(err);
	}
}

/* The usb class on vioscope-vmm: the xHCI model and the USB/IP channel
 * under the probe guest's BOT driver, fio on the image as the disk-native
 * ceiling, pass-through unavailable with its reason; and an events= line,
 * the input latency on the same two paths, its headline the median. */
Test(run, usb_and_gfx_classes_run_on_the_reference_vmm)
{
	char *out, *err, usb_suite[128];
	sqlite3 *db;
	FILE *f;

	test_require_kvm();
	snprintf(usb_suite, sizeof(usb_suite), "%s/usb-mini", dir);
	f = fopen(usb_suite, "w");
	cr_assert_not_null(f);
	fputs("option iterations=1 min-iterations=1\n"
	      "usb rr rw=randread bs=4096 iodepth=1 ios=200 verify=1 native_runtime=1\n"
	      "usb keys events=100 interval=3000\n"
	      "gfx sq pattern=rects size=320x240 frames=50\n"
	      "gfx sq3 pattern=rects size=320x240 frames=50 gl=virgl\n", f);
	fclose(f);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--suite", usb_suite,
					  "--db", db_path, "--workdir", workdir, "--label", "u", NULL },
			      &out, &err), 0, "%s", err);
	db = open_db();
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE class = 'usb' AND mode IN ('emul', "
			   "'pv') AND status = 'done'"), 4);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE class = 'usb' AND mode = 'pt' AND "
			   "status = 'unavailable' AND length(reason) > 20"), 2);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE workload = 'keys' AND "
			   "mode = 'native' AND status = 'unavailable'"), 1);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM samples s JOIN iterations i ON i.id = "
			   "s.iteration_id JOIN cells c ON c.id = i.cell_id WHERE c.class = 'usb' AND "
			   "s.count = (CASE c.workload WHEN 'rr' THEN 200 ELSE 100 END)"), 4,
		     "every I/O's and every event's latency, both modes");
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics m JOIN iterations i ON i.id = "
			   "m.iteration_id JOIN cells c ON c.id = i.cell_id WHERE c.workload = 'keys' "
			   "AND m.name = 'lat_p50' AND m.value > 0"), 2);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name LIKE 'verify_mismatches%' AND "
			   "value != 0"), 0);
	/* The displays: the probe guest's frames on bochs-display (emul),
	 * virtio-gpu 2D (pv) and virgl (pv, gl=virgl), each cell keeping its
	 * last frame for the report. */
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE workload LIKE 'sq%' AND status = 'done'"),
		     3);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE workload = 'sq3' AND mode = 'emul' AND "
			   "status = 'unavailable'"), 1, "gl= is the pv display's");
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM metrics WHERE name = 'frame_mismatches' AND "
			   "value = 0"), 3);
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM frames WHERE hex(substr(png, 1, 4)) = '89504E47'"), 3);
	sqlite3_close(db);
	free(out);
	free(err);
	{
		char report[300], png[340], *html;

		snprintf(report, sizeof(report), "%s/report", dir);
		cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "report", "--db",
						  db_path, "--out", report, NULL }, &out, &err), 0, "%s", err);
		snprintf(png, sizeof(png), "%s/index.html", report);
		html = file__read_text(png);
		cr_assert_not_null(html);
		cr_assert_not_null(strstr(html, "-frame.png"), "the frames beside the numbers");
		free(html);
		free(out);
		free(err);
	}
}

/* `make demo`'s way: run --trace (root, BTF). Disk cells get their stage
 * breakdown; classes whose models fire no request probes (gfx) run as
 * without it. */
Test(run, traced_runs_keep_stages_and_run_every_class)
{
	char *out, *err, suite[128];
	sqlite3 *db;
	FILE *f;

	test_require_kvm();
	test_require_bpf();
	snprintf(suite, sizeof(suite), "%s/traced", dir);
	f = fopen(suite, "w");
	cr_assert_not_null(f);
	fputs("option iterations=1 min-iterations=1\n"
	      "disk rr rw=randread bs=4096 iodepth=1 ios=200\n"
	      "gfx sq pattern=rects size=320x240 frames=30\n", f);
	fclose(f);
	cr_assert_eq(test_run((char *[]){ (char *)test_bin("vioscope"), "run", "--suite", suite,
					  "--modes", "emul,pv", "--trace", "--db", db_path,
					  "--workdir", workdir, NULL }, &out, &err), 0, "%s", err);
	db = open_db();
	cr_assert_eq(q(db, "SELECT COUNT(*) FROM cells WHERE status = 'done'"), 4, "%s", err);
	cr_assert_gt(q(db, "SELECT COUNT(*) FROM stages s JOIN iterations i ON i.id = "
			   "s.iteration_id JOIN cells c ON c.id = i.cell_id WHERE c.class = 'disk'"), 0);
	sqlite3_close(db);
	free(out);
	free(err);
}

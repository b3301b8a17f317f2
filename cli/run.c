/*
 * vioscope run [--suite NAME] [--classes LIST] [--modes LIST] [--iterations N]
 *              [--min-iterations N] [--cv PCT] [--db FILE] [--label TEXT]
 *              [--trace] [--workdir DIR] [--resume[=RUN]]
 *
 * The matrix: every workload of a suite (workloads/NAME) in every mode,
 * each cell with a discarded warm-up, then iterations until the headline
 * metric's coefficient of variation is at most --cv (after at least
 * --min-iterations) or --iterations is reached, the Phoronix way. Cells
 * take turns, in reverse order every other round, so that slow drift of
 * the host spreads over all of them. Every iteration is committed to the
 * SQLite database on its own: a run killed at any point loses at most the
 * cell in progress, and --resume continues it.
 */
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gsl/gsl_statistics_double.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyzers/stats.h"
#include "cli/cli.h"
#include "cli/run.h"
#include "hypervisor/qemu/qemu.h"
#include "lib/clock.h"
#include "lib/db.h"
#include "lib/env.h"
#include "lib/file.h"
#include "lib/log.h"

static const struct class_runner *const runners[] = { &run_disk, &run_net, &run_usb, &run_gfx };

struct cell {
	char class[8], mode[8], workload[SUITE_NAME_MAX], spec[SUITE_PARAMS_MAX];
	const struct class_runner *runner;
	sqlite3_int64 id;
	bool active;		/* still iterating */
	bool warm;
	int iters;
	double *headline;	/* one value per iteration */
};

struct run_opts {
	const char *suite, *classes, *modes, *db_path, *label, *workdir, *hypervisor;
	int max_iter, min_iter;
	double cv_pct;
	bool trace;
	bool resume;
	sqlite3_int64 resume_id;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

void run_result__add(struct run_result *r, const char *name, const char *unit,
		     bool higher_is_better, double value)
{
	struct run_metric *m;
	int i;

	for (i = 0; i < r->nm && strcmp(r->m[i].name, name); i++)
		;
	if (i == RUN_MAX_METRICS)
		return;
	m = &r->m[i];
	snprintf(m->name, sizeof(m->name), "%s", name);
	snprintf(m->unit, sizeof(m->unit), "%s", unit);
	m->higher_is_better = higher_is_better;
	m->value = value;
	if (i == r->nm)
		r->nm++;
}

void run_result__free(struct run_result *r)
{
	free(r->samples);
	cJSON_Delete(r->stages);
	memset(r, 0, sizeof(*r));
}

pid_t run__spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Nothing outlives the run: a killed vioscope takes its tools
		 * (and the network namespaces they hold) along. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		execvp(argv[0], argv);
		fprintf(stderr, "vioscope: run: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

int run__wait(pid_t pid)
{
	int status;

	if (pid < 0)
		return -1;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool run__have(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[512];

	while (path && *path) {
		size_t n = strcspn(path, ":");

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

bool run__have_iommu(void)
{
	DIR *d = opendir("/sys/kernel/iommu_groups");
	struct dirent *e;
	bool any = false;

	while (d && (e = readdir(d)))
		any |= e->d_name[0] != '.';
	if (d)
		closedir(d);
	return any;
}

void run__fail_child(const char *log, const char *what)
{
	FILE *f = fopen(log, "a");

	if (f) {
		fprintf(f, "error: %s: %s\n", what, strerror(errno));
		fclose(f);
	}
	_exit(125);
}

int run__command(char *const argv[], const char *log)
{
	return run__wait(run__spawn(argv, log));
}

static const struct class_runner *runner_of(const char *class)
{
	size_t i;

	for (i = 0; i < sizeof(runners) / sizeof(runners[0]); i++)
		if (!strcmp(runners[i]->class, class))
			return runners[i];
	return NULL;
}

/* "a,b,c" contains word? (NULL list: everything.) */
static bool listed(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

static void now_iso(char *buf, size_t len)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void check(sqlite3 *db, int rc, const char *what)
{
	if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW)
		die("run: database: %s: %s", what, sqlite3_errmsg(db));
}

/* A prepared statement with text/number parameters bound in order
 * ("t" text, "i" int64, "d" double), stepped once. */
static sqlite3_int64 sql1(sqlite3 *db, const char *sql, const char *types, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i, rc;

	check(db, sqlite3_prepare_v2(db, sql, -1, &st, NULL), sql);
	va_start(ap, types);
	for (i = 0; types[i]; i++) {
		if (types[i] == 't')
			sqlite3_bind_text(st, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		else if (types[i] == 'i')
			sqlite3_bind_int64(st, i + 1, va_arg(ap, sqlite3_int64));
		else
			sqlite3_bind_double(st, i + 1, va_arg(ap, double));
	}
	va_end(ap);
	rc = sqlite3_step(st);
	check(db, rc, sql);
	sqlite3_finalize(st);
	return sqlite3_last_insert_rowid(db);
}

static void exec(sqlite3 *db, const char *sql)
{
	char why[256];

	if (db__exec(db, sql, why, sizeof(why)))
		die("run: database: %s", why);
}

/* The label runs are compared by (trends, compare, history): the suite's
 * name, with "-qemu" for QEMU's runs, which are not the same series. */
static const char *default_label(char *buf, size_t len, const struct run_opts *o,
				 const char *suite)
{
	if (o->label)
		return o->label;
	snprintf(buf, len, "%s%s", suite, strcmp(o->hypervisor, "qemu") ? "" : "-qemu");
	return buf;
}

/* What QEMU runs: its version, the guest image's manifest (kernel, fio,
 * iperf3) and the devices each class and mode stands for. */
static void add_qemu_env(cJSON *env, const struct run_ctx *ctx)
{
	cJSON *devs = cJSON_AddObjectToObject(env, "qemu_devices"), *manifest;
	const struct qemu_device *d;
	char buf[320], *text;
	size_t i;

	cJSON_AddStringToObject(env, "qemu_version", qemu__version(buf, sizeof(buf)));
	snprintf(buf, sizeof(buf), "%s/manifest.json", ctx->guest_dir);
	text = ctx->guest_dir[0] ? file__read_text(buf) : NULL;
	manifest = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (manifest)
		cJSON_AddItemToObject(env, "guest_image", manifest);
	for (i = 0; (d = qemu__device_at(i)); i++) {
		snprintf(buf, sizeof(buf), "%s/%s", d->class, d->mode);
		cJSON_AddStringToObject(devs, buf, d->what);
	}
}

static sqlite3_int64 new_run(sqlite3 *db, const struct run_opts *o, const struct run_ctx *ctx,
			     const char *suite, const char *command)
{
	cJSON *env = env__to_json(), *e;
	char started[32], label[80];
	sqlite3_int64 id;

	now_iso(started, sizeof(started));
	exec(db, "BEGIN IMMEDIATE");
	if (!strcmp(ctx->hypervisor, "qemu")) {
		/* TCG figures are for comparing modes within the run only. */
		cJSON_AddStringToObject(env, "qemu_accel", ctx->accel);
		if (!strcmp(ctx->accel, "tcg"))
			cJSON_AddStringToObject(env, "relative_only", "yes: QEMU under TCG");
		add_qemu_env(env, ctx);
	}
	id = sql1(db, "INSERT INTO runs(label, suite, git_revision, started_at, status, command, "
		      "max_iterations, min_iterations, cv_target, hypervisor) "
		      "VALUES (?, ?, ?, ?, 'running', ?, ?, ?, ?, ?)", "tttttiidt",
		  default_label(label, sizeof(label), o, suite), suite,
		  cJSON_GetStringValue(cJSON_GetObjectItem(env, "git_revision")) ?: "unknown",
		  started, command, (sqlite3_int64)o->max_iter, (sqlite3_int64)o->min_iter, o->cv_pct,
		  ctx->hypervisor);
	cJSON_ArrayForEach(e, env) {
		char *v = cJSON_IsString(e) ? strdup(e->valuestring) : cJSON_PrintUnformatted(e);

		sql1(db, "INSERT INTO environment(run_id, key, value) VALUES (?, ?, ?)", "itt", id,
		     e->string, v ? v : "");
		free(v);
	}
	exec(db, "COMMIT");
	cJSON_Delete(env);
	return id;
}

static void add_cell(struct cell **cells, size_t *nr, const char *class, const char *mode,
		     const char *workload, const char *spec)
{
	struct cell *c = realloc(*cells, (*nr + 1) * sizeof(**cells));

	if (!c)
		die("run: out of memory");
	*cells = c;
	c = &c[(*nr)++];
	memset(c, 0, sizeof(*c));
	snprintf(c->class, sizeof(c->class), "%s", class);
	snprintf(c->mode, sizeof(c->mode), "%s", mode);
	snprintf(c->workload, sizeof(c->workload), "%s", workload);
	snprintf(c->spec, sizeof(c->spec), "%s", spec);
	c->runner = runner_of(class);
}

/* Registers a cell: unavailable ones are final at once, with the reason. */
/* The metric a cell's iterations converge on. */
static const char *cell_headline(const struct cell *c)
{
	return c->runner->headline_for ? c->runner->headline_for(c->spec) : c->runner->headline;
}

static void insert_cell(sqlite3 *db, sqlite3_int64 run, const struct run_ctx *ctx, struct cell *c)
{
	const char *reason = NULL;
	char buf[320];

	if (!c->runner)
		reason = "this device class is not built yet";
	else
		reason = c->runner->unavailable(ctx, c->mode, c->spec, buf, sizeof(buf));
	c->id = sql1(db, "INSERT INTO cells(run_id, class, mode, workload, spec, status, reason, "
			 "headline) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "itttttt" "t", run, c->class,
		     c->mode, c->workload, c->spec, reason ? "unavailable" : "running",
		     reason ? reason : "", c->runner ? cell_headline(c) : "");
	c->active = !reason;
}

/* --resume: the run's cells and stopping rule as stored; cells not
 * finished start over. */
static sqlite3_int64 load_run(sqlite3 *db, struct run_opts *o, struct cell **cells, size_t *nr)
{
	sqlite3_int64 want = o->resume_id, run = 0;
	sqlite3_stmt *st;

	check(db, sqlite3_prepare_v2(db, want ?
				     "SELECT id, max_iterations, min_iterations, cv_target, hypervisor "
				     "FROM runs WHERE id = ?" :
				     "SELECT id, max_iterations, min_iterations, cv_target, hypervisor "
				     "FROM runs WHERE status IN ('running', 'interrupted') "
				     "ORDER BY id DESC LIMIT 1",
				     -1, &st, NULL), "resume");
	if (want)
		sqlite3_bind_int64(st, 1, want);
	if (sqlite3_step(st) == SQLITE_ROW) {
		run = sqlite3_column_int64(st, 0);
		if (!o->max_iter)
			o->max_iter = sqlite3_column_int(st, 1);
		if (!o->min_iter)
			o->min_iter = sqlite3_column_int(st, 2);
		if (!o->cv_pct)
			o->cv_pct = sqlite3_column_double(st, 3);
		o->hypervisor = strdup((const char *)sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
	if (!run)
		die(want ? "run: --resume=%lld: no such run" : "run: --resume: no unfinished run%.0lld",
		    (long long)want);
	exec(db, "BEGIN IMMEDIATE");
	sql1(db, "DELETE FROM iterations WHERE cell_id IN (SELECT id FROM cells WHERE run_id = ? "
		 "AND status = 'running')", "i", run);
	sql1(db, "UPDATE runs SET status = 'running' WHERE id = ?", "i", run);
	exec(db, "COMMIT");
	check(db, sqlite3_prepare_v2(db, "SELECT id, class, mode, workload, spec, status FROM cells "
				     "WHERE run_id = ? ORDER BY id", -1, &st, NULL), "resume");
	sqlite3_bind_int64(st, 1, run);
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct cell *c;

		add_cell(cells, nr, (const char *)sqlite3_column_text(st, 1),
			 (const char *)sqlite3_column_text(st, 2),
			 (const char *)sqlite3_column_text(st, 3),
			 (const char *)sqlite3_column_text(st, 4));
		c = &(*cells)[*nr - 1];
		c->id = sqlite3_column_int64(st, 0);
		c->active = !strcmp((const char *)sqlite3_column_text(st, 5), "running") && c->runner;
	}
	sqlite3_finalize(st);
	return run;
}

/* One iteration, committed in one transaction with everything it measured. */
static void store_iteration(sqlite3 *db, struct cell *c, const char *started, double secs,
			    const struct run_result *r)
{
	sqlite3_int64 it;
	sqlite3_stmt *st;
	const cJSON *d, *s;
	int i;

	exec(db, "BEGIN IMMEDIATE");
	it = sql1(db, "INSERT INTO iterations(cell_id, seq, started_at, seconds) VALUES (?, ?, ?, ?)",
		  "iitd", c->id, (sqlite3_int64)c->iters + 1, started, secs);
	for (i = 0; i < r->nm; i++)
		sql1(db, "INSERT INTO metrics(iteration_id, name, unit, direction, value) "
			 "VALUES (?, ?, ?, ?, ?)", "itttd", it, r->m[i].name, r->m[i].unit,
		     r->m[i].higher_is_better ? "higher_is_better" : "lower_is_better", r->m[i].value);
	if (r->nsamples) {
		check(db, sqlite3_prepare_v2(db, "INSERT INTO samples(iteration_id, unit, count, data) "
					     "VALUES (?, 'ns', ?, ?)", -1, &st, NULL), "samples");
		sqlite3_bind_int64(st, 1, it);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)r->nsamples);
		/* x86-64 is little-endian: the blob is the array as it is. */
		sqlite3_bind_blob64(st, 3, r->samples, r->nsamples * sizeof(uint64_t), SQLITE_STATIC);
		check(db, sqlite3_step(st), "samples");
		sqlite3_finalize(st);
	}
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(r->stages, "devices"))
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(d, "stages"))
			sql1(db, "INSERT INTO stages(iteration_id, device, stage, n, mean_ns, p50_ns, "
				 "p99_ns) VALUES (?, ?, ?, ?, ?, ?, ?)", "ittiddd", it,
			     cJSON_GetStringValue(cJSON_GetObjectItem(d, "device")) ?: "?",
			     cJSON_GetStringValue(cJSON_GetObjectItem(s, "stage")) ?: "?",
			     (sqlite3_int64)cJSON_GetNumberValue(cJSON_GetObjectItem(s, "n")),
			     cJSON_GetNumberValue(cJSON_GetObjectItem(s, "mean_ns")),
			     cJSON_GetNumberValue(cJSON_GetObjectItem(s, "p50_ns")),
			     cJSON_GetNumberValue(cJSON_GetObjectItem(s, "p99_ns")));
	if (r->frame[0]) {		/* the cell keeps its last iteration's frame */
		size_t len;
		char *png = file__read(r->frame, &len);

		if (png) {
			check(db, sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO frames(cell_id, "
						     "iteration_id, png) VALUES (?, ?, ?)", -1, &st,
						     NULL), "frames");
			sqlite3_bind_int64(st, 1, c->id);
			sqlite3_bind_int64(st, 2, it);
			sqlite3_bind_blob64(st, 3, png, len, SQLITE_STATIC);
			check(db, sqlite3_step(st), "frames");
			sqlite3_finalize(st);
			free(png);
		}
	}
	exec(db, "COMMIT");
}

static double cv_pct(const double *v, int n)
{
	double mean;

	if (n < 2)
		return 100;
	mean = gsl_stats_mean(v, 1, (size_t)n);
	return mean != 0 ? gsl_stats_sd_m(v, 1, (size_t)n, mean) / mean * 100 : 100;
}

static void finish_cell(sqlite3 *db, struct cell *c, const char *status, const char *reason)
{
	sql1(db, "UPDATE cells SET status = ?, reason = ?, cv = ? WHERE id = ?", "ttdi", status,
	     reason ? reason : "", c->iters > 1 ? cv_pct(c->headline, c->iters) : 0.0, c->id);
	c->active = false;
}

/* Latency statistics from the samples, the same way for every mode. */
static void add_latency(struct run_result *r)
{
	struct stats_summary s;

	if (!r->nsamples || stats__summarize_u64(r->samples, r->nsamples, 1.0, &s))
		return;
	run_result__add(r, "lat_mean", "ns", false, s.mean);
	run_result__add(r, "lat_p50", "ns", false, s.p50);
	run_result__add(r, "lat_p99", "ns", false, s.p99);
	run_result__add(r, "lat_p999", "ns", false, s.p999);
}

static double headline_of(const struct run_result *r, const char *name)
{
	int i;

	for (i = 0; i < r->nm; i++)
		if (!strcmp(r->m[i].name, name))
			return r->m[i].value;
	return -1;
}

static void progress(const struct cell *c, size_t idx, size_t nr, const char *what,
		     double eta_s, bool tty)
{
	fprintf(stderr, "%s[%zu/%zu] %s/%s/%s %s", tty ? "\r\033[K" : "", idx + 1, nr, c->class,
		c->mode, c->workload, what);
	/* Counted as if every cell converged at the minimum: a lower bound. */
	if (eta_s >= 0)
		fprintf(stderr, ", ETA >= %dm%02ds", (int)eta_s / 60, (int)eta_s % 60);
	fputs(tty ? "" : "\n", stderr);
	fflush(stderr);
}

/* Executions still due if every active cell converges at the minimum. */
static int remaining(const struct cell *cells, size_t nr, int min_iter)
{
	int n = 0;
	size_t i;

	for (i = 0; i < nr; i++)
		if (cells[i].active)
			n += (cells[i].warm ? 0 : 1) +
			     (cells[i].iters < min_iter ? min_iter - cells[i].iters : 1);
	return n;
}

/* Runs one execution of cell c; false when the cell is over (failed). */
static bool step(sqlite3 *db, const struct run_opts *o, const struct run_ctx *ctx, struct cell *c,
		 double *secs)
{
	struct suite_line l = { 0 };
	struct run_result r = { 0 };
	char why[512], started[32];
	uint64_t t0 = now_ns();
	double h;

	snprintf(l.class, sizeof(l.class), "%s", c->class);
	snprintf(l.name, sizeof(l.name), "%s", c->workload);
	snprintf(l.params, sizeof(l.params), "%s", c->spec);
	now_iso(started, sizeof(started));
	if (c->runner->run(ctx, c->mode, &l, &r, why, sizeof(why))) {
		run_result__free(&r);
		if (stop)
			return true;	/* interrupted: the cell stays "running" for --resume */
		finish_cell(db, c, "failed", why);
		pr_err("run: %s/%s/%s failed: %s", c->class, c->mode, c->workload, why);
		return false;
	}
	*secs = (double)(now_ns() - t0) / 1e9;
	if (!c->warm) {
		c->warm = true;		/* the warm-up is not kept */
		run_result__free(&r);
		return true;
	}
	add_latency(&r);
	h = headline_of(&r, cell_headline(c));
	store_iteration(db, c, started, *secs, &r);
	run_result__free(&r);
	c->headline = realloc(c->headline, (size_t)(c->iters + 1) * sizeof(double));
	if (!c->headline)
		die("run: out of memory");
	c->headline[c->iters++] = h;
	if (c->iters >= o->max_iter ||
	    (c->iters >= o->min_iter && cv_pct(c->headline, c->iters) <= o->cv_pct))
		finish_cell(db, c, "done", NULL);
	return true;
}

static void summary(sqlite3 *db, sqlite3_int64 run)
{
	sqlite3_stmt *st;

	check(db, sqlite3_prepare_v2(db,
		"SELECT c.class, c.mode, c.workload, c.status, c.reason, c.headline, c.cv, "
		"COUNT(m.value), AVG(m.value) FROM cells c "
		"LEFT JOIN iterations i ON i.cell_id = c.id "
		"LEFT JOIN metrics m ON m.iteration_id = i.id AND m.name = c.headline "
		"WHERE c.run_id = ? GROUP BY c.id ORDER BY c.class, c.workload, c.mode", -1, &st, NULL),
	      "summary");
	sqlite3_bind_int64(st, 1, run);
	printf("%-6s %-20s %-7s %5s %12s %7s  %s\n", "class", "workload", "mode", "iters",
	       "headline", "cv %", "status");
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 3);

		printf("%-6s %-20s %-7s %5d ", sqlite3_column_text(st, 0), sqlite3_column_text(st, 2),
		       sqlite3_column_text(st, 1), sqlite3_column_int(st, 7));
		if (!strcmp(status, "done"))
			printf("%12.1f %7.2f  %s (%s)\n", sqlite3_column_double(st, 8),
			       sqlite3_column_double(st, 6), status, sqlite3_column_text(st, 5));
		else
			printf("%12s %7s  %s: %s\n", "-", "-", status, sqlite3_column_text(st, 4));
	}
	sqlite3_finalize(st);
}

static void parse(int argc, char **argv, struct run_opts *o)
{
	static const struct option longopts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "classes", required_argument, NULL, 'c' },
		{ "modes", required_argument, NULL, 'm' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "min-iterations", required_argument, NULL, 'N' },
		{ "cv", required_argument, NULL, 'v' },
		{ "db", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'l' },
		{ "trace", no_argument, NULL, 't' },
		{ "workdir", required_argument, NULL, 'w' },
		{ "resume", optional_argument, NULL, 'r' },
		{ "hypervisor", required_argument, NULL, 'H' },
		{ 0 },
	};
	char *end;
	int c;

	*o = (struct run_opts){ .suite = "default", .modes = "emul,pv,pt,native",
				.db_path = DB_DEFAULT_PATH, .workdir = "results/run",
				.hypervisor = "vioscope-vmm" };
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o->suite = optarg; break;
		case 'c': o->classes = optarg; break;
		case 'm': o->modes = optarg; break;
		case 'd': o->db_path = optarg; break;
		case 'l': o->label = optarg; break;
		case 't': o->trace = true; break;
		case 'w': o->workdir = optarg; break;
		case 'H':
			if (strcmp(optarg, "vioscope-vmm") && strcmp(optarg, "qemu"))
				die("run: --hypervisor is vioscope-vmm or qemu, not '%s'", optarg);
			o->hypervisor = optarg;
			break;
		case 'n':
		case 'N':
			*(c == 'n' ? &o->max_iter : &o->min_iter) = (int)strtol(optarg, &end, 10);
			if (*end || (c == 'n' ? o->max_iter : o->min_iter) < 1 ||
			    (c == 'n' ? o->max_iter : o->min_iter) > 1000)
				die("run: --%s wants a number from 1 to 1000",
				    c == 'n' ? "iterations" : "min-iterations");
			break;
		case 'v':
			o->cv_pct = strtod(optarg, &end);
			if (*end || o->cv_pct <= 0 || o->cv_pct > 100)
				die("run: --cv wants a percentage above 0");
			break;
		case 'r':
			o->resume = true;
			if (optarg) {
				o->resume_id = strtoll(optarg, &end, 10);
				if (*end || o->resume_id <= 0)
					die("run: --resume=RUN wants a run id");
			}
			break;
		default:
			die("run: usage: vioscope run [--suite NAME] [--classes LIST] [--modes LIST] "
			    "[--iterations N] [--min-iterations N] [--cv PCT] [--db FILE] "
			    "[--label TEXT] [--trace] [--workdir DIR] [--resume[=RUN]] "
			    "[--hypervisor vioscope-vmm|qemu]");
		}
	}
	if (optind < argc)
		die("run: unexpected argument '%s'", argv[optind]);
}

/* Options not given: the suite's "option" line, else 10 / 3 / 3%. */
static void defaults(struct run_opts *o, const struct suite *s)
{
	if (!o->max_iter)
		o->max_iter = s && s->iterations ? s->iterations : 10;
	if (!o->min_iter)
		o->min_iter = s && s->min_iterations ? s->min_iterations : 3;
	if (!o->cv_pct)
		o->cv_pct = s && s->cv ? s->cv : 3;
	if (o->min_iter > o->max_iter)
		o->min_iter = o->max_iter;
}

/*
 * How cells run: for QEMU, the Linux guest image is built (or found in
 * its cache) once for the run, and the accelerator chosen.
 */
static void setup_ctx(struct run_ctx *ctx, const struct run_opts *o, const char *bindir)
{
	char cmd[600], why[160];
	FILE *p;

	*ctx = (struct run_ctx){ .workdir = o->workdir, .bindir = bindir, .trace = o->trace,
				 .hypervisor = o->hypervisor, .accel = "tcg" };
	if (strcmp(o->hypervisor, "qemu"))
		return;
	ctx->accel = qemu__accel(why, sizeof(why));
	fprintf(stderr, "vioscope run: QEMU with %s\n", why);
	/* The scripts sit beside bin/ in the project. */
	snprintf(cmd, sizeof(cmd), "'%s/../scripts/build-guest-image' 2>%s/guest-image.log", bindir,
		 o->workdir);
	p = popen(cmd, "r");
	if (p && fgets(ctx->guest_dir, sizeof(ctx->guest_dir), p))
		ctx->guest_dir[strcspn(ctx->guest_dir, "\n")] = 0;
	if (!p || pclose(p) != 0) {
		ctx->guest_dir[0] = 0;
		snprintf(ctx->guest_error, sizeof(ctx->guest_error),
			 "scripts/build-guest-image failed (see %s/guest-image.log)", o->workdir);
	}
	if (ctx->guest_dir[0]) {
		snprintf(cmd, sizeof(cmd), "%s/initrd-gfx.cpio.gz", ctx->guest_dir);
		ctx->gfx_image = access(cmd, R_OK) == 0;
	}
}

static void mkdirs(const char *path)
{
	char buf[256], *p;

	snprintf(buf, sizeof(buf), "%s", path);
	for (p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = 0;
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

int cmd_run(int argc, char **argv)
{
	struct run_opts o;
	struct run_ctx ctx;
	struct cell *cells = NULL;
	size_t nr = 0, i, k;
	char why[512], bindir[256], command[1024] = "", dbdir[256], *slash;
	sqlite3_int64 run;
	double per_exec = 0;
	int execs = 0, round, n;
	bool tty = isatty(STDERR_FILENO);
	ssize_t len;
	sqlite3 *db;

	parse(argc, argv, &o);
	for (n = 0; n < argc; n++)
		snprintf(command + strlen(command), sizeof(command) - strlen(command), "%s%s",
			 n ? " " : "vioscope ", argv[n]);
	/* The binaries beside this one. */
	len = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);
	bindir[len > 0 ? len : 0] = 0;
	slash = strrchr(bindir, '/');
	if (slash)
		*slash = 0;
	snprintf(dbdir, sizeof(dbdir), "%s", o.db_path);
	slash = strrchr(dbdir, '/');
	if (slash) {
		*slash = 0;
		mkdirs(dbdir);
	}
	mkdirs(o.workdir);
	db = db__open(o.db_path, why, sizeof(why));
	if (!db)
		die("run: %s", why);

	if (o.resume) {
		run = load_run(db, &o, &cells, &nr);
		defaults(&o, NULL);
		setup_ctx(&ctx, &o, bindir);
	} else {
		struct suite s;

		if (suite__load(&s, o.suite, why, sizeof(why)))
			die("run: %s", why);
		defaults(&o, &s);
		for (i = 0; i < s.nr; i++) {
			char modes[128], *save, *m;

			if (!listed(o.classes, s.lines[i].class))
				continue;
			snprintf(modes, sizeof(modes), "%s", o.modes);
			for (m = strtok_r(modes, ",", &save); m; m = strtok_r(NULL, ",", &save))
				add_cell(&cells, &nr, s.lines[i].class, m, s.lines[i].name,
					 s.lines[i].params);
		}
		if (!nr)
			die("run: suite %s has no workloads of class %s", s.name, o.classes);
		setup_ctx(&ctx, &o, bindir);
		run = new_run(db, &o, &ctx, s.name, command);
		exec(db, "BEGIN IMMEDIATE");
		for (i = 0; i < nr; i++)
			insert_cell(db, run, &ctx, &cells[i]);
		exec(db, "COMMIT");
		suite__free(&s);
	}
	fprintf(stderr, "vioscope run: run %lld, %zu cells, database %s\n", (long long)run, nr,
		o.db_path);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);

	/* Round 0 warms every cell up; then rounds alternate direction. */
	for (round = 0; !stop && remaining(cells, nr, o.min_iter); round++) {
		for (k = 0; k < nr && !stop; k++) {
			struct cell *c = &cells[round % 2 ? nr - 1 - k : k];
			char what[96];
			double secs = 0;

			if (!c->active || (round == 0 && c->warm))
				continue;
			if (!c->warm)
				snprintf(what, sizeof(what), "warm-up");
			else
				snprintf(what, sizeof(what), "iteration %d (cv %.1f%%)", c->iters + 1,
					 c->iters > 1 ? cv_pct(c->headline, c->iters) : 100.0);
			progress(c, (size_t)(c - cells), nr, what,
				 execs ? per_exec * remaining(cells, nr, o.min_iter) : -1, tty);
			if (!step(db, &o, &ctx, c, &secs))
				continue;
			per_exec = (per_exec * execs + secs) / (execs + 1);
			execs++;
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	{
		char finished[32];

		now_iso(finished, sizeof(finished));
		sql1(db, "UPDATE runs SET status = ?, finished_at = ? WHERE id = ?", "tti",
		     stop ? "interrupted" : "done", finished, run);
	}
	summary(db, run);
	for (i = 0; i < nr; i++)
		free(cells[i].headline);
	free(cells);
	db__close(db);
	if (stop) {
		fprintf(stderr, "vioscope run: interrupted; continue with vioscope run --resume=%lld%s%s\n",
			(long long)run, strcmp(o.db_path, DB_DEFAULT_PATH) ? " --db " : "",
			strcmp(o.db_path, DB_DEFAULT_PATH) ? o.db_path : "");
		return 130;
	}
	return 0;
}

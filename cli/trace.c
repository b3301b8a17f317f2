/*
 * vioscope trace [--pid PID] [--interval S] [--count N] [--json] [-o FILE]
 *                [--backend bpf|tracefs] [--bpf-attach tp_btf|raw_tp|tracepoint]
 *                [--stages [--buffer ring|perf]]
 *                [-- COMMAND...]
 *
 * A kvm_stat with latencies: VM exits per reason and PIO/MMIO accesses per
 * device, with rates and p50/p99, from probes/kvm_exits.bpf.c (or, without
 * BPF, the same tracepoints through tracefs). With a
 * COMMAND it starts it, attaches before it runs (as perf stat does) and
 * prints the totals when it ends; that is how a run records its exits.
 * --stages adds the per-request stage breakdown of a vioscope-vmm's disks
 * (cli/trace_stages.c) at the end.
 */
#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/trace_stages.h"
#include "collectors/attribute.h"
#include "collectors/exit_reasons.h"
#include "collectors/kvm_exits.h"
#include "lib/log.h"
#include "lib/regions.h"

struct trace_opts {
	pid_t pid;
	double interval;	/* seconds; 0: totals only */
	long count;		/* intervals; 0: until the target ends or ^C */
	bool json;
	FILE *out;
	bool kvm_exit_fires;
	const char *attach;
	const char *backend;
	struct region_map map;	/* last one seen: the VMM removes it on exit */
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

static void refresh_map(struct trace_opts *o)
{
	struct region_map m;

	if (o->pid && region_map__load(&m, o->pid) == 0) {
		region_map__free(&o->map);
		o->map = m;
	}
}

static int by_count(const void *a, const void *b)
{
	const struct kx_reason *x = a, *y = b;

	return x->h.count < y->h.count ? 1 : x->h.count > y->h.count ? -1 : 0;
}

static cJSON *hist_json(cJSON *o, const struct hist *h, double secs)
{
	cJSON_AddNumberToObject(o, "count", (double)h->count);
	cJSON_AddNumberToObject(o, "rate_per_s", secs > 0 ? (double)h->count / secs : 0);
	cJSON_AddNumberToObject(o, "p50_ns", (double)hist__quantile(h, 0.50));
	cJSON_AddNumberToObject(o, "p99_ns", (double)hist__quantile(h, 0.99));
	cJSON_AddNumberToObject(o, "mean_ns", hist__mean(h));
	return o;
}

static void report_json(struct trace_opts *o, const char *type, const struct kx_snapshot *d,
			const struct kx_device *dev, int ndev)
{
	double secs = (double)d->t_ns / 1e9;
	cJSON *root = cJSON_CreateObject(), *a;
	char name[48], *text;
	size_t i;

	cJSON_AddStringToObject(root, "type", type);
	cJSON_AddNumberToObject(root, "seconds", secs);
	cJSON_AddNumberToObject(root, "pid", o->pid);
	cJSON_AddStringToObject(root, "backend", o->backend);
	cJSON_AddStringToObject(root, "attach", o->attach);
	cJSON_AddBoolToObject(root, "kvm_exit_fires", o->kvm_exit_fires);
	a = cJSON_AddArrayToObject(root, "exits");
	for (i = 0; i < d->nr_reasons; i++) {
		const struct kx_reason *r = &d->reasons[i];
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "kind", r->key.kind == KX_USER ? "user" : "kernel");
		cJSON_AddStringToObject(e, "reason", exit_reason__name(r->key.kind, r->key.isa,
								       r->key.reason, name, sizeof(name)));
		cJSON_AddNumberToObject(e, "code", r->key.reason);
		cJSON_AddItemToArray(a, hist_json(e, &r->h, secs));
	}
	a = cJSON_AddArrayToObject(root, "devices");
	for (i = 0; i < (size_t)ndev; i++) {
		cJSON *e = cJSON_CreateObject();

		cJSON_AddStringToObject(e, "device", dev[i].name);
		cJSON_AddStringToObject(e, "space", dev[i].space == KX_PIO ? "pio" : "mmio");
		cJSON_AddStringToObject(e, "dir", dev[i].write ? "write" : "read");
		cJSON_AddNumberToObject(e, "events", (double)dev[i].events);
		cJSON_AddItemToObject(e, "user_exits", hist_json(cJSON_CreateObject(), &dev[i].user, secs));
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddObjectToObject(root, "irqs");
	cJSON_AddNumberToObject(a, "msi", (double)d->counters[KX_C_MSI]);
	cJSON_AddNumberToObject(a, "irqchip", (double)d->counters[KX_C_SET_IRQ]);
	a = cJSON_AddObjectToObject(root, "probe_cost");
	cJSON_AddNumberToObject(a, "runs", (double)d->prog_runs);
	cJSON_AddNumberToObject(a, "total_ns", (double)d->prog_ns);
	cJSON_AddNumberToObject(a, "ns_per_run", d->prog_runs ? (double)d->prog_ns / (double)d->prog_runs : 0);
	a = cJSON_AddObjectToObject(root, "drops");
	cJSON_AddNumberToObject(a, "threads", (double)d->counters[KX_C_DROP_THREAD]);
	cJSON_AddNumberToObject(a, "reasons", (double)d->counters[KX_C_DROP_REASON]);
	cJSON_AddNumberToObject(a, "addresses", (double)d->counters[KX_C_DROP_ADDR]);
	cJSON_AddNumberToObject(a, "trace_buffer", (double)d->counters[KX_C_LOST]);
	text = cJSON_PrintUnformatted(root);
	if (text)
		fprintf(o->out, "%s\n", text);
	free(text);
	cJSON_Delete(root);
}

static void report_text(struct trace_opts *o, const char *type, const struct kx_snapshot *d,
			const struct kx_device *dev, int ndev)
{
	double secs = (double)d->t_ns / 1e9;
	char name[48];
	size_t i;
	int kind;

	fprintf(o->out, "== %s %.2f s%s ==\n", type, secs, o->pid ? "" : " (all processes)");
	for (kind = KX_USER; kind >= KX_GUEST; kind--) {
		fprintf(o->out, "%s\n", kind == KX_USER ?
			"exits to user space (until the next KVM_RUN enters the guest)" :
			"in-kernel exit handling (kvm_exit -> kvm_entry)");
		if (kind == KX_GUEST && !o->kvm_exit_fires) {
			fprintf(o->out, "  kvm_exit has not fired: PVM (or no exits yet); "
				"user-space accounting above\n");
			continue;
		}
		fprintf(o->out, "  %-20s %10s %10s %9s %9s %9s\n", "reason", "count", "rate/s",
			"p50 us", "p99 us", "mean us");
		for (i = 0; i < d->nr_reasons; i++) {
			const struct kx_reason *r = &d->reasons[i];

			if ((int)r->key.kind != kind)
				continue;
			fprintf(o->out, "  %-20s %10llu %10.1f %9.2f %9.2f %9.2f\n",
				exit_reason__name(r->key.kind, r->key.isa, r->key.reason, name,
						  sizeof(name)),
				(unsigned long long)r->h.count, secs > 0 ? (double)r->h.count / secs : 0,
				us(hist__quantile(&r->h, 0.5)), us(hist__quantile(&r->h, 0.99)),
				hist__mean(&r->h) / 1e3);
		}
	}
	fprintf(o->out, "port I/O and MMIO by device (user-space exits timed)\n");
	fprintf(o->out, "  %-22s %-5s %-5s %10s %10s %10s %9s %9s\n", "device", "space", "dir",
		"events", "rate/s", "to user", "p50 us", "p99 us");
	for (i = 0; i < (size_t)ndev; i++)
		fprintf(o->out, "  %-22s %-5s %-5s %10llu %10.1f %10llu %9.2f %9.2f\n", dev[i].name,
			dev[i].space == KX_PIO ? "pio" : "mmio", dev[i].write ? "write" : "read",
			(unsigned long long)dev[i].events,
			secs > 0 ? (double)dev[i].events / secs : 0,
			(unsigned long long)dev[i].user.count, us(hist__quantile(&dev[i].user, 0.5)),
			us(hist__quantile(&dev[i].user, 0.99)));
	fprintf(o->out, "interrupts: %llu MSI, %llu irqchip pin changes; drops: %llu threads, "
		"%llu reasons, %llu addresses, %llu trace buffer\n",
		(unsigned long long)d->counters[KX_C_MSI], (unsigned long long)d->counters[KX_C_SET_IRQ],
		(unsigned long long)d->counters[KX_C_DROP_THREAD],
		(unsigned long long)d->counters[KX_C_DROP_REASON],
		(unsigned long long)d->counters[KX_C_DROP_ADDR],
		(unsigned long long)d->counters[KX_C_LOST]);
	if (d->prog_runs)
		fprintf(o->out, "probe cost: %llu BPF runs, %.0f ns each, %.2f ms in all (%.3f%% of one CPU)\n",
			(unsigned long long)d->prog_runs, (double)d->prog_ns / (double)d->prog_runs,
			(double)d->prog_ns / 1e6, secs > 0 ? (double)d->prog_ns / 1e9 / secs * 100 : 0);
	fflush(o->out);
}

static int report(struct trace_opts *o, const char *type, const struct kx_snapshot *a,
		  const struct kx_snapshot *b)
{
	struct kx_snapshot d;
	struct kx_device *dev;
	int ndev;

	if (kx_snapshot__diff(a, b, &d))
		return -ENOMEM;
	if (b->counters[KX_C_KVM_EXIT])
		o->kvm_exit_fires = true;
	qsort(d.reasons, d.nr_reasons, sizeof(*d.reasons), by_count);
	refresh_map(o);
	ndev = kx__attribute(&d, &o->map, &dev);
	if (ndev < 0) {
		kx_snapshot__free(&d);
		return ndev;
	}
	if (o->json)
		report_json(o, type, &d, dev, ndev);
	else
		report_text(o, type, &d, dev, ndev);
	free(dev);
	kx_snapshot__free(&d);
	return 0;
}

/* The executable of COMMAND (as execvp will find it) or of process pid. */
static int resolve_binary(const char *cmd, pid_t pid, char *buf, size_t len)
{
	char link[64], path[PATH_MAX];
	const char *dirs;
	ssize_t n;

	if (!cmd) {
		snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
		n = readlink(link, buf, len - 1);
		if (n <= 0)
			return -errno;
		buf[n] = 0;
		return 0;
	}
	if (strchr(cmd, '/'))
		return realpath(cmd, buf) && strlen(buf) < len ? 0 : -ENOENT;
	for (dirs = getenv("PATH") ?: "/usr/bin:/bin"; *dirs; dirs += *dirs == ':') {
		size_t k = strcspn(dirs, ":");

		snprintf(path, sizeof(path), "%.*s/%s", (int)k, dirs, cmd);
		dirs += k;
		if (!access(path, X_OK) && realpath(path, buf) && strlen(buf) < len)
			return 0;
	}
	return -ENOENT;
}

/* Forks COMMAND stopped at a pipe until the collector is attached. */
static pid_t start_command(char **argv, int *go_fd)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		char c;

		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			_exit(127);	/* the collector failed: do not run untraced */
		close(p[0]);
		execvp(argv[0], argv);
		fprintf(stderr, "vioscope: trace: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(p[0]);
	*go_fd = p[1];
	return pid;
}

static void sleep_s(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);	/* a signal ends it early: that is the point */
}

int cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "output", required_argument, NULL, 'o' },
		{ "backend", required_argument, NULL, 'b' },
		{ "stages", no_argument, NULL, 's' },
		{ "buffer", required_argument, NULL, 'B' },
		{ "bpf-attach", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct trace_stages *stages = NULL;
	bool want_stages = false, perf_buffer = false;
	const char *bpf_attach = NULL;
	char binary[PATH_MAX];
	struct trace_opts o = { .out = stdout, .interval = -1 };
	struct kx_snapshot first, prev, now;
	struct kx_collector *c;
	pid_t child = 0;
	int opt, go_fd = -1, status = 0, ret;
	long n = 0;
	char why[256], *end;

	while ((opt = getopt_long(argc, argv, "+p:i:c:jo:b:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'p':
			o.pid = (pid_t)strtol(optarg, &end, 10);
			if (*end || o.pid <= 0)
				die("trace: --pid wants a process id, not '%s'", optarg);
			break;
		case 'i':
			o.interval = strtod(optarg, &end);
			if (*end || o.interval < 0.01 || o.interval > 3600)
				die("trace: --interval wants seconds between 0.01 and 3600");
			break;
		case 'c':
			o.count = strtol(optarg, &end, 10);
			if (*end || o.count <= 0)
				die("trace: --count wants a positive number");
			break;
		case 'j':
			o.json = true;
			break;
		case 'b':
			if (strcmp(optarg, "bpf") && strcmp(optarg, "tracefs"))
				die("trace: --backend is bpf or tracefs, not '%s'", optarg);
			o.backend = optarg;
			break;
		case 's':
			want_stages = true;
			break;
		case 'A':
			if (strcmp(optarg, "tp_btf") && strcmp(optarg, "raw_tp") &&
			    strcmp(optarg, "tracepoint"))
				die("trace: --bpf-attach is tp_btf, raw_tp or tracepoint, not '%s'",
				    optarg);
			bpf_attach = optarg;
			break;
		case 'B':
			if (strcmp(optarg, "ring") && strcmp(optarg, "perf"))
				die("trace: --buffer is ring or perf, not '%s'", optarg);
			perf_buffer = !strcmp(optarg, "perf");
			break;
		case 'o':
			o.out = fopen(optarg, "w");
			if (!o.out)
				die("trace: -o %s: %s", optarg, strerror(errno));
			break;
		default:
			die("trace: usage: vioscope trace [--pid PID] [--interval S] [--count N] "
			    "[--json] [-o FILE] [--backend bpf|tracefs] "
			    "[--bpf-attach tp_btf|raw_tp|tracepoint] [--stages [--buffer ring|perf]] "
			    "[-- COMMAND...]");
		}
	}
	if (optind < argc && o.pid)
		die("trace: give --pid or a COMMAND, not both");
	if (bpf_attach && o.backend && strcmp(o.backend, "bpf"))
		die("trace: --bpf-attach is for the bpf back end");
	if (want_stages && !o.pid && optind >= argc)
		die("trace: --stages follows one vioscope-vmm: give --pid or a COMMAND");
	if (want_stages && resolve_binary(optind < argc ? argv[optind] : NULL, o.pid, binary,
					  sizeof(binary)))
		die("trace: --stages: cannot find the executable of %s",
		    optind < argc ? argv[optind] : "--pid");
	if (o.pid && kill(o.pid, 0) && errno == ESRCH)
		die("trace: --pid %d: no such process", (int)o.pid);
	if (o.interval < 0)
		o.interval = optind < argc ? 0 : 1;
	if (optind < argc) {
		child = start_command(argv + optind, &go_fd);
		if (child < 0)
			die("trace: cannot start %s: %s", argv[optind], strerror(errno));
		o.pid = child;
	}
	ret = kx__open(&c, o.pid, o.backend, bpf_attach, why, sizeof(why));
	if (ret) {
		if (go_fd >= 0)
			close(go_fd);	/* the child exits 127 without running */
		die("trace: %s", why);
	}
	if (want_stages) {
		ret = trace_stages__open(&stages, o.pid, binary, perf_buffer, why, sizeof(why));
		if (ret) {
			if (go_fd >= 0)
				close(go_fd);
			die("trace: --stages: %s", why);
		}
	}
	o.attach = kx__attach_kind(c);
	o.backend = kx__backend(c);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (kx__snapshot(c, &first))
		die("trace: out of memory");
	if (kx__snapshot(c, &prev))
		die("trace: out of memory");
	if (child && write(go_fd, "g", 1) != 1)
		die("trace: cannot start %s", argv[optind]);
	if (go_fd >= 0)
		close(go_fd);
	if (!o.json && o.pid)
		fprintf(o.out, "vioscope trace: %s (pid %d), %s\n",
			child ? argv[optind] : "process", (int)o.pid, o.attach);
	else if (!o.json)
		fprintf(o.out, "vioscope trace: all processes, %s\n", o.attach);
	while (!stop) {
		bool ended = false;

		if (child) {
			/* Poll the child in small steps so its end is seen quickly. */
			double left = o.interval > 0 ? o.interval : 3600;

			while (left > 0 && !stop) {
				refresh_map(&o);	/* the VMM removes it when it ends */
				kx__poll(c);
				if (stages)
					trace_stages__poll(stages);
				if (waitpid(child, &status, WNOHANG) == child) {
					ended = true;
					break;
				}
				sleep_s(left < 0.05 ? left : 0.05);
				left -= 0.05;
			}
		} else {
			double left;

			/* Short sleeps so that a tracefs buffer is drained often. */
			for (left = o.interval; left > 0 && !stop; left -= 0.2) {
				sleep_s(left < 0.2 ? left : 0.2);
				kx__poll(c);
				if (stages)
					trace_stages__poll(stages);
			}
			if (o.pid && kill(o.pid, 0) && errno == ESRCH)
				ended = true;
		}
		if (kx__snapshot(c, &now))
			die("trace: out of memory");
		if (o.interval > 0 && !ended)
			report(&o, "interval", &prev, &now);
		kx_snapshot__free(&prev);
		prev = now;
		if (ended || (o.count && ++n >= o.count))
			break;
	}
	report(&o, "total", &first, &prev);
	if (stages && trace_stages__report(stages, o.out, o.json))
		pr_err("trace: --stages: out of memory");
	trace_stages__close(stages);
	kx_snapshot__free(&first);
	kx_snapshot__free(&prev);
	kx__close(c);
	region_map__free(&o.map);
	if (o.out != stdout)
		fclose(o.out);
	if (child) {
		if (stop) {
			kill(child, SIGTERM);
			waitpid(child, &status, 0);
		}
		return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	return 0;
}

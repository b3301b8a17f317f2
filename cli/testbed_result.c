/*
 * vioscope testbed-result: one nested test-bed suite's record. Reads what
 * the L2 guest printed between @@VIO-BEGIN@@ and @@VIO-END@@ (and, for fio
 * jobs, fio's JSON between @@FIO-JSON-BEGIN@@ and @@FIO-JSON-END@@),
 * decides pass or fail, and writes JSON with the VMM's environment (which
 * carries the "nested KVM on TCG" label), the test bed's record (boots
 * tried and completed) and the metrics with units and directions.
 */
#include <cJSON.h>
#include <math.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "lib/file.h"
#include "lib/log.h"
#include "lib/metric.h"

/* What a suite is judged on. */
struct suite_input {
	const char *guest;		/* the L2 agent's output */
	const char *console;		/* the whole L2 console */
	const cJSON *vmm;		/* vioscope-vmm's --json, or NULL */
	const char *trace_path;		/* vioscope trace --json output, or NULL */
};

/* The text between two marker lines (exclusive), \r removed; NULL if absent. */
static char *between(const char *text, const char *begin, const char *end)
{
	const char *b = text ? strstr(text, begin) : NULL, *e;
	char *out, *w;

	if (!b)
		return NULL;
	b = strchr(b, '\n');
	e = b ? strstr(b, end) : NULL;
	if (!e)
		return NULL;
	out = malloc((size_t)(e - b) + 1);
	for (w = out, b++; b < e; b++)
		if (*b != '\r')
			*w++ = *b;
	*w = 0;
	return out;
}

static cJSON *lines_json(const char *text)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = text;

	while (p && *p) {
		size_t n = strcspn(p, "\n");
		char *line = strndup(p, n);

		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
		free(line);
		p += n + (p[n] == '\n');
	}
	return arr;
}

static double fio_num(const cJSON *fio, const char *rw, const char *key)
{
	const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(fio, "jobs"), 0);
	const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(job, rw), key);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* fio jobs: passed when fio exited 0 and reported no error (verify included). */
static bool judge_fio(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	const char *guest = in->guest, *console = in->console;
	char *text = between(console, "@@FIO-JSON-BEGIN@@", "@@FIO-JSON-END@@");
	cJSON *fio = text ? cJSON_Parse(text) : NULL;
	const cJSON *job = cJSON_GetArrayItem(cJSON_GetObjectItem(fio, "jobs"), 0);
	const cJSON *err = cJSON_GetObjectItem(job, "error");
	bool ok = fio && strstr(guest, "fio status 0") && cJSON_IsNumber(err) && err->valueint == 0;

	free(text);
	if (!fio)
		return false;
	metric__add(metrics, "randwrite_4k_iops", "IO/s", "higher_is_better", fio_num(fio, "write", "iops"));
	metric__add(metrics, "verify_read_4k_iops", "IO/s", "higher_is_better", fio_num(fio, "read", "iops"));
	metric__add(metrics, "write_clat_mean_ns", "ns", "lower_is_better",
		   cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(
			   cJSON_GetObjectItem(job, "write"), "clat_ns"), "mean")));
	metric__add(metrics, "fio_errors", "count", "lower_is_better",
		   cJSON_IsNumber(err) ? err->valuedouble : -1);
	cJSON_AddItemToObject(rec, "fio", fio);
	return ok;
}

/* virtio-blk: the fio job, then a DISCARD that reads back as zeros. */
static bool judge_fio_discard(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	bool ok = judge_fio(in, rec, metrics);

	return ok && strstr(in->guest, "l2: discard status 0") &&
	       strstr(in->guest, "l2: zeroes after discard: yes");
}

/* Network jobs: ping got its replies and iperf3 moved data. */
static bool judge_iperf(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	const char *guest = in->guest, *console = in->console;
	char *text = between(console, "@@IPERF-JSON-BEGIN@@", "@@IPERF-JSON-END@@");
	cJSON *ip = text ? cJSON_Parse(text) : NULL;
	const cJSON *end = cJSON_GetObjectItem(ip, "end");
	double rx = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(end, "sum_received"),
							     "bits_per_second"));
	double tx = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(end, "sum_sent"),
							     "bits_per_second"));
	const char *rtt = strstr(guest, "round-trip min/avg/max = ");
	double rmin, ravg, rmax;
	bool ok = strstr(guest, "ping status 0") && strstr(guest, "iperf3 status 0") && rx > 0;

	free(text);
	if (rtt && sscanf(rtt, "round-trip min/avg/max = %lf/%lf/%lf", &rmin, &ravg, &rmax) == 3)
		metric__add(metrics, "ping_rtt_avg_ms", "ms", "lower_is_better", ravg);
	if (!ip)
		return false;
	metric__add(metrics, "tcp_sent_mbit_s", "Mbit/s", "higher_is_better", tx / 1e6);
	metric__add(metrics, "tcp_received_mbit_s", "Mbit/s", "higher_is_better", rx / 1e6);
	cJSON_AddItemToObject(rec, "iperf3", ip);
	return ok;
}

static bool judge_shell(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	(void)rec;
	(void)metrics;
	return strstr(in->guest, "l2: shell: ok") != NULL;
}

/*
 * A DRM driver on our display model (bochs-display or virtio-gpu): the
 * connector is connected with the one mode the EDID offers, the fbdev
 * console exists, and the model showed frames (the console's text): found
 * by its dirty-page refreshes, or flushed by the driver's commands.
 */
static bool judge_drm(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	const cJSON *d, *dev = NULL;
	double frames = 0, pages = 0, bytes = 0;

	(void)rec;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(in->vmm, "devices")) {
		const char *model = cJSON_GetStringValue(cJSON_GetObjectItem(d, "model")) ?: "";

		if (!strcmp(model, "bochs-display") || !strcmp(model, "virtio-gpu"))
			dev = d;
	}
	if (dev) {
		const cJSON *c = cJSON_GetObjectItem(cJSON_GetObjectItem(dev, "metrics"), "counters");

		frames = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "frames"));
		pages = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "dirty_pages"));
		bytes = cJSON_GetNumberValue(cJSON_GetObjectItem(c, "transfer_bytes"));
	}
	metric__add(metrics, "frames_shown", "count", "higher_is_better", frames);
	if (!isnan(pages))
		metric__add(metrics, "dirty_pages", "count", "lower_is_better", pages);
	if (!isnan(bytes))
		metric__add(metrics, "transfer_bytes", "bytes", "lower_is_better", bytes);
	return strstr(in->guest, "modes 1280x720") && strstr(in->guest, "l2: fb0: ") &&
	       strstr(in->guest, "drmfb") && frames > 0;
}

static double exit_count(const cJSON *exits, const char *kind, const char *reason)
{
	const cJSON *e;
	double n = 0;

	cJSON_ArrayForEach(e, exits)
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "kind")) ?: "", kind) &&
		    (!reason || !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "reason")) ?: "",
					reason)))
			n += cJSON_GetNumberValue(cJSON_GetObjectItem(e, "count"));
	return n;
}

/*
 * vioscope trace on a stock Linux boot under real (nested) SVM: kvm_exit
 * fires, so the in-kernel exits are paired and named by SVM reason, and
 * the user-space exits match the VMM's own counters.
 */
static bool judge_trace(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	cJSON *t = file__json_line(in->trace_path, "total");
	const cJSON *exits = cJSON_GetObjectItem(t, "exits");
	const cJSON *fires = cJSON_GetObjectItem(t, "kvm_exit_fires");
	double kernel = exit_count(exits, "kernel", NULL);
	double user_io = exit_count(exits, "user", "IO") + exit_count(exits, "user", "MMIO");
	double vmm_io = cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(in->vmm, "exits"), "pio")) +
			cJSON_GetNumberValue(cJSON_GetObjectItem(cJSON_GetObjectItem(in->vmm, "exits"), "mmio"));
	bool ok = t && judge_shell(in, rec, metrics) && cJSON_IsTrue(fires) && kernel > 0 &&
		  exit_count(exits, "kernel", "npf") > 0 && vmm_io > 0 &&
		  user_io >= vmm_io - 2 && user_io <= vmm_io * 1.001 + 2;

	metric__add(metrics, "kernel_exits", "count", "lower_is_better", kernel);
	metric__add(metrics, "user_io_exits_traced", "count", "lower_is_better", user_io);
	metric__add(metrics, "user_io_exits_vmm", "count", "lower_is_better", vmm_io);
	if (t)
		cJSON_AddItemToObject(rec, "trace", t);
	return ok;
}

/*
 * vioscope trace --stages on Linux's virtio_blk running fio: every request
 * the VMM took is followed from its doorbell to its interrupt (Linux gives
 * no guest times: the VMM's view), with nothing dropped.
 */
static bool judge_stages(const struct suite_input *in, cJSON *rec, cJSON *metrics)
{
	cJSON *t = file__json_line(in->trace_path, "stages");
	const cJSON *d = NULL, *e;
	double requests, complete;
	bool ok;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(t, "devices"))
		if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(e, "device")) ?: "", "virtio-blk0"))
			d = e;
	requests = cJSON_GetNumberValue(cJSON_GetObjectItem(d, "requests"));
	complete = cJSON_GetNumberValue(cJSON_GetObjectItem(d, "complete"));
	ok = judge_fio_discard(in, rec, metrics) && d && requests >= 1000 &&
	     complete >= 0.99 * requests &&
	     !strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(d, "view")) ?: "", "vmm") &&
	     cJSON_GetNumberValue(cJSON_GetObjectItem(t, "drops")) == 0;
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(d, "stages")) {
		char name[48];

		snprintf(name, sizeof(name), "stage_%s_p50",
			 cJSON_GetStringValue(cJSON_GetObjectItem(e, "stage")) ?: "?");
		metric__add(metrics, name, "ns", "lower_is_better",
			    cJSON_GetNumberValue(cJSON_GetObjectItem(e, "p50_ns")));
	}
	if (t)
		cJSON_AddItemToObject(rec, "stages", t);
	return ok;
}

static const struct {
	const char *suite;
	bool (*judge)(const struct suite_input *in, cJSON *rec, cJSON *metrics);
} suites[] = {
	{ "l2-boot", judge_shell },
	{ "nvme-passthrough", judge_fio },
	{ "virtio-blk", judge_fio_discard },
	{ "ahci", judge_fio },
	{ "xhci-model", judge_fio },
	{ "xhci-passthrough", judge_fio },
	{ "usb-host", judge_fio },
	{ "bochs-model", judge_drm },
	{ "virtio-gpu-model", judge_drm },
	{ "e1000e-passthrough", judge_iperf },
	{ "e1000-model", judge_iperf },
	{ "virtio-net-model", judge_iperf },
	{ "trace-svm", judge_trace },
	{ "trace-stages", judge_stages },
};

int cmd_testbed_result(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "suite", required_argument, NULL, 's' },
		{ "console", required_argument, NULL, 'c' },
		{ "vmm-json", required_argument, NULL, 'v' },
		{ "testbed", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "trace", required_argument, NULL, 'r' },
		{ 0 },
	};
	const char *suite = NULL, *console_path = NULL, *vmm_path = NULL, *tb_path = NULL;
	const char *out = NULL, *trace_path = NULL;
	char *console, *guest, *text, *s;
	cJSON *rec, *metrics, *vmm, *tb, *m;
	bool ok = false, known = false;
	unsigned int i;
	FILE *f;
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': suite = optarg; break;
		case 'c': console_path = optarg; break;
		case 'v': vmm_path = optarg; break;
		case 't': tb_path = optarg; break;
		case 'o': out = optarg; break;
		case 'r': trace_path = optarg; break;
		default: die("testbed-result: unknown option (see vioscope --help)");
		}
	}
	if (!suite || !console_path || !out)
		die("testbed-result: --suite, --console and --out are required");

	console = file__read_text(console_path);
	guest = between(console, "@@VIO-BEGIN@@", "@@VIO-END@@");
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "suite", suite);
	s = vmm_path ? file__read_text(vmm_path) : NULL;
	vmm = s ? cJSON_Parse(s) : NULL;
	free(s);
	cJSON_AddItemToObject(rec, "environment",
			      vmm ? cJSON_DetachItemFromObject(vmm, "environment") : cJSON_CreateNull());
	metrics = cJSON_AddArrayToObject(rec, "metrics");
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (strcmp(suites[i].suite, suite))
			continue;
		known = true;
		if (guest) {
			struct suite_input in = { guest, console, vmm, trace_path };

			ok = suites[i].judge(&in, rec, metrics);
		}
	}
	if (!known)
		die("testbed-result: unknown suite '%s'", suite);
	cJSON_AddStringToObject(rec, "status", ok ? "passed" : "failed");
	cJSON_AddItemToObject(rec, "guest_output", lines_json(guest));
	if (vmm) {
		cJSON_AddItemToObject(rec, "vmm_stop_reason",
				      cJSON_DetachItemFromObject(vmm, "stop_reason"));
		cJSON_AddItemToObject(rec, "vmm_exits", cJSON_DetachItemFromObject(vmm, "exits"));
		cJSON_Delete(vmm);
	}
	s = tb_path ? file__read_text(tb_path) : NULL;
	tb = s ? cJSON_Parse(s) : NULL;
	free(s);
	cJSON_AddItemToObject(rec, "testbed", tb ? tb : cJSON_CreateNull());

	text = cJSON_Print(rec);
	f = fopen(out, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		pr_err("testbed-result: %s: %s", out, strerror(errno));
		ok = false;
	}
	free(text);
	/* One line for scripts (bench-net-nested): the verdict and metrics. */
	printf("%s %s", suite, ok ? "passed" : "failed");
	cJSON_ArrayForEach(m, metrics)
		printf(" %s=%g", cJSON_GetStringValue(cJSON_GetObjectItem(m, "name")),
		       cJSON_GetNumberValue(cJSON_GetObjectItem(m, "value")));
	putchar('\n');
	cJSON_Delete(rec);
	free(guest);
	free(console);
	return ok ? 0 : 1;
}

/*
 * vioscope trace --stages: every request of vioscope-vmm's disk models
 * timed stage by stage (analyzers/stages.c) from its request probes
 * (collectors/reqs.c), per device with its I/O mode.
 */
#include "cli/trace_stages.h"

#include <cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyzers/stages.h"
#include "collectors/reqs.h"

struct trace_stages {
	struct req_collector *c;
	struct stages *st;
	int err;		/* -ENOMEM once an event could not be kept */
};

static void on_event(void *ctx, const struct req_event *e)
{
	struct trace_stages *t = ctx;

	if (stages__add(t->st, e))
		t->err = -ENOMEM;
}

int trace_stages__open(struct trace_stages **out, pid_t pid, const char *binary,
		       bool perf_buffer, char *why, size_t why_len)
{
	struct req_collector_opts o = { .pid = pid, .binary = binary, .perf_buffer = perf_buffer };
	struct trace_stages *t = calloc(1, sizeof(*t));
	int ret;

	if (!t || !(t->st = stages__new())) {
		free(t);
		snprintf(why, why_len, "out of memory");
		return -ENOMEM;
	}
	ret = req_collector__open(&t->c, &o, on_event, t, why, why_len);
	if (ret) {
		stages__free(t->st);
		free(t);
		return ret;
	}
	*out = t;
	return 0;
}

void trace_stages__poll(struct trace_stages *t)
{
	req_collector__poll(t->c);
}

/* The I/O mode a vioscope-vmm disk or NIC model stands for. */
static const char *mode_of(const char *dev)
{
	if (!strncmp(dev, "ahci", 4) || !strncmp(dev, "e1000", 5))
		return "emul";
	if (!strncmp(dev, "virtio-", 7))
		return "pv";
	if (!strncmp(dev, "vfio-", 5))
		return "pt";
	return "?";
}

static cJSON *summary_json(const struct stats_summary *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "n", (double)s->n);
	cJSON_AddNumberToObject(o, "mean_ns", s->mean);
	cJSON_AddNumberToObject(o, "p50_ns", s->p50);
	cJSON_AddNumberToObject(o, "p99_ns", s->p99);
	cJSON_AddNumberToObject(o, "min_ns", s->min);
	cJSON_AddNumberToObject(o, "max_ns", s->max);
	return o;
}

static double sum_of_means(const struct stage_device *d)
{
	double sum = 0;
	int st;

	for (st = 0; st < NR_STAGES; st++)
		sum += d->stage[st].n ? d->stage[st].mean : 0;
	return sum;
}

static void report_json(struct trace_stages *t, FILE *out, const struct stage_device *d, int n,
			uint64_t events, uint64_t drops)
{
	cJSON *root = cJSON_CreateObject(), *arr;
	char name[REQ_DEV_NAME_LEN], *text;
	uint64_t runs, ns;
	int i, st;

	req_collector__cost(t->c, &runs, &ns);
	cJSON_AddStringToObject(root, "type", "stages");
	cJSON_AddStringToObject(root, "transport", req_collector__transport(t->c));
	cJSON_AddStringToObject(root, "kernel_events", req_collector__kernel_events(t->c));
	cJSON_AddNumberToObject(root, "events", (double)events);
	cJSON_AddNumberToObject(root, "drops", (double)drops);
	arr = cJSON_AddObjectToObject(root, "probe_cost");
	cJSON_AddNumberToObject(arr, "runs", (double)runs);
	cJSON_AddNumberToObject(arr, "total_ns", (double)ns);
	arr = cJSON_AddArrayToObject(root, "devices");
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject(), *sa;

		req_collector__dev_name(t->c, d[i].dev, name, sizeof(name));
		cJSON_AddStringToObject(o, "device", name);
		cJSON_AddStringToObject(o, "mode", mode_of(name));
		cJSON_AddStringToObject(o, "view", d[i].guest_view ? "guest" : "vmm");
		cJSON_AddNumberToObject(o, "requests", (double)d[i].requests);
		cJSON_AddNumberToObject(o, "complete", (double)d[i].complete);
		cJSON_AddNumberToObject(o, "guest_ios", (double)d[i].guest_ios);
		cJSON_AddNumberToObject(o, "matched", (double)d[i].matched);
		cJSON_AddNumberToObject(o, "partial", (double)d[i].partial);
		cJSON_AddNumberToObject(o, "no_backend", (double)d[i].no_backend);
		cJSON_AddNumberToObject(o, "uring_missing", (double)d[i].uring_missing);
		cJSON_AddNumberToObject(o, "blk_ios", (double)d[i].blk_ios);
		cJSON_AddNumberToObject(o, "negative", (double)d[i].negative);
		cJSON_AddNumberToObject(o, "before_doorbell", (double)d[i].early);
		sa = cJSON_AddArrayToObject(o, "stages");
		for (st = 0; st < NR_STAGES; st++) {
			cJSON *s;

			if (!d[i].stage[st].n)
				continue;
			s = summary_json(&d[i].stage[st]);
			cJSON_AddStringToObject(s, "stage", stage_names[st]);
			cJSON_AddItemToArray(sa, s);
		}
		if (d[i].n)
			cJSON_AddItemToObject(o, "total", summary_json(&d[i].total));
		cJSON_AddNumberToObject(o, "sum_of_stage_means_ns", sum_of_means(&d[i]));
		cJSON_AddItemToArray(arr, o);
	}
	text = cJSON_PrintUnformatted(root);
	if (text)
		fprintf(out, "%s\n", text);
	free(text);
	cJSON_Delete(root);
}

static void report_text(struct trace_stages *t, FILE *out, const struct stage_device *d, int n,
			uint64_t events, uint64_t drops)
{
	char name[REQ_DEV_NAME_LEN];
	uint64_t runs, ns;
	int i, st;

	req_collector__cost(t->c, &runs, &ns);
	fprintf(out, "request stages: %llu events through the %s, %llu dropped; kernel events: "
		"%s\n", (unsigned long long)events, req_collector__transport(t->c),
		(unsigned long long)drops, req_collector__kernel_events(t->c));
	if (runs)
		fprintf(out, "probe cost: %llu BPF runs, %.0f ns each (the uprobe traps come on top)\n",
			(unsigned long long)runs, (double)ns / (double)runs);
	for (i = 0; i < n; i++) {
		const struct stage_device *x = &d[i];

		req_collector__dev_name(t->c, x->dev, name, sizeof(name));
		fprintf(out, "%s (%s): %llu requests, %llu in the breakdown", name, mode_of(name),
			(unsigned long long)x->requests, (unsigned long long)x->n);
		if (x->guest_view)
			fprintf(out, " (joined to %llu of the guest's %llu timed I/Os)",
				(unsigned long long)x->matched, (unsigned long long)x->guest_ios);
		fprintf(out, "; %llu partial, %llu without backend I/O, %llu with a stage < 0",
			(unsigned long long)x->partial, (unsigned long long)x->no_backend,
			(unsigned long long)x->negative);
		if (x->early)
			fprintf(out, ", %llu taken before their own doorbell",
				(unsigned long long)x->early);
		fputc('\n', out);
		if (!x->n)
			continue;
		fprintf(out, "  %-8s %9s %9s %9s %6s  %s\n", "stage", "mean us", "p50 us", "p99 us",
			"share", "from -> to");
		for (st = 0; st < NR_STAGES; st++) {
			const struct stats_summary *s = &x->stage[st];

			if (!s->n)
				continue;
			fprintf(out, "  %-8s %9.2f %9.2f %9.2f %5.1f%%  %s\n", stage_names[st],
				s->mean / 1e3, s->p50 / 1e3, s->p99 / 1e3,
				x->total.mean > 0 ? s->mean / x->total.mean * 100 : 0, stage_help[st]);
		}
		fprintf(out, "  %-8s %9.2f %9.2f %9.2f         %s\n", "total", x->total.mean / 1e3,
			x->total.p50 / 1e3, x->total.p99 / 1e3,
			x->guest_view ? "as the guest timed it" : "doorbell -> interrupt, in the VMM");
	}
	fflush(out);
}

int trace_stages__report(struct trace_stages *t, FILE *out, bool json)
{
	struct stage_device *d;
	uint64_t events, drops;
	int n;

	req_collector__poll(t->c);
	if (t->err)
		return t->err;
	req_collector__counters(t->c, &events, &drops);
	n = stages__finish(t->st, &d);
	if (n < 0)
		return n;
	if (json)
		report_json(t, out, d, n, events, drops);
	else
		report_text(t, out, d, n, events, drops);
	free(d);
	return 0;
}

void trace_stages__close(struct trace_stages *t)
{
	if (!t)
		return;
	req_collector__close(t->c);
	stages__free(t->st);
	free(t);
}

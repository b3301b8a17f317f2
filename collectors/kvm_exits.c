/*
 * Loader and reader of probes/kvm_exits.bpf.c (libbpf skeleton, CO-RE).
 * The kernel side keeps cumulative per-key histograms in hash maps; a
 * snapshot copies them out, so readers never race with the probes and
 * nothing is lost between two reads.
 */
#include "collectors/kvm_exits.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "kvm_exits.skel.h"

struct kx_collector {
	struct kvm_exits_bpf *skel;
	int stats_fd;		/* BPF run-time stats stay on while it is open */
};

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int kx__open(struct kx_collector **out, pid_t pid, char *why, size_t why_len)
{
	struct kx_collector *c;
	int ret;

	*out = NULL;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, why_len, "no kernel BTF (/sys/kernel/btf/vmlinux): CO-RE cannot relocate");
		return -ENOENT;
	}
	/* libbpf finds tracepoint ids in tracefs, which may not be mounted. */
	if (access("/sys/kernel/tracing/events", F_OK) &&
	    access("/sys/kernel/debug/tracing/events", F_OK) &&
	    mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		snprintf(why, why_len, "tracefs is not mounted and mounting it failed: %s",
			 strerror(errno));
		return -errno;
	}
	libbpf_set_print(getenv("VIOSCOPE_BPF_DEBUG") ? NULL : silent);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->stats_fd = -1;
	c->skel = kvm_exits_bpf__open();
	if (!c->skel) {
		ret = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(-ret));
		goto fail;
	}
	c->skel->rodata->targ_tgid = (__u32)pid;
	ret = kvm_exits_bpf__load(c->skel);
	if (ret) {
		snprintf(why, why_len, "cannot load the BPF programs: %s%s", strerror(-ret),
			 ret == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
		goto fail;
	}
	ret = kvm_exits_bpf__attach(c->skel);
	if (ret) {
		snprintf(why, why_len, "cannot attach to the kvm tracepoints: %s%s", strerror(-ret),
			 ret == -ENOENT ? " (no KVM in this kernel, or tracefs missing)" : "");
		goto fail;
	}
	/* The probes' own cost, per program (as bpftool prog show). */
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	*out = c;
	return 0;
fail:
	kvm_exits_bpf__destroy(c->skel);
	free(c);
	return ret;
}

const char *kx__attach_kind(const struct kx_collector *c)
{
	(void)c;
	return "tracepoint";
}

static void hist_from_kx(struct hist *h, const struct kx_hist *k)
{
	unsigned int i;

	hist__init(h);
	h->count = k->count;
	h->sum = k->sum_ns;
	h->max = k->max_ns;
	for (i = 0; i < HIST_BUCKETS; i++) {
		h->buckets[i] = k->buckets[i];
		if (k->buckets[i] && h->min == UINT64_MAX)
			h->min = hist__bucket_low(i);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int kx__snapshot(struct kx_collector *c, struct kx_snapshot *s)
{
	int rfd = bpf_map__fd(c->skel->maps.reasons), afd = bpf_map__fd(c->skel->maps.addrs);
	int cfd = bpf_map__fd(c->skel->maps.counters);
	struct kx_addr_key ak, *aprev = NULL;
	struct kx_key rk, *rprev = NULL;
	struct kx_addr_val *av;
	int ncpus = libbpf_num_possible_cpus();
	struct kx_hist *rv;
	__u32 i;

	memset(s, 0, sizeof(*s));
	if (ncpus <= 0 || ncpus > 4096)
		return -EINVAL;
	s->t_ns = now_ns();
	rv = malloc(sizeof(*rv));
	av = malloc(sizeof(*av));
	s->reasons = calloc(KX_MAX_REASONS, sizeof(*s->reasons));
	s->addrs = calloc(KX_MAX_ADDRS, sizeof(*s->addrs));
	if (!rv || !av || !s->reasons || !s->addrs) {
		free(rv);
		free(av);
		kx_snapshot__free(s);
		return -ENOMEM;
	}
	while (s->nr_reasons < KX_MAX_REASONS && !bpf_map_get_next_key(rfd, rprev, &rk)) {
		if (!bpf_map_lookup_elem(rfd, &rk, rv)) {
			s->reasons[s->nr_reasons].key = rk;
			hist_from_kx(&s->reasons[s->nr_reasons].h, rv);
			s->nr_reasons++;
		}
		rprev = &rk;
	}
	while (s->nr_addrs < KX_MAX_ADDRS && !bpf_map_get_next_key(afd, aprev, &ak)) {
		if (!bpf_map_lookup_elem(afd, &ak, av)) {
			s->addrs[s->nr_addrs].key = ak;
			s->addrs[s->nr_addrs].events = av->events;
			hist_from_kx(&s->addrs[s->nr_addrs].user, &av->user);
			s->nr_addrs++;
		}
		aprev = &ak;
	}
	for (i = 0; i < KX_C_NR; i++) {
		__u64 percpu[ncpus];
		int cpu;

		if (bpf_map_lookup_elem(cfd, &i, percpu))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			s->counters[i] += percpu[cpu];
	}
	if (c->stats_fd >= 0) {
		struct bpf_program *prog;

		bpf_object__for_each_program(prog, c->skel->obj) {
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);

			if (!bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
				s->prog_runs += info.run_cnt;
				s->prog_ns += info.run_time_ns;
			}
		}
	}
	free(rv);
	free(av);
	return 0;
}

void kx__close(struct kx_collector *c)
{
	if (!c)
		return;
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	kvm_exits_bpf__destroy(c->skel);
	free(c);
}

static void hist_sub(struct hist *out, const struct hist *b, const struct hist *a)
{
	unsigned int i;

	*out = *b;
	if (!a)
		return;
	out->count -= a->count;
	out->sum -= a->sum;
	out->min = UINT64_MAX;
	for (i = 0; i < HIST_BUCKETS; i++) {
		out->buckets[i] -= a->buckets[i];
		if (out->buckets[i] && out->min == UINT64_MAX)
			out->min = hist__bucket_low(i);
	}
	/* The kernel keeps a running max only: the interval's is at most that. */
}

int kx_snapshot__diff(const struct kx_snapshot *a, const struct kx_snapshot *b,
		      struct kx_snapshot *out)
{
	size_t i, j;

	memset(out, 0, sizeof(*out));
	out->t_ns = b->t_ns - a->t_ns;
	out->reasons = calloc(b->nr_reasons + 1, sizeof(*out->reasons));
	out->addrs = calloc(b->nr_addrs + 1, sizeof(*out->addrs));
	if (!out->reasons || !out->addrs) {
		kx_snapshot__free(out);
		return -ENOMEM;
	}
	for (i = 0; i < b->nr_reasons; i++) {
		const struct hist *prev = NULL;

		for (j = 0; j < a->nr_reasons; j++)
			if (!memcmp(&a->reasons[j].key, &b->reasons[i].key, sizeof(struct kx_key)))
				prev = &a->reasons[j].h;
		out->reasons[out->nr_reasons].key = b->reasons[i].key;
		hist_sub(&out->reasons[out->nr_reasons].h, &b->reasons[i].h, prev);
		if (out->reasons[out->nr_reasons].h.count)
			out->nr_reasons++;
	}
	for (i = 0; i < b->nr_addrs; i++) {
		const struct kx_addr *prev = NULL;
		struct kx_addr *o = &out->addrs[out->nr_addrs];

		for (j = 0; j < a->nr_addrs; j++)
			if (!memcmp(&a->addrs[j].key, &b->addrs[i].key, sizeof(struct kx_addr_key)))
				prev = &a->addrs[j];
		o->key = b->addrs[i].key;
		o->events = b->addrs[i].events - (prev ? prev->events : 0);
		hist_sub(&o->user, &b->addrs[i].user, prev ? &prev->user : NULL);
		if (o->events || o->user.count)
			out->nr_addrs++;
	}
	for (i = 0; i < KX_C_NR; i++)
		out->counters[i] = b->counters[i] - a->counters[i];
	out->prog_runs = b->prog_runs - a->prog_runs;
	out->prog_ns = b->prog_ns - a->prog_ns;
	return 0;
}

void kx_snapshot__free(struct kx_snapshot *s)
{
	free(s->reasons);
	free(s->addrs);
	memset(s, 0, sizeof(*s));
}

/*
 * The BPF back end of the exit collector: loads probes/kvm_exits.bpf.c
 * (libbpf skeleton, CO-RE). The kernel side keeps cumulative per-key
 * histograms in hash maps; a snapshot copies them out, so readers never
 * race with the probes and nothing is lost between two reads.
 */
#include "collectors/kvm_exits_backend.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_exits.skel.h"

struct kx_bpf {
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

static int bpf_open(void **priv, pid_t pid, char *why, size_t why_len)
{
	struct kx_bpf *c;
	int ret;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, why_len, "no kernel BTF (/sys/kernel/btf/vmlinux): CO-RE cannot relocate");
		return -ENOENT;
	}
	/* libbpf finds tracepoint ids in tracefs, which may not be mounted. */
	ret = kx__need_tracefs(why, why_len);
	if (ret)
		return ret;
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
	*priv = c;
	return 0;
fail:
	kvm_exits_bpf__destroy(c->skel);
	free(c);
	return ret;
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

static int bpf_snapshot(void *priv, struct kx_snapshot *s)
{
	struct kx_bpf *c = priv;
	int rfd = bpf_map__fd(c->skel->maps.reasons), afd = bpf_map__fd(c->skel->maps.addrs);
	int cfd = bpf_map__fd(c->skel->maps.counters);
	struct kx_addr_key ak, *aprev = NULL;
	struct kx_key rk, *rprev = NULL;
	struct kx_addr_val *av;
	int ncpus = libbpf_num_possible_cpus();
	struct kx_hist *rv;
	__u32 i;

	if (ncpus <= 0 || ncpus > 4096)
		return -EINVAL;
	if (kx_snapshot__alloc(s))
		return -ENOMEM;
	rv = malloc(sizeof(*rv));
	av = malloc(sizeof(*av));
	if (!rv || !av) {
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

static void bpf_close(void *priv)
{
	struct kx_bpf *c = priv;

	if (c->stats_fd >= 0)
		close(c->stats_fd);
	kvm_exits_bpf__destroy(c->skel);
	free(c);
}

const struct kx_backend kx_bpf_backend = {
	.name = "bpf",
	.attach = "BPF on KVM's tracepoints",
	.open = bpf_open,
	.snapshot = bpf_snapshot,
	.close = bpf_close,
};

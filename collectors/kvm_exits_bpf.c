/*
 * The BPF back end of the exit collector: loads probes/kvm_exits.bpf.c
 * (libbpf skeleton, CO-RE). The kernel side keeps cumulative per-key
 * histograms in hash maps; a snapshot copies them out, so readers never
 * race with the probes and nothing is lost between two reads.
 */
#include "collectors/kvm_exits_backend.h"

#include "collectors/bpf_util.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvm_exits.skel.h"

/*
 * How the programs attach, best first: tp_btf (BTF-typed tracepoint
 * arguments, 5.5+), raw_tp (4.17+), the classic tracepoint record. The
 * best the kernel supports is tried first; a mode that fails to load or
 * attach falls back to the next, and the output names the one in use.
 */
enum kx_mode { KX_TP_BTF, KX_RAW_TP, KX_TRACEPOINT, KX_NR_MODES };
static const char *const mode_names[KX_NR_MODES] = { "tp_btf", "raw_tp", "tracepoint" };

struct kx_bpf {
	struct kvm_exits_bpf *skel;
	int stats_fd;		/* BPF run-time stats stay on while it is open */
	char describe[160];
};

/* Whether this kernel can run mode at all (a cheap check before loading). */
static bool mode_supported(enum kx_mode m)
{
	struct btf *vmlinux;
	bool ok;

	switch (m) {
	case KX_TP_BTF:
		/* libbpf cannot probe TRACING programs without a target: the
		 * tracepoint's BTF is checked here, the load tells the rest. */
		vmlinux = btf__load_vmlinux_btf();
		ok = vmlinux && btf__find_by_name_kind(vmlinux, "btf_trace_kvm_userspace_exit",
						      BTF_KIND_TYPEDEF) >= 0;
		btf__free(vmlinux);
		return ok;
	case KX_RAW_TP:
		return libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_RAW_TRACEPOINT, NULL) == 1;
	default:
		return true;
	}
}

/* Keeps one mode's programs; kvm_exit and kvm_entry are classic in all. */
static void keep_mode(struct kvm_exits_bpf *skel, enum kx_mode m)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *n = bpf_program__name(prog);
		bool btf = !strncmp(n, "kx_btf_", 7), raw = !strncmp(n, "kx_raw_", 7);
		bool pairing = !strcmp(n, "kx_kvm_exit") || !strcmp(n, "kx_kvm_entry");

		bpf_program__set_autoload(prog, pairing || (m == KX_TP_BTF ? btf :
							    m == KX_RAW_TP ? raw : !btf && !raw));
	}
}

static int try_mode(struct kx_bpf *c, pid_t pid, enum kx_mode m, char *why, size_t why_len)
{
	int ret;

	c->skel = kvm_exits_bpf__open();
	if (!c->skel) {
		ret = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(-ret));
		return ret;
	}
	c->skel->rodata->targ_tgid = (__u32)pid;
	keep_mode(c->skel, m);
	ret = kvm_exits_bpf__load(c->skel);
	if (ret) {
		snprintf(why, why_len, "cannot load the BPF programs (%s): %s%s", mode_names[m],
			 strerror(-ret), ret == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
		goto fail;
	}
	ret = kvm_exits_bpf__attach(c->skel);
	if (ret) {
		snprintf(why, why_len, "cannot attach to the kvm tracepoints (%s): %s%s",
			 mode_names[m], strerror(-ret),
			 ret == -ENOENT ? " (no KVM in this kernel, or tracefs missing)" : "");
		goto fail;
	}
	return 0;
fail:
	kvm_exits_bpf__destroy(c->skel);
	c->skel = NULL;
	return ret;
}

static int bpf_open(void **priv, pid_t pid, const char *mode, char *why, size_t why_len)
{
	char fell[96] = "";
	struct kx_bpf *c;
	int ret = -EINVAL, m, first = 0;

	if (mode) {
		for (first = 0; first < KX_NR_MODES && strcmp(mode, mode_names[first]); first++)
			;
		if (first == KX_NR_MODES) {
			snprintf(why, why_len, "unknown attach mode '%s' (tp_btf, raw_tp, tracepoint)",
				 mode);
			return -EINVAL;
		}
	}
	ret = bpf_util__prepare(why, why_len);
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (m = first; m < KX_NR_MODES; m++) {
		if (!mode && !mode_supported((enum kx_mode)m)) {
			snprintf(fell + strlen(fell), sizeof(fell) - strlen(fell), "%s%s unsupported",
				 fell[0] ? ", " : "; ", mode_names[m]);
			continue;
		}
		ret = try_mode(c, pid, (enum kx_mode)m, why, why_len);
		if (!ret || mode)
			break;		/* a forced mode does not fall back */
		snprintf(fell + strlen(fell), sizeof(fell) - strlen(fell), "%s%s failed",
			 fell[0] ? ", " : "; ", mode_names[m]);
	}
	if (ret) {
		free(c);
		return ret;
	}
	snprintf(c->describe, sizeof(c->describe), "BPF (%s) on KVM's tracepoints%s",
		 mode_names[m], fell);
	/* The probes' own cost, per program (as bpftool prog show). */
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	*priv = c;
	return 0;
}

static const char *bpf_describe(void *priv)
{
	return ((struct kx_bpf *)priv)->describe;
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
	if (c->stats_fd >= 0)
		bpf_util__cost(c->skel->obj, &s->prog_runs, &s->prog_ns);
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
	.describe = bpf_describe,
	.snapshot = bpf_snapshot,
	.close = bpf_close,
};

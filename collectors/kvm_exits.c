/*
 * The exit collector's front: picks a back end (BPF, else tracefs) and
 * turns cumulative snapshots into intervals.
 */
#include "collectors/kvm_exits_backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include "lib/clock.h"

struct kx_collector {
	const struct kx_backend *be;
	void *priv;
};

static const struct kx_backend *const backends[] = { &kx_bpf_backend, &kx_tracefs_backend };

int kx__need_tracefs(char *why, size_t why_len)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL)) {
		int err = errno;

		snprintf(why, why_len, "tracefs is not mounted and mounting it failed: %s",
			 strerror(err));
		return -err;
	}
	return 0;
}

int kx_snapshot__alloc(struct kx_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->t_ns = now_ns();
	s->reasons = calloc(KX_MAX_REASONS, sizeof(*s->reasons));
	s->addrs = calloc(KX_MAX_ADDRS, sizeof(*s->addrs));
	if (!s->reasons || !s->addrs) {
		kx_snapshot__free(s);
		return -ENOMEM;
	}
	return 0;
}

int kx__open(struct kx_collector **out, pid_t pid, const char *backend, const char *mode,
	     char *why, size_t why_len)
{
	char all[512] = "", one[256];
	size_t i, n = 0;
	int ret = -ENOENT;

	*out = NULL;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		struct kx_collector *c;
		void *priv;

		if (backend && strcmp(backend, backends[i]->name))
			continue;
		if (mode && strcmp(backends[i]->name, "bpf"))
			continue;	/* an attach mode asks for BPF */
		ret = backends[i]->open(&priv, pid, mode, one, sizeof(one));
		if (ret) {
			/* Every back end tried says why it could not run. */
			if (n < sizeof(all))
				n += (size_t)snprintf(all + n, sizeof(all) - n, "%s%s: %s",
						      n ? "; " : "", backends[i]->name, one);
			continue;
		}
		c = malloc(sizeof(*c));
		if (!c) {
			backends[i]->close(priv);
			return -ENOMEM;
		}
		*c = (struct kx_collector){ .be = backends[i], .priv = priv };
		*out = c;
		return 0;
	}
	snprintf(why, why_len, "%s", n ? all : "unknown back end (bpf, tracefs)");
	return ret;
}

const char *kx__attach_kind(const struct kx_collector *c)
{
	return c->be->describe ? c->be->describe(c->priv) : c->be->attach;
}

const char *kx__backend(const struct kx_collector *c)
{
	return c->be->name;
}

void kx__poll(struct kx_collector *c)
{
	if (c->be->poll)
		c->be->poll(c->priv);
}

int kx__snapshot(struct kx_collector *c, struct kx_snapshot *s)
{
	return c->be->snapshot(c->priv, s);
}

void kx__close(struct kx_collector *c)
{
	if (!c)
		return;
	c->be->close(c->priv);
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

#ifndef VIOSCOPE__COLLECTORS_KVM_EXITS_H
#define VIOSCOPE__COLLECTORS_KVM_EXITS_H

#include <linux/types.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "analyzers/hist.h"
#include "probes/kvm_exits.h"

/*
 * The VM-exit collector: probes/kvm_exits.bpf.c through its libbpf
 * skeleton, or, where BPF is not allowed, the same tracepoints read from a
 * tracefs instance's raw buffers. Snapshots are cumulative; subtract two
 * for an interval.
 */
struct kx_reason {
	struct kx_key key;
	struct hist h;			/* ns */
};

struct kx_addr {
	struct kx_addr_key key;
	uint64_t events;
	struct hist user;		/* ns, the user-space exits only */
};

struct kx_snapshot {
	uint64_t t_ns;			/* CLOCK_MONOTONIC when taken */
	struct kx_reason *reasons;
	size_t nr_reasons;
	struct kx_addr *addrs;
	size_t nr_addrs;
	uint64_t counters[KX_C_NR];	/* + KX_C_LOST for tracefs */
	/* What the probes themselves cost (kernel BPF run-time stats; 0 when
	 * the kernel cannot keep them): program runs and their total time. */
	uint64_t prog_runs;
	uint64_t prog_ns;
};

struct kx_collector;

/*
 * Starts collecting for process pid (0: all) with back end "bpf" or
 * "tracefs" (NULL: BPF, else tracefs). mode forces the BPF attach mode
 * ("tp_btf", "raw_tp", "tracepoint"; NULL: the best the kernel has). 0, or
 * -errno with a one-line reason in why (no BPF, no BTF, no kvm
 * tracepoints, not root...).
 */
int kx__open(struct kx_collector **out, pid_t pid, const char *backend, const char *mode,
	     char *why, size_t why_len);
/* The back end in use ("bpf", "tracefs") and how its events arrive. */
const char *kx__backend(const struct kx_collector *c);
const char *kx__attach_kind(const struct kx_collector *c);
/* Reads pending events where the back end has to (tracefs: call it often
 * enough that its ring buffer does not overflow; BPF: nothing to do). */
void kx__poll(struct kx_collector *c);
int kx__snapshot(struct kx_collector *c, struct kx_snapshot *s);
void kx__close(struct kx_collector *c);

/* out = b - a (entries missing from a count from zero); 0 or -ENOMEM. */
int kx_snapshot__diff(const struct kx_snapshot *a, const struct kx_snapshot *b,
		      struct kx_snapshot *out);
void kx_snapshot__free(struct kx_snapshot *s);

#endif /* VIOSCOPE__COLLECTORS_KVM_EXITS_H */

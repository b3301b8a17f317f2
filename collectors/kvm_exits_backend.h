#ifndef VIOSCOPE__COLLECTORS_KVM_EXITS_BACKEND_H
#define VIOSCOPE__COLLECTORS_KVM_EXITS_BACKEND_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "collectors/kvm_exits.h"

/*
 * A back end of the exit collector: the BPF program (kvm_exits_bpf.c) or
 * the tracefs reader (kvm_exits_tracefs.c). Both run the state machine in
 * probes/kvm_exits_logic.h and fill the same cumulative snapshots.
 */
struct kx_backend {
	const char *name;		/* "bpf", "tracefs" */
	const char *attach;		/* how events arrive, for the output */
	/* 0 and *priv, or -errno with a one-line reason in why. mode: the BPF
	 * attach mode to use (tp_btf, raw_tp, tracepoint), NULL to probe. */
	int (*open)(void **priv, pid_t pid, const char *mode, char *why, size_t why_len);
	/* Optional: how events arrive, when it is decided at open. */
	const char *(*describe)(void *priv);
	/* Takes in pending events (NULL when they need no reading). */
	void (*poll)(void *priv);
	int (*snapshot)(void *priv, struct kx_snapshot *s);
	void (*close)(void *priv);
};

extern const struct kx_backend kx_bpf_backend;
extern const struct kx_backend kx_tracefs_backend;

/* Mounts tracefs at /sys/kernel/tracing when no tracefs is mounted. */
int kx__need_tracefs(char *why, size_t why_len);
/* A snapshot with room for every table entry (zeroed), or -ENOMEM. */
int kx_snapshot__alloc(struct kx_snapshot *s);

#endif /* VIOSCOPE__COLLECTORS_KVM_EXITS_BACKEND_H */

#ifndef VIOSCOPE__VCPU_H
#define VIOSCOPE__VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdint.h>

#include "collectors/perf_event.h"
#include "hypervisor/metrics.h"

struct kvm;

/* Exit kinds counted per vCPU, in the order of the JSON "exits" object. */
enum vcpu_exit_kind {
	EXIT_PIO, EXIT_MMIO, EXIT_HLT, EXIT_INTR, EXIT_SHUTDOWN,
	EXIT_INTERNAL, EXIT_OTHER, EXIT_RAW, EXIT_UNHANDLED, NR_EXIT_KINDS,
};

extern const char *const vcpu_exit_names[NR_EXIT_KINDS];

struct kvm_cpu {
	int id;
	int fd;
	struct kvm *kvm;
	struct kvm_run *run;
	pthread_t thread;
	uint64_t exits[NR_EXIT_KINDS];
	struct hist dispatch_ns;	/* userspace time per exit, KVM_RUN return to re-entry */
	struct perf_counters perf;	/* this thread's, opened by the thread itself */
	uint64_t exit_ns;		/* when the current exit returned from KVM_RUN */
};

/* A guest TSC value and the host CLOCK_MONOTONIC time it was read at. */
struct tsc_anchor {
	uint64_t tsc;
	uint64_t host_ns;
	uint64_t err_ns;		/* half the host-clock bracket around the read */
};

int kvm_cpu__create(struct kvm *kvm, int id, struct kvm_cpu **out);
void kvm_cpu__destroy(struct kvm_cpu *cpu);
int kvm_cpu__start(struct kvm_cpu *cpu);
/* Interrupts KVM_RUN so the thread sees kvm->stopping, then joins it. */
void kvm_cpu__stop(struct kvm_cpu *cpu);
/* On a vCPU thread: when its current exit left KVM_RUN (CLOCK_MONOTONIC
 * ns); 0 on any other thread. */
uint64_t vcpu__exit_ns(void);
/* On a vCPU thread: reads that vCPU's guest TSC against the host clock;
 * 0, -EPERM elsewhere, -EIO when KVM refuses. */
int vcpu__tsc_anchor(struct tsc_anchor *a);

#endif /* VIOSCOPE__VCPU_H */

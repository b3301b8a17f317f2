#ifndef VIOSCOPE__RESULTS_H
#define VIOSCOPE__RESULTS_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "collectors/perf_event.h"

#include "hypervisor/guest/abi.h"
#include "hypervisor/vcpu.h"

struct kvm;
struct cJSON;

/* Largest sample array accepted from a guest (guest-controlled count). */
#define RESULTS_MAX_SAMPLES	(16u << 20)
#define RESULTS_MAX_RECORDS	64

/* What the VMM saw, summed over vCPUs and devices. */
struct observed {
	uint64_t pio;
	uint64_t mmio;
	uint64_t hlt;
	uint64_t raw_loop;	/* exits the raw loop took without dispatch */
	uint64_t ctl;		/* results-channel exits (not part of a measurement) */
	uint64_t ioeventfd;	/* doorbell writes signalled by KVM, no exit */
	uint64_t irqs;		/* MSI-X messages sent through irqfd */
	uint64_t evloop_cpu_ns;	/* CPU time of the event-loop thread (device backends) */
	/* perf_event counters summed over the vCPU threads and of the I/O
	 * (event-loop) thread; a bit per counter that could be read. */
	uint64_t vcpu_perf[PERF_NR];
	uint64_t io_perf[PERF_NR];
	unsigned int vcpu_have, io_have;
};

struct guest_result {
	struct vio_result rec;
	struct observed during;	/* from VIO_CTL_BEGIN to the record */
	int64_t host_verify_bad;	/* disk verify=1: image blocks without the pattern,
					   checked when the record arrived; -1 = not checked */
	uint64_t *measured;	/* copies, so later guest writes cannot change them */
	uint64_t *raw;
	uint64_t *timer;
	uint64_t *submitted;	/* disk: per-I/O submission and doorbell TSC and tag, */
	uint64_t *doorbell;	/* or all NULL */
	uint64_t *tags;
	/* The guest TSC against the host clock at VIO_CTL_BEGIN and at the
	 * record: how the request probes put guest times on the host clock. */
	struct tsc_anchor a0, a1;
	bool anchored;
	bool hid_common_clock;		/* hid: latencies computed on the anchors */
	uint64_t hid_clamped;		/* hid: latencies below 0, counted as 0 */
	int64_t frame_bad;		/* gfx: pixels of the last frame not as drawn, -1 unchecked */
	uint64_t frames_shown, copied;	/* gfx: the display's, during the record:
					 * dirty pages or bytes transferred */
	uint64_t frames_timed;		/* gfx: frames whose stamp a refresh showed */
	uint64_t frames_seen;		/* gfx: the same, with or without a clock */
};

struct results {
	pthread_mutex_t lock;
	struct guest_result items[RESULTS_MAX_RECORDS];
	unsigned int nr;
	struct observed begin;
	struct tsc_anchor begin_anchor;
	bool begin_anchored;
	uint64_t begin_frames, begin_copied;	/* the display's counters at the start */
	uint64_t rejected;	/* malformed records from the guest */
};

void results__observe(struct kvm *kvm, struct observed *o);
void results__begin(struct kvm *kvm);
struct results *results__new(void);
void results__free(struct results *r);
/* Copies a struct vio_result and its samples out of guest RAM after
 * checking every address and count; returns 0 or -errno (counted). */
int results__add_from_guest(struct kvm *kvm, uint64_t gpa);
/* Microbenchmark records with statistics in ns and cycles. */
struct cJSON *results__to_json(struct kvm *kvm);
/* One line per record for people: p50/p99/mean per op, raw ratio, exits. */
void results__print(struct cJSON *records, FILE *f);

#endif /* VIOSCOPE__RESULTS_H */

/*
 * Results the probe guest hands back over the control device. The guest is
 * untrusted: a record is copied out of RAM only after its samples' address
 * and count are checked, and the copies are what gets analysed.
 */
#include "hypervisor/results.h"

#include <cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>

#include "analyzers/stats.h"
#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/ioeventfd.h"
#include "hypervisor/msix.h"
#include "hypervisor/irq.h"
#include "hypervisor/kvm.h"
#include "hypervisor/vcpu.h"
#include "lib/log.h"
#include "lib/json.h"
#include "lib/metric.h"

static const char *const kind_names[] = {
	[VIO_MICRO_PIO] = "pio", [VIO_MICRO_MMIO] = "mmio",
	[VIO_MICRO_IOEVENTFD] = "ioeventfd", [VIO_MICRO_IRQ] = "irq",
	[VIO_MICRO_PIO_RAW] = "pio-raw", [VIO_MICRO_MMIO_RAW] = "mmio-raw",
	[VIO_MICRO_NULL] = "null", [VIO_DISK] = "disk", [VIO_NET] = "net",
	[VIO_HID] = "hid", [VIO_GFX] = "gfx",
};

static const char *const status_names[] = {
	[VIO_OK] = "ok", [VIO_ERR_WORKLOAD] = "bad workload",
	[VIO_ERR_NODEV] = "benchmark device not found", [VIO_ERR_NOMEM] = "out of memory",
	[VIO_ERR_TIMEOUT] = "interrupt timeout", [VIO_ERR_EXCEPTION] = "guest exception",
	[VIO_ERR_DEVICE] = "device error response",
};

static const char *const space_names[] = {
	[VIO_SPACE_PIO] = "pio", [VIO_SPACE_MMIO] = "mmio", [VIO_SPACE_NONE] = "none",
};

static const char *const irq_mode_names[] = {
	[VIO_IRQ_NONE] = "none", [VIO_IRQ_MSIX] = "msix", [VIO_IRQ_POLL] = "poll",
	[VIO_IRQ_INTX] = "intx",
};

#define NAME_OR(tbl, i, dflt) \
	((i) < sizeof(tbl) / sizeof(tbl[0]) && tbl[i] ? tbl[i] : (dflt))

struct results *results__new(void)
{
	struct results *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void results__free(struct results *r)
{
	unsigned int i;

	if (!r)
		return;
	for (i = 0; i < r->nr; i++) {
		free(r->items[i].measured);
		free(r->items[i].raw);
		free(r->items[i].timer);
		free(r->items[i].submitted);
		free(r->items[i].doorbell);
		free(r->items[i].tags);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void results__observe(struct kvm *kvm, struct observed *o)
{
	struct device *dev;
	int i;

	memset(o, 0, sizeof(*o));
	/*
	 * A guest that polls its used ring can see a completion before the
	 * event loop has sent (and counted) its interrupt: let the loop
	 * finish what is due so the window's counts match the guest's view.
	 */
	if (evloop__quiesce(kvm->evloop))
		pr_warn_ratelimited("event loop busy: counters of this record may be off by one");
	device__sync_all(kvm);
	for (i = 0; i < kvm->nr_cpus; i++) {
		o->pio += kvm->cpus[i]->exits[EXIT_PIO];
		o->mmio += kvm->cpus[i]->exits[EXIT_MMIO];
		o->hlt += kvm->cpus[i]->exits[EXIT_HLT];
		o->raw_loop += kvm->cpus[i]->exits[EXIT_RAW];
	}
	dev = device__find(kvm, "vioctl");
	if (dev)
		o->ctl = metrics__value(&dev->metrics, "exits");
	/* Trapped doorbell writes the bench device served count as kicks too. */
	dev = device__find(kvm, "bench");
	o->ioeventfd = ioeventfd__total() +
		       (dev ? metrics__value(&dev->metrics, "trapped_kicks") : 0);
	o->irqs = msix__total_sent() + irq__total_raised();
	o->evloop_cpu_ns = kvm->evloop ? evloop__cpu_ns(kvm->evloop) : 0;
	o->vcpu_have = (1u << PERF_NR) - 1;
	for (i = 0; i < kvm->nr_cpus; i++)
		o->vcpu_have &= perf_counters__add(&kvm->cpus[i]->perf, o->vcpu_perf);
	if (!kvm->nr_cpus)
		o->vcpu_have = 0;
	o->io_have = kvm->evloop ? evloop__perf(kvm->evloop, o->io_perf) : 0;
}

/* The display model: the device with the display hooks, or NULL. */
static struct device *display(struct kvm *kvm)
{
	struct device *dev;

	for (dev = kvm->devices; dev && !dev->ops->frame_verify; dev = dev->next)
		;
	return dev;
}

/* The display model's frames shown so far, and what it moved to show
 * them: dirty pages copied (bochs-display) or bytes transferred by the
 * guest's commands (virtio-gpu). */
static void display_counters(struct kvm *kvm, uint64_t *frames, uint64_t *copied)
{
	struct device *dev = display(kvm);

	*frames = dev ? metrics__value(&dev->metrics, "frames") : 0;
	*copied = dev ? metrics__value(&dev->metrics, "dirty_pages") +
			metrics__value(&dev->metrics, "transfer_bytes") : 0;
}

void results__begin(struct kvm *kvm)
{
	struct results *r = kvm->results;

	r->begin_anchored = vcpu__tsc_anchor(&r->begin_anchor) == 0;
	results__observe(kvm, &r->begin);
	display_counters(kvm, &r->begin_frames, &r->begin_copied);
}

/* Guest TSC -> host CLOCK_MONOTONIC ns, linear between the two anchors. */
static uint64_t guest_tsc_to_ns(const struct guest_result *gr, uint64_t tsc)
{
	double rate = (double)(gr->a1.host_ns - gr->a0.host_ns) / (double)(gr->a1.tsc - gr->a0.tsc);

	return gr->a0.host_ns + (uint64_t)llround((double)(int64_t)(tsc - gr->a0.tsc) * rate);
}

/*
 * The guest's view of each I/O (submission, completion) on the host
 * clock, for the request collector to join with the VMM's own probes by
 * device and tag. Fired once per I/O when the record arrives.
 */
static void emit_guest_requests(struct kvm *kvm, const struct guest_result *gr)
{
	const struct device *dev;
	uint64_t i;

	if (gr->rec.kind != VIO_DISK || !gr->submitted || !gr->anchored)
		return;
	if (gr->rec.disk.flags & VIO_DISK_USB)
		return;		/* the USB models fire no request probes */
	dev = device__find(kvm, gr->rec.disk.flags & VIO_DISK_EMUL ? "ahci" : "virtio-blk");
	if (!dev)
		return;
	for (i = 0; i < gr->rec.measured.count; i++) {
		uint64_t sub = guest_tsc_to_ns(gr, gr->submitted[i]);
		uint64_t bell = guest_tsc_to_ns(gr, gr->doorbell[i]);
		uint64_t done = guest_tsc_to_ns(gr, gr->submitted[i] + gr->measured[i]);
		uint64_t tag = gr->tags[i], id = dev->id;

		/* In registers: libbpf before 1.3 cannot read an indexed operand,
		 * and a memory one costs the program a read. */
		__asm__("" : "+r"(tag), "+r"(id));
		DTRACE_PROBE5(vioscope, req_guest, id, tag, sub, bell, done);
	}
}

static uint64_t *copy_samples(struct kvm *kvm, const struct vio_samples *s)
{
	uint64_t *dst;
	void *src;

	if (s->count == 0)
		return NULL;
	if (s->count > RESULTS_MAX_SAMPLES)
		return NULL;
	src = kvm__gpa_to_hva(kvm, s->gpa, s->count * sizeof(uint64_t));
	if (!src)
		return NULL;
	dst = malloc(s->count * sizeof(uint64_t));
	if (dst)
		memcpy(dst, src, s->count * sizeof(uint64_t));
	return dst;
}

/* Host and guest on one clock: the anchors and the TSC rate are known. */
static bool common_clock(const struct kvm *kvm, const struct guest_result *gr)
{
	return gr->measured && gr->anchored && kvm->tsc_khz;
}

/* No common clock: the record keeps no samples. */
static void drop_samples(struct guest_result *gr)
{
	free(gr->measured);
	gr->measured = NULL;
	gr->rec.measured.count = 0;
}

/* From from_ns to to_ns (host ns) in TSC ticks, as samples are kept; 0
 * when the anchors' error puts to_ns first. */
static uint64_t gap_ticks(const struct kvm *kvm, uint64_t from_ns, uint64_t to_ns)
{
	return to_ns > from_ns ? (to_ns - from_ns) * kvm->tsc_khz / 1000000 : 0;
}

/*
 * The hid workload: the guest's TSC when it had each report (measured)
 * and the host's ns when the keyboard injected it (tags) become delivery
 * latencies, stored as TSC ticks like every other sample. Without the
 * anchors there is no common clock: no samples then (hid_clock says so).
 * A latency the anchors' error makes negative counts as 0 (hid_clamped).
 */
static void hid_latencies(struct kvm *kvm, struct guest_result *gr)
{
	uint64_t n = gr->rec.measured.count, i, *inject = NULL;

	if (gr->rec.tags.count == n && n)
		inject = copy_samples(kvm, &gr->rec.tags);
	if (!inject || !common_clock(kvm, gr)) {
		free(inject);
		drop_samples(gr);
		return;
	}
	gr->hid_common_clock = true;
	for (i = 0; i < n; i++) {
		uint64_t seen = guest_tsc_to_ns(gr, gr->measured[i]);

		if (seen < inject[i])
			gr->hid_clamped++;
		gr->measured[i] = gap_ticks(kvm, inject[i], seen);
	}
	free(inject);
}

/*
 * The gfx workload: `measured` holds the guest's TSC when it stamped each
 * frame complete; the display says when a refresh first showed that stamp.
 * The frames it showed keep their update latency (in TSC ticks, like every
 * sample); those drawn over before a refresh saw them are dropped. The
 * frames seen are counted with or without a common clock.
 */
static void gfx_latencies(struct kvm *kvm, struct device *dev, struct guest_result *gr)
{
	bool timed = dev && dev->ops->frame_seen && common_clock(kvm, gr);
	uint64_t i, n = 0;

	for (i = 0; dev && dev->ops->frame_seen && i < gr->rec.measured.count; i++) {
		uint64_t seen = dev->ops->frame_seen(dev, i);

		if (!seen)
			continue;
		gr->frames_seen++;
		if (timed)
			gr->measured[n++] = gap_ticks(kvm, guest_tsc_to_ns(gr, gr->measured[i]), seen);
	}
	if (!timed) {
		drop_samples(gr);
		return;
	}
	gr->rec.measured.count = n;
	gr->frames_timed = n;
}

int results__add_from_guest(struct kvm *kvm, uint64_t gpa)
{
	struct results *r = kvm->results;
	struct guest_result gr = { 0 };
	struct observed now;
	void *p = kvm__gpa_to_hva(kvm, gpa, sizeof(gr.rec));
	int ret = -EINVAL;

	gr.anchored = r->begin_anchored && vcpu__tsc_anchor(&gr.a1) == 0;
	gr.a0 = r->begin_anchor;
	results__observe(kvm, &now);
	pthread_mutex_lock(&r->lock);
	if (!p || r->nr == RESULTS_MAX_RECORDS)
		goto bad;
	memcpy(&gr.rec, p, sizeof(gr.rec));	/* one snapshot; the guest may keep writing */
	if (gr.rec.magic != VIO_RESULT_MAGIC)
		goto bad;
	gr.measured = copy_samples(kvm, &gr.rec.measured);
	gr.raw = copy_samples(kvm, &gr.rec.raw);
	gr.timer = copy_samples(kvm, &gr.rec.timer);
	if ((gr.rec.measured.count && !gr.measured) || (gr.rec.raw.count && !gr.raw) ||
	    (gr.rec.timer.count && !gr.timer)) {
		free(gr.measured);
		free(gr.raw);
		free(gr.timer);
		goto bad;
	}
	/* Optional per-I/O arrays: kept only when they match the samples. */
	if (gr.rec.submitted.count == gr.rec.measured.count &&
	    gr.rec.doorbell.count == gr.rec.measured.count &&
	    gr.rec.tags.count == gr.rec.measured.count && gr.measured) {
		gr.submitted = copy_samples(kvm, &gr.rec.submitted);
		gr.doorbell = copy_samples(kvm, &gr.rec.doorbell);
		gr.tags = copy_samples(kvm, &gr.rec.tags);
	}
	if (!gr.submitted || !gr.doorbell || !gr.tags) {
		free(gr.submitted);
		free(gr.doorbell);
		free(gr.tags);
		gr.submitted = gr.doorbell = gr.tags = NULL;
	}
	gr.anchored = gr.anchored && gr.a1.tsc > gr.a0.tsc && gr.a1.host_ns > gr.a0.host_ns;
	if (gr.rec.kind == VIO_HID)
		hid_latencies(kvm, &gr);
	gr.during = (struct observed){
		.pio = now.pio - r->begin.pio, .mmio = now.mmio - r->begin.mmio,
		.hlt = now.hlt - r->begin.hlt, .raw_loop = now.raw_loop - r->begin.raw_loop,
		.ctl = now.ctl - r->begin.ctl, .ioeventfd = now.ioeventfd - r->begin.ioeventfd,
		.irqs = now.irqs - r->begin.irqs,
		.evloop_cpu_ns = now.evloop_cpu_ns - r->begin.evloop_cpu_ns,
		.vcpu_have = now.vcpu_have & r->begin.vcpu_have,
		.io_have = now.io_have & r->begin.io_have,
	};
	for (int i = 0; i < PERF_NR; i++) {
		gr.during.vcpu_perf[i] = now.vcpu_perf[i] - r->begin.vcpu_perf[i];
		gr.during.io_perf[i] = now.io_perf[i] - r->begin.io_perf[i];
	}
	/*
	 * The guest's I/Os are all complete when it reports, and later
	 * workloads may overwrite the blocks: check the image now.
	 */
	gr.host_verify_bad = -1;
	/* Guest-supplied sizes: bounded before the host reads anything. */
	if (gr.rec.kind == VIO_DISK && gr.rec.disk.verify_blocks &&
	    gr.rec.disk.verify_blocks <= 1024 && gr.rec.disk.block_size >= 512 &&
	    gr.rec.disk.block_size <= (1u << 20)) {
		struct device *dev;

		for (dev = kvm->devices; dev; dev = dev->next)
			if (dev->ops->host_verify) {
				gr.host_verify_bad = dev->ops->host_verify(dev, gr.rec.disk.block_size,
									   gr.rec.disk.verify_blocks);
				break;
			}
	}
	/* Displays: the last frame the host saw, checked now (later
	 * workloads draw over it). Sizes are the guest's: bounded. */
	gr.frame_bad = -1;
	if (gr.rec.kind == VIO_GFX && gr.rec.gfx.width <= 4096 && gr.rec.gfx.height <= 4096) {
		struct device *dev = display(kvm);

		if (dev)
			gr.frame_bad = dev->ops->frame_verify(dev, gr.rec.gfx.pattern, gr.rec.gfx.width,
							      gr.rec.gfx.height, gr.rec.gfx.frames);
		display_counters(kvm, &gr.frames_shown, &gr.copied);
		gr.frames_shown -= r->begin_frames;
		gr.copied -= r->begin_copied;
		gfx_latencies(kvm, dev, &gr);
	}
	r->items[r->nr++] = gr;
	pthread_mutex_unlock(&r->lock);
	emit_guest_requests(kvm, &gr);
	return 0;
bad:
	r->rejected++;
	pthread_mutex_unlock(&r->lock);
	pr_warn_ratelimited("guest result record at %#llx rejected (bad address, magic or count)",
			    (unsigned long long)gpa);
	return ret;
}

static cJSON *summary_json(const struct stats_summary *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddNumberToObject(o, "mean", s->mean);
	cJSON_AddNumberToObject(o, "stdev", s->stdev);
	cJSON_AddNumberToObject(o, "min", s->min);
	cJSON_AddNumberToObject(o, "p50", s->p50);
	cJSON_AddNumberToObject(o, "p99", s->p99);
	cJSON_AddNumberToObject(o, "p999", s->p999);
	cJSON_AddNumberToObject(o, "max", s->max);
	return o;
}

/*
 * Adds {"samples": n, "ns": {...}, "cycles": {...}} for v minus `offset`
 * cycles (saturating at 0); returns the mean in ns, or 0.
 */
static double add_distribution(cJSON *parent, const char *name, const uint64_t *v,
			       uint64_t n, uint64_t offset, uint64_t tsc_khz)
{
	struct stats_summary cyc, ns;
	uint64_t *net, i;
	cJSON *o;
	int ret;

	if (!v || !n)
		return 0;
	net = malloc(n * sizeof(*net));
	if (!net)
		return 0;
	for (i = 0; i < n; i++)
		net[i] = v[i] > offset ? v[i] - offset : 0;
	ret = stats__summarize_u64(net, n, 1.0, &cyc);
	if (!ret && tsc_khz)
		ret = stats__summarize_u64(net, n, 1e6 / (double)tsc_khz, &ns);
	free(net);
	if (ret)
		return 0;
	o = cJSON_AddObjectToObject(parent, name);
	cJSON_AddNumberToObject(o, "samples", (double)n);
	if (tsc_khz)
		cJSON_AddItemToObject(o, "ns", summary_json(&ns));
	cJSON_AddItemToObject(o, "cycles", summary_json(&cyc));
	return tsc_khz ? ns.mean : 0;
}

/* --samples: every op's latency in ns, the timer's cost taken off as in
 * per_op, in the guest's completion order. */
static void add_samples(cJSON *o, const uint64_t *v, uint64_t n, uint64_t offset, uint64_t tsc_khz)
{
	cJSON *a;
	uint64_t i;

	if (!v || !n || !tsc_khz)
		return;
	a = cJSON_AddArrayToObject(o, "samples_ns");
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(
			llround((double)(v[i] > offset ? v[i] - offset : 0) * 1e6 / (double)tsc_khz)));
}

static void add_exits(cJSON *rec, const struct guest_result *gr)
{
	const struct observed *d = &gr->during;
	double ops = gr->rec.ops ? (double)gr->rec.ops : 1;
	uint64_t pio = d->pio > d->ctl ? d->pio - d->ctl : 0;
	cJSON *e = cJSON_AddObjectToObject(rec, "exits");
	cJSON *per = cJSON_AddObjectToObject(rec, "exits_per_op");

	/* Results-channel exits are the harness, not the measured path. */
	cJSON_AddNumberToObject(e, "pio", (double)pio);
	cJSON_AddNumberToObject(e, "mmio", (double)d->mmio);
	cJSON_AddNumberToObject(e, "hlt", (double)d->hlt);
	cJSON_AddNumberToObject(e, "raw_loop", (double)d->raw_loop);
	cJSON_AddNumberToObject(e, "results_channel", (double)d->ctl);
	cJSON_AddNumberToObject(e, "ioeventfd_signals", (double)d->ioeventfd);
	cJSON_AddNumberToObject(e, "irqs_injected", (double)d->irqs);
	cJSON_AddNumberToObject(per, "pio", (double)pio / ops);
	cJSON_AddNumberToObject(per, "mmio", (double)d->mmio / ops);
	cJSON_AddNumberToObject(per, "ioeventfd_signals", (double)d->ioeventfd / ops);
	cJSON_AddNumberToObject(per, "irqs_injected", (double)d->irqs / ops);
}

/*
 * perf_event counters per op of the vCPU threads (their task clock
 * includes the guest's own execution) and of the I/O thread; counters the
 * host cannot provide (no PMU in a VM) are listed with the reason.
 */
static void add_threads(struct kvm *kvm, cJSON *rec, const struct guest_result *gr)
{
	const struct observed *d = &gr->during;
	double ops = gr->rec.ops ? (double)gr->rec.ops : 1;
	cJSON *t = cJSON_AddObjectToObject(rec, "threads_per_op");
	cJSON *v = cJSON_AddObjectToObject(t, "vcpu"), *io = cJSON_AddObjectToObject(t, "io");
	cJSON *na = NULL;
	int i;

	for (i = 0; i < PERF_NR; i++) {
		if (d->vcpu_have & (1u << i))
			cJSON_AddNumberToObject(v, perf_counter__name(i), (double)d->vcpu_perf[i] / ops);
		if (d->io_have & (1u << i))
			cJSON_AddNumberToObject(io, perf_counter__name(i), (double)d->io_perf[i] / ops);
		if (!(d->vcpu_have & (1u << i)) && kvm->nr_cpus) {
			if (!na)
				na = cJSON_AddObjectToObject(t, "unavailable");
			cJSON_AddStringToObject(na, perf_counter__name(i),
						strerror(kvm->cpus[0]->perf.err[i]));
		}
	}
}

static const char *const rw_names[] = {
	[VIO_RW_READ] = "read", [VIO_RW_WRITE] = "write",
	[VIO_RW_RANDREAD] = "randread", [VIO_RW_RANDWRITE] = "randwrite",
};

/* Seconds between the record's TSC stamps, 0 when unknown. */
static double record_secs(const struct kvm *kvm, const struct guest_result *gr)
{
	return kvm->tsc_khz && gr->rec.tsc_end > gr->rec.tsc_start ?
	       (double)(gr->rec.tsc_end - gr->rec.tsc_start) / ((double)kvm->tsc_khz * 1e3) : 0;
}

/*
 * CPU per operation of the I/O thread and the vCPU threads (emulated
 * devices run there, with the guest itself): backend_cpu_ns_per_<op>,
 * vcpu_cpu_ns_per_<op>. One source for CPU time: the perf task clock, the
 * thread's CPU clock where perf_event_open is not allowed.
 */
static void add_cpu(cJSON *m, const struct guest_result *gr, const char *op, double ops)
{
	char name[40];

	snprintf(name, sizeof(name), "backend_cpu_ns_per_%s", op);
	metric__add(m, name, "ns", "lower_is_better",
		   (double)(gr->during.io_have & (1u << PERF_TASK_CLOCK) ?
			    gr->during.io_perf[PERF_TASK_CLOCK] : gr->during.evloop_cpu_ns) / ops);
	if (!(gr->during.vcpu_have & (1u << PERF_TASK_CLOCK)))
		return;
	snprintf(name, sizeof(name), "vcpu_cpu_ns_per_%s", op);
	metric__add(m, name, "ns", "lower_is_better",
		   (double)gr->during.vcpu_perf[PERF_TASK_CLOCK] / ops);
}

static const char *disk_device(uint32_t flags)
{
	if (flags & VIO_DISK_USB)
		return flags & VIO_DISK_EMUL ? "xhci" : "virtio-usbip";
	return flags & VIO_DISK_EMUL ? "ahci" : "virtio-blk";
}

/* A disk record: throughput, per-I/O costs, and the verify result checked
 * from the host side too. */
static void add_disk(struct kvm *kvm, cJSON *o, const struct guest_result *gr)
{
	const struct vio_disk *d = &gr->rec.disk;
	double secs = record_secs(kvm, gr);
	double ios = gr->rec.ops ? (double)gr->rec.ops : 1;
	cJSON *m = cJSON_AddArrayToObject(o, "metrics");

	cJSON_AddStringToObject(o, "rw", NAME_OR(rw_names, d->rw, "?"));
	cJSON_AddNumberToObject(o, "block_size", d->block_size);
	cJSON_AddNumberToObject(o, "iodepth", d->iodepth);
	cJSON_AddStringToObject(o, "device", disk_device(d->flags));
	if ((d->flags & (VIO_DISK_EMUL | VIO_DISK_USB)) == VIO_DISK_EMUL)
		cJSON_AddBoolToObject(o, "ncq", d->flags & VIO_DISK_NCQ);
	cJSON_AddNumberToObject(o, "capacity_bytes", (double)d->capacity);
	if (gr->anchored) {
		/* How well guest times map onto the host clock (request probes). */
		cJSON *c = cJSON_AddObjectToObject(o, "guest_clock");

		cJSON_AddNumberToObject(c, "anchor_error_ns",
					(double)(gr->a0.err_ns > gr->a1.err_ns ? gr->a0.err_ns : gr->a1.err_ns));
		cJSON_AddNumberToObject(c, "tsc_khz_measured",
					(double)(gr->a1.tsc - gr->a0.tsc) * 1e6 /
					(double)(gr->a1.host_ns - gr->a0.host_ns));
		cJSON_AddBoolToObject(c, "per_io_times", gr->submitted != NULL);
	}
	if (secs > 0) {
		metric__add(m, "iops", "IO/s", "higher_is_better", ios / secs);
		metric__add(m, "throughput_mib_s", "MiB/s", "higher_is_better",
			   (double)d->bytes / secs / (1 << 20));
	}
	metric__add(m, "interrupts_per_io", "count", "lower_is_better", (double)d->interrupts / ios);
	add_cpu(m, gr, "io", ios);
	metric__add(m, "io_errors", "count", "lower_is_better", d->errors);
	if (d->verify_blocks) {
		cJSON_AddNumberToObject(o, "verify_blocks", (double)d->verify_blocks);
		metric__add(m, "verify_mismatches_guest", "blocks", "lower_is_better",
			   (double)d->verify_mismatches);
		metric__add(m, "verify_mismatches_host", "blocks", "lower_is_better",
			   (double)gr->host_verify_bad);
	}
}

/* A gfx record: frames drawn and shown, dirty pages and copy time per
 * frame, and the last frame checked pixel by pixel from the host side. */
static void add_gfx(struct kvm *kvm, cJSON *o, const struct guest_result *gr)
{
	const struct vio_gfx *g = &gr->rec.gfx;
	double secs = record_secs(kvm, gr), frames = g->frames ? (double)g->frames : 1;
	cJSON *m = cJSON_AddArrayToObject(o, "metrics");

	cJSON_AddStringToObject(o, "device", g->flags & VIO_GFX_EMUL ? "bochs-display"
					   : g->flags & VIO_GFX_VIRGL ? "virtio-gpu-virgl" : "virtio-gpu");
	cJSON_AddStringToObject(o, "pattern", g->pattern == VIO_GFX_FULL ? "full" : "rects");
	cJSON_AddNumberToObject(o, "width", g->width);
	cJSON_AddNumberToObject(o, "height", g->height);
	if (secs > 0) {
		metric__add(m, "frames_per_s", "frames/s", "higher_is_better", frames / secs);
		/* What a user sees: whole frames the host side had, per second
		 * (bochs-display shows at most one a refresh; drawn over before
		 * then, a frame is never seen). */
		metric__add(m, "frames_seen_per_s", "frames/s", "higher_is_better",
			    (double)gr->frames_seen / secs);
	}
	/* Shown: the display refreshes that found changes (60 Hz at most),
	 * or the flushes of the scanout. */
	metric__add(m, "frames_shown", "count", "higher_is_better", (double)gr->frames_shown);
	if (g->flags & VIO_GFX_EMUL)
		metric__add(m, "dirty_pages_per_frame_shown", "pages", "lower_is_better",
			    gr->frames_shown ? (double)gr->copied / (double)gr->frames_shown : 0);
	else if (!(g->flags & VIO_GFX_VIRGL))
		metric__add(m, "transfer_bytes_per_frame", "bytes", "lower_is_better",
			    (double)gr->copied / frames);
	add_cpu(m, gr, "frame", frames);
	metric__add(m, "frames_timed", "count", "higher_is_better", (double)gr->frames_timed);
	metric__add(m, "frame_mismatches", "pixels", "lower_is_better", (double)gr->frame_bad);
}

/* A hid record: events delivered, their latency (the per_op distribution),
 * what was lost, interrupts per event. */
static void add_hid(cJSON *o, const struct guest_result *gr)
{
	const struct vio_hid *h = &gr->rec.hid;
	double events = h->received ? (double)h->received : 1;
	cJSON *m = cJSON_AddArrayToObject(o, "metrics");

	cJSON_AddStringToObject(o, "device", h->flags & VIO_HID_EMUL ? "xhci" : "virtio-usbip");
	cJSON_AddNumberToObject(o, "interval_us", h->interval_us);
	cJSON_AddBoolToObject(o, "hid_clock", gr->hid_common_clock);
	cJSON_AddItemToObject(o, "hid", cJSON_CreateObject());
	cJSON_AddNumberToObject(cJSON_GetObjectItem(o, "hid"), "lost", (double)h->lost);
	metric__add(m, "events_received", "count", "higher_is_better", (double)h->received);
	metric__add(m, "events_lost", "count", "lower_is_better", (double)h->lost);
	metric__add(m, "interrupts_per_event", "count", "lower_is_better",
		    (double)h->interrupts / events);
	metric__add(m, "hid_clamped", "count", "lower_is_better", (double)gr->hid_clamped);
	add_cpu(m, gr, "event", events);
}

static const char *const net_mode_names[] = {
	[VIO_NET_TX] = "tx", [VIO_NET_RX] = "rx", [VIO_NET_PINGPONG] = "pingpong",
};

/*
 * A net record: frames per second and Gbit/s (tx, rx) or round trips
 * (pingpong: the per_op distribution is the round trip), the costs per
 * frame, and the drops on each side: the guest's sequence gaps and bad
 * frames, the NIC model's own (no room in the guest, backend refused).
 */
static void add_net(struct kvm *kvm, cJSON *o, const struct guest_result *gr)
{
	const struct vio_net *n = &gr->rec.net;
	bool emul = n->flags & VIO_NET_EMUL;
	double secs = record_secs(kvm, gr);
	double frames = gr->rec.ops ? (double)gr->rec.ops : 1;
	struct device *dev = device__find(kvm, emul ? "e1000" : "virtio-net");
	cJSON *m = cJSON_AddArrayToObject(o, "metrics");

	cJSON_AddStringToObject(o, "mode", NAME_OR(net_mode_names, n->mode, "?"));
	cJSON_AddNumberToObject(o, "frame_size", n->size);
	cJSON_AddStringToObject(o, "device", emul ? "e1000" : "virtio-net");
	cJSON_AddBoolToObject(o, "verify", n->verify);
	cJSON_AddNumberToObject(o, "sent", (double)n->sent);
	cJSON_AddNumberToObject(o, "received", (double)n->received);
	cJSON_AddNumberToObject(o, "other_frames", (double)n->other);
	if (secs > 0 && n->mode == VIO_NET_PINGPONG) {
		metric__add(m, "round_trips_per_s", "1/s", "higher_is_better", frames / secs);
	} else if (secs > 0) {
		metric__add(m, "frames_per_s", "frames/s", "higher_is_better", frames / secs);
		metric__add(m, "throughput_gbit_s", "Gbit/s", "higher_is_better",
			   frames * n->size * 8 / secs / 1e9);
	}
	metric__add(m, "interrupts_per_frame", "count", "lower_is_better",
		   (double)n->interrupts / frames);
	add_cpu(m, gr, "frame", frames);
	metric__add(m, "frames_lost", "frames", "lower_is_better", (double)n->lost);
	metric__add(m, "frames_bad", "frames", "lower_is_better", (double)n->bad);
	metric__add(m, "frames_reordered", "frames", "lower_is_better", (double)n->reordered);
	if (dev)
		metric__add(m, "nic_drops", "frames", "lower_is_better",
			   (double)(metrics__value(&dev->metrics, "tx_dropped") +
				    metrics__value(&dev->metrics, "rx_dropped")));
}

cJSON *results__to_json(struct kvm *kvm)
{
	struct results *r = kvm->results;
	cJSON *arr = cJSON_CreateArray();
	unsigned int i;

	for (i = 0; i < r->nr; i++) {
		const struct guest_result *gr = &r->items[i];
		const struct vio_result *rec = &gr->rec;
		cJSON *o = cJSON_CreateObject();
		double mean, raw_mean;

		cJSON_AddStringToObject(o, "kind", NAME_OR(kind_names, rec->kind, "unknown"));
		cJSON_AddStringToObject(o, "status", NAME_OR(status_names, rec->status, "error"));
		cJSON_AddNumberToObject(o, "ops", (double)rec->ops);
		cJSON_AddStringToObject(o, "space", NAME_OR(space_names, rec->space, "?"));
		cJSON_AddStringToObject(o, "irq_mode", NAME_OR(irq_mode_names, rec->irq_mode, "?"));
		if (rec->kind == VIO_MICRO_IRQ)
			cJSON_AddStringToObject(o, "via", rec->via == VIO_VIA_VCPU ? "vcpu" : "evloop");
		cJSON_AddStringToObject(o, "metric", "latency_per_op");
		cJSON_AddStringToObject(o, "unit", "ns");
		cJSON_AddStringToObject(o, "direction", "lower_is_better");
		if (kvm->tsc_khz && rec->tsc_end > rec->tsc_start && rec->ops)
			cJSON_AddNumberToObject(o, "wall_ns_per_op",
						(double)(rec->tsc_end - rec->tsc_start) * 1e6 /
						(double)kvm->tsc_khz / (double)rec->ops);
		struct stats_summary timer = { 0 };

		/* The median cost of an empty timed op is taken off every sample. */
		if (gr->timer)
			stats__summarize_u64(gr->timer, rec->timer.count, 1.0, &timer);
		cJSON_AddNumberToObject(o, "timer_overhead_cycles", timer.p50);
		mean = add_distribution(o, "per_op", gr->measured, rec->measured.count,
					(uint64_t)timer.p50, kvm->tsc_khz);
		raw_mean = add_distribution(o, "raw_baseline", gr->raw, rec->raw.count,
					    (uint64_t)timer.p50, kvm->tsc_khz);
		add_distribution(o, "per_op_gross", gr->measured, rec->measured.count, 0,
				 kvm->tsc_khz);
		if (kvm->cfg.samples)
			add_samples(o, gr->measured, rec->measured.count, (uint64_t)timer.p50,
				    kvm->tsc_khz);
		add_distribution(o, "timer_overhead", gr->timer, rec->timer.count, 0,
				 kvm->tsc_khz);
		if (mean > 0 && raw_mean > 0)
			cJSON_AddNumberToObject(o, "overhead_vs_raw_pct",
						(mean / raw_mean - 1.0) * 100.0);
		add_exits(o, gr);
		add_threads(kvm, o, gr);
		if (rec->kind == VIO_DISK)
			add_disk(kvm, o, gr);
		else if (rec->kind == VIO_NET)
			add_net(kvm, o, gr);
		else if (rec->kind == VIO_HID)
			add_hid(o, gr);
		else if (rec->kind == VIO_GFX)
			add_gfx(kvm, o, gr);
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

void results__print(cJSON *records, FILE *f)
{
	const cJSON *r;

	cJSON_ArrayForEach(r, records) {
		const char *kind = cJSON_GetStringValue(cJSON_GetObjectItem(r, "kind"));
		const char *status = cJSON_GetStringValue(cJSON_GetObjectItem(r, "status"));

		if (!strcmp(kind, "disk")) {
			const cJSON *mt;

			fprintf(f, "disk  %-9s bs %-6.0f qd %-2.0f %7.0f I/Os  p50 %8.2f us  p99 %8.2f us",
				cJSON_GetStringValue(cJSON_GetObjectItem(r, "rw")),
				json__num(r, NAN, "block_size", NULL, NULL), json__num(r, NAN, "iodepth", NULL, NULL),
				json__num(r, NAN, "ops", NULL, NULL), json__num(r, NAN, "per_op", "ns", "p50") / 1e3,
				json__num(r, NAN, "per_op", "ns", "p99") / 1e3);
			cJSON_ArrayForEach(mt, cJSON_GetObjectItem(r, "metrics")) {
				const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(mt, "name"));

				if (!strcmp(n, "iops"))
					fprintf(f, "  %8.0f IOPS", json__num(mt, NAN, "value", NULL, NULL));
				if (!strncmp(n, "verify_mismatches", 17))
					fprintf(f, "  %s %.0f", n + 18, json__num(mt, NAN, "value", NULL, NULL));
			}
			fprintf(f, "  exits/io pio %.2f mmio %.2f kicks %.2f irqs %.2f%s\n",
				json__num(r, NAN, "exits_per_op", "pio", NULL), json__num(r, NAN, "exits_per_op", "mmio", NULL),
				json__num(r, NAN, "exits_per_op", "ioeventfd_signals", NULL),
				json__num(r, NAN, "exits_per_op", "irqs_injected", NULL),
				strcmp(status, "ok") ? "  [failed]" : "");
			continue;
		}
		if (!strcmp(kind, "gfx")) {
			const cJSON *mt;

			fprintf(f, "gfx   %-16s %-5s %4.0fx%-4.0f %6.0f frames",
				cJSON_GetStringValue(cJSON_GetObjectItem(r, "device")),
				cJSON_GetStringValue(cJSON_GetObjectItem(r, "pattern")),
				json__num(r, NAN, "width", NULL, NULL), json__num(r, NAN, "height", NULL, NULL),
				json__num(r, NAN, "ops", NULL, NULL));
			cJSON_ArrayForEach(mt, cJSON_GetObjectItem(r, "metrics")) {
				const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(mt, "name"));
				double v = json__num(mt, NAN, "value", NULL, NULL);

				if (!strcmp(n, "frames_per_s"))
					fprintf(f, "  %8.1f frames/s drawn", v);
				else if (!strcmp(n, "frames_seen_per_s"))
					fprintf(f, "  %6.1f seen", v);
				else if (!strcmp(n, "frames_shown") || !strcmp(n, "frame_mismatches"))
					fprintf(f, "  %s %.0f", n, v);
				else if (!strcmp(n, "dirty_pages_per_frame_shown"))
					fprintf(f, "  dirty pages/frame %.1f", v);
				else if (!strcmp(n, "transfer_bytes_per_frame"))
					fprintf(f, "  transferred KiB/frame %.1f", v / 1024);
			}
			fprintf(f, "  update p50 %.2f ms p99 %.2f ms",
				json__num(r, NAN, "per_op", "ns", "p50") / 1e6,
				json__num(r, NAN, "per_op", "ns", "p99") / 1e6);
			fprintf(f, "%s\n", strcmp(status, "ok") ? "  [failed]" : "");
			continue;
		}
		if (!strcmp(kind, "hid")) {
			fprintf(f, "hid   %-12s %7.0f events  lost %.0f  latency p50 %8.2f us  p99 %8.2f us"
				"  exits/event mmio %.2f kicks %.2f irqs %.2f\n",
				cJSON_GetStringValue(cJSON_GetObjectItem(r, "device")),
				json__num(r, NAN, "ops", NULL, NULL),
				json__num(r, NAN, "hid", "lost", NULL),
				json__num(r, NAN, "per_op", "ns", "p50") / 1e3,
				json__num(r, NAN, "per_op", "ns", "p99") / 1e3,
				json__num(r, NAN, "exits_per_op", "mmio", NULL),
				json__num(r, NAN, "exits_per_op", "ioeventfd_signals", NULL),
				json__num(r, NAN, "exits_per_op", "irqs_injected", NULL));
			continue;
		}
		if (!strcmp(kind, "net")) {
			const cJSON *mt;

			fprintf(f, "net   %-8s %-10s %4.0f B %7.0f frames  sent %.0f received %.0f",
				cJSON_GetStringValue(cJSON_GetObjectItem(r, "mode")),
				cJSON_GetStringValue(cJSON_GetObjectItem(r, "device")),
				json__num(r, NAN, "frame_size", NULL, NULL), json__num(r, NAN, "ops", NULL, NULL),
				json__num(r, NAN, "sent", NULL, NULL), json__num(r, NAN, "received", NULL, NULL));
			cJSON_ArrayForEach(mt, cJSON_GetObjectItem(r, "metrics")) {
				const char *n = cJSON_GetStringValue(cJSON_GetObjectItem(mt, "name"));
				double v = json__num(mt, NAN, "value", NULL, NULL);

				if (!strcmp(n, "frames_per_s"))
					fprintf(f, "  %8.0f frames/s", v);
				else if (!strcmp(n, "throughput_gbit_s"))
					fprintf(f, "  %.3f Gbit/s", v);
				else if (!strcmp(n, "frames_lost") || !strcmp(n, "frames_bad"))
					fprintf(f, "  %s %.0f", n + 7, v);
			}
			if (!strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(r, "mode")), "pingpong"))
				fprintf(f, "  rtt p50 %.2f us p99 %.2f us",
					json__num(r, NAN, "per_op", "ns", "p50") / 1e3,
					json__num(r, NAN, "per_op", "ns", "p99") / 1e3);
			fprintf(f, "  exits/frame pio %.2f mmio %.2f kicks %.2f irqs %.2f%s\n",
				json__num(r, NAN, "exits_per_op", "pio", NULL), json__num(r, NAN, "exits_per_op", "mmio", NULL),
				json__num(r, NAN, "exits_per_op", "ioeventfd_signals", NULL),
				json__num(r, NAN, "exits_per_op", "irqs_injected", NULL),
				strcmp(status, "ok") ? "  [failed]" : "");
			continue;
		}
		const char *space = cJSON_GetStringValue(cJSON_GetObjectItem(r, "space"));
		double raw = json__num(r, NAN, "raw_baseline", "ns", "p50");
		char label[32];

		/* The doorbell kinds can target either space: say which. */
		if (!strcmp(kind, "irq"))
			snprintf(label, sizeof(label), "%s/%s/%s", kind, space,
				 cJSON_GetStringValue(cJSON_GetObjectItem(r, "via")));
		else if (!strcmp(kind, "ioeventfd"))
			snprintf(label, sizeof(label), "%s/%s", kind, space);
		else
			snprintf(label, sizeof(label), "%s", kind);
		fprintf(f, "micro %-14s %7.0f ops  p50 %8.2f us  p99 %8.2f us  mean %8.2f us",
			label, json__num(r, NAN, "ops", NULL, NULL),
			json__num(r, NAN, "per_op", "ns", "p50") / 1e3, json__num(r, NAN, "per_op", "ns", "p99") / 1e3,
			json__num(r, NAN, "per_op", "ns", "mean") / 1e3);
		if (!isnan(raw))
			fprintf(f, "  raw p50 %8.2f us (mean %+.1f%%)", raw / 1e3,
				json__num(r, NAN, "overhead_vs_raw_pct", NULL, NULL));
		fprintf(f, "  timer %.2f us", json__num(r, NAN, "timer_overhead", "ns", "p50") / 1e3);
		if (strcmp(status, "ok"))
			fprintf(f, "  [%s]", status);
		fputc('\n', f);
	}
}

/*
 * The request collector (see reqs.h). Run-time choices, each reported:
 * the ring buffer when the kernel has one (5.8+), else a perf buffer per
 * CPU; the io_uring completion tracepoint when the kernel has it.
 */
#include "collectors/reqs.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collectors/bpf_util.h"
#include "reqs.skel.h"

#define TP_DIR "/sys/kernel/tracing/events/"
#define PERF_PAGES	256	/* per CPU: 1 MiB, 26,000 events */

struct req_collector {
	struct reqs_bpf *skel;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	req_event_fn fn;
	void *ctx;
	int polled;
	int stats_fd;		/* BPF run-time stats stay on while it is open */
	uint64_t lost;		/* perf buffer: samples the kernel could not write */
	char kernel[192];	/* the kernel-side events attached, or why not */
};

static int on_ring(void *ctx, void *data, size_t size)
{
	struct req_collector *c = ctx;

	if (size >= sizeof(struct req_event)) {
		c->fn(c->ctx, data);
		c->polled++;
	}
	return 0;
}

/* A raw perf record: a sample (u32 size, then the event) or a loss count. */
static enum bpf_perf_event_ret on_perf(void *ctx, int cpu, struct perf_event_header *h)
{
	struct req_collector *c = ctx;

	(void)cpu;
	if (h->type == PERF_RECORD_SAMPLE) {
		struct { struct perf_event_header h; __u32 size; char data[]; } *s = (void *)h;

		on_ring(c, s->data, s->size);
	} else if (h->type == PERF_RECORD_LOST) {
		struct { struct perf_event_header h; __u64 id, lost; } *l = (void *)h;

		c->lost += l->lost;
	}
	return LIBBPF_PERF_EVENT_CONT;
}

/*
 * One perf buffer per CPU. libbpf's default wakes the reader on every
 * sample, which costs the probe a wake-up each time; the reader drains on
 * a timer anyway, so only a nearly full buffer wakes it.
 */
static struct perf_buffer *perf_buffer_open(struct req_collector *c, int map_fd)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.watermark = 1,
		.wakeup_watermark = PERF_PAGES * 4096 / 2,
		.size = sizeof(attr),
	};

	return perf_buffer__new_raw(map_fd, PERF_PAGES, &attr, on_perf, c, NULL);
}

/* The kernel's side of a backend I/O: optional, each one said in the output. */
struct kernel_tp {
	const char *name;	/* group/event under tracefs */
	struct bpf_program *prog;
	struct bpf_link **link;
};

static unsigned int kernel_tps(struct req_collector *c, struct kernel_tp *t)
{
	t[0] = (struct kernel_tp){ "io_uring/io_uring_complete", c->skel->progs.uring_complete,
				   &c->skel->links.uring_complete };
	t[1] = (struct kernel_tp){ "block/block_rq_issue", c->skel->progs.blk_issue,
				   &c->skel->links.blk_issue };
	t[2] = (struct kernel_tp){ "block/block_rq_complete", c->skel->progs.blk_complete,
				   &c->skel->links.blk_complete };
	return 3;
}

/* Before loading: tracepoints this kernel lacks are not loaded at all. */
static void probe_kernel(struct req_collector *c)
{
	struct kernel_tp t[3];
	unsigned int i, n = kernel_tps(c, t);
	char path[128];

	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), TP_DIR "%s", t[i].name);
		if (access(path, F_OK))
			bpf_program__set_autoload(t[i].prog, false);
	}
}

static int attach_kernel(struct req_collector *c)
{
	struct kernel_tp t[3];
	unsigned int i, n = kernel_tps(c, t);
	size_t len = 0;

	for (i = 0; i < n; i++) {
		const char *state = NULL;

		if (!bpf_program__autoload(t[i].prog))
			state = "not in this kernel";
		else if (!(*t[i].link = bpf_program__attach(t[i].prog)))
			state = strerror(errno);
		len += (size_t)snprintf(c->kernel + len, sizeof(c->kernel) - len, "%s%s%s%s",
					len ? ", " : "", strchr(t[i].name, '/') + 1,
					state ? ": " : "", state ? state : "");
		if (len >= sizeof(c->kernel))
			break;
	}
	return 0;
}

static const char *const usdt_names[] = {
	"req_pickup", "req_submit", "req_backend_done", "req_done", "req_guest",
};

static int attach(struct req_collector *c, const struct req_collector_opts *o, char *why,
		  size_t why_len)
{
	struct bpf_link **links[] = {
		&c->skel->links.req_pickup, &c->skel->links.req_submit,
		&c->skel->links.req_backend_done, &c->skel->links.req_done,
		&c->skel->links.req_guest,
	};
	struct bpf_program *progs[] = {
		c->skel->progs.req_pickup, c->skel->progs.req_submit,
		c->skel->progs.req_backend_done, c->skel->progs.req_done,
		c->skel->progs.req_guest,
	};
	unsigned int i;
	int ret;

	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		*links[i] = bpf_program__attach_usdt(progs[i], o->pid, o->binary, "vioscope",
						     usdt_names[i], NULL);
		if (!*links[i]) {
			ret = -errno;
			snprintf(why, why_len, "cannot attach to vioscope:%s in %s: %s%s",
				 usdt_names[i], o->binary, strerror(-ret),
				 ret == -ENOENT ? " (not a vioscope-vmm with request probes)" : "");
			return ret;
		}
	}
	return attach_kernel(c);
}

int req_collector__open(struct req_collector **out, const struct req_collector_opts *o,
			req_event_fn fn, void *ctx, char *why, size_t why_len)
{
	struct req_collector *c;
	bool ring;
	int ret;

	ret = bpf_util__prepare(why, why_len);
	if (ret)
		return ret;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->ctx = ctx;
	c->stats_fd = -1;
	c->skel = reqs_bpf__open();
	if (!c->skel) {
		ret = -errno;
		snprintf(why, why_len, "cannot open the BPF object: %s", strerror(-ret));
		goto fail;
	}
	ring = !o->perf_buffer && libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL) == 1;
	if (!ring) {
		/* One buffer per CPU, sized by perf_buffer__new below. */
		bpf_map__set_type(c->skel->maps.events, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
		bpf_map__set_key_size(c->skel->maps.events, sizeof(__u32));
		bpf_map__set_value_size(c->skel->maps.events, sizeof(__u32));
		bpf_map__set_max_entries(c->skel->maps.events, 0);
	}
	c->skel->rodata->use_ringbuf = ring;
	c->skel->rodata->targ_tgid = (__u32)o->pid;
	probe_kernel(c);
	ret = reqs_bpf__load(c->skel);
	if (ret) {
		snprintf(why, why_len, "cannot load the BPF programs: %s%s", strerror(-ret),
			 ret == -EPERM ? " (needs root or CAP_BPF + CAP_PERFMON)" : "");
		goto fail;
	}
	ret = attach(c, o, why, why_len);
	if (ret)
		goto fail;
	if (ring)
		c->rb = ring_buffer__new(bpf_map__fd(c->skel->maps.events), on_ring, c, NULL);
	else
		c->pb = perf_buffer_open(c, bpf_map__fd(c->skel->maps.events));
	if (!c->rb && !c->pb) {
		ret = -errno;
		snprintf(why, why_len, "cannot map the %s: %s", ring ? "ring buffer" : "perf buffer",
			 strerror(-ret));
		goto fail;
	}
	c->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	*out = c;
	return 0;
fail:
	reqs_bpf__destroy(c->skel);
	free(c);
	return ret;
}

int req_collector__poll(struct req_collector *c)
{
	c->polled = 0;
	if (c->rb)
		ring_buffer__consume(c->rb);
	else
		perf_buffer__consume(c->pb);
	return c->polled;
}

const char *req_collector__transport(const struct req_collector *c)
{
	return c->rb ? "ring buffer" : "perf buffer";
}

const char *req_collector__kernel_events(const struct req_collector *c)
{
	return c->kernel;
}

void req_collector__counters(const struct req_collector *c, uint64_t *events, uint64_t *drops)
{
	int ncpus = libbpf_num_possible_cpus(), cpu;
	int fd = bpf_map__fd(c->skel->maps.counters);
	__u32 i;

	*events = 0;
	*drops = c->lost;
	if (ncpus <= 0 || ncpus > 4096)
		return;
	for (i = 0; i < REQ_C_NR; i++) {
		__u64 percpu[ncpus];

		if (bpf_map_lookup_elem(fd, &i, percpu))
			continue;
		for (cpu = 0; cpu < ncpus; cpu++)
			*(i == REQ_C_EVENTS ? events : drops) += percpu[cpu];
	}
}

void req_collector__cost(const struct req_collector *c, uint64_t *runs, uint64_t *ns)
{
	*runs = *ns = 0;
	if (c->stats_fd >= 0)
		bpf_util__cost(c->skel->obj, runs, ns);
}

void req_collector__dev_name(const struct req_collector *c, unsigned int dev, char *buf,
			     size_t len)
{
	struct req_dev_name n = { { 0 } };
	__u32 key = dev;

	if (dev >= REQ_MAX_DEVS ||
	    bpf_map_lookup_elem(bpf_map__fd(c->skel->maps.dev_names), &key, &n))
		n.name[0] = 0;
	n.name[sizeof(n.name) - 1] = 0;
	snprintf(buf, len, "%s", n.name);
}

void req_collector__close(struct req_collector *c)
{
	if (!c)
		return;
	ring_buffer__free(c->rb);
	perf_buffer__free(c->pb);
	reqs_bpf__destroy(c->skel);
	if (c->stats_fd >= 0)
		close(c->stats_fd);
	free(c);
}

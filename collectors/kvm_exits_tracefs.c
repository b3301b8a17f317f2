/*
 * The tracefs back end of the exit collector, for hosts where BPF is not
 * allowed: the same kvm tracepoints, enabled in a private tracefs instance
 * (libtracefs) with the monotonic trace clock and filtered to the target's
 * threads (set_event_pid + event-fork), read from the per-CPU raw buffers
 * and decoded with libtraceevent, then fed to the same state machine as the
 * BPF program (probes/kvm_exits_logic.h). Events are processed when a
 * snapshot is taken; what the ring buffer dropped is counted (KX_C_LOST).
 */
#include "collectors/kvm_exits_backend.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tracefs/tracefs.h>
#include <traceevent/event-parse.h>
#include <unistd.h>

#include "probes/kvm_exits_logic.h"

enum tp { TP_EXIT, TP_ENTRY, TP_USER_EXIT, TP_FPU, TP_PIO, TP_MMIO, TP_MSI, TP_SET_IRQ, TP_NR };

static const struct {
	const char *name;
	const char *fields[3];
} tps[TP_NR] = {
	[TP_EXIT] = { "kvm_exit", { "exit_reason", "isa" } },
	[TP_ENTRY] = { "kvm_entry", { NULL } },
	[TP_USER_EXIT] = { "kvm_userspace_exit", { "reason", "errno" } },
	[TP_FPU] = { "kvm_fpu", { "load" } },
	[TP_PIO] = { "kvm_pio", { "port", "rw" } },
	[TP_MMIO] = { "kvm_mmio", { "type", "gpa" } },
	[TP_MSI] = { "kvm_msi_set_irq", { NULL } },
	[TP_SET_IRQ] = { "kvm_set_irq", { NULL } },
};

struct tr_thread {
	int tid;
	struct kx_thread t;
};

struct kx_tracefs {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	int id[TP_NR];				/* event ids; -1 when absent */
	struct tep_format_field *field[TP_NR][3];
	struct tr_thread threads[KX_MAX_THREADS];
	int nr_threads;
	struct kx_snapshot tables;		/* cumulative, as the BPF maps */
};

static struct kx_thread *thread_get(struct kx_tracefs *c, int tid)
{
	int i;

	for (i = 0; i < c->nr_threads; i++)
		if (c->threads[i].tid == tid)
			return &c->threads[i].t;
	if (c->nr_threads == KX_MAX_THREADS) {
		c->tables.counters[KX_C_DROP_THREAD]++;
		return NULL;
	}
	c->threads[c->nr_threads] = (struct tr_thread){ .tid = tid };
	return &c->threads[c->nr_threads++].t;
}

/* Carries out what the state machine asked for, as record() in the BPF program. */
static void apply(struct kx_tracefs *c, const struct kx_out *o)
{
	struct kx_snapshot *s = &c->tables;
	size_t i;

	if (o->timed) {
		for (i = 0; i < s->nr_reasons; i++)
			if (!memcmp(&s->reasons[i].key, &o->key, sizeof(o->key)))
				break;
		if (i == s->nr_reasons && i < KX_MAX_REASONS) {
			s->reasons[i].key = o->key;
			hist__init(&s->reasons[i].h);
			s->nr_reasons++;
		}
		if (i < s->nr_reasons)
			hist__record(&s->reasons[i].h, o->ns);
		else
			s->counters[KX_C_DROP_REASON]++;
	}
	if (!o->addr_event && !o->addr_timed)
		return;
	for (i = 0; i < s->nr_addrs; i++)
		if (!memcmp(&s->addrs[i].key, &o->addr, sizeof(o->addr)))
			break;
	if (i == s->nr_addrs && i < KX_MAX_ADDRS) {
		s->addrs[i].key = o->addr;
		hist__init(&s->addrs[i].user);
		s->nr_addrs++;
	}
	if (i == s->nr_addrs) {
		s->counters[KX_C_DROP_ADDR]++;
		return;
	}
	if (o->addr_event)
		s->addrs[i].events++;
	if (o->addr_timed)
		hist__record(&s->addrs[i].user, o->addr_ns);
}

static unsigned long long field(struct kx_tracefs *c, int tp, int f, struct tep_record *rec)
{
	unsigned long long v = 0;

	if (c->field[tp][f])
		tep_read_number_field(c->field[tp][f], rec->data, &v);
	return v;
}

static int on_event(struct tep_event *ev, struct tep_record *rec, int cpu, void *arg)
{
	struct kx_tracefs *c = arg;
	struct kx_out o = { 0 };
	struct kx_thread *t;
	int tp;

	(void)cpu;
	if (rec->missed_events > 0)
		c->tables.counters[KX_C_LOST] += (uint64_t)rec->missed_events;
	for (tp = 0; tp < TP_NR && c->id[tp] != ev->id; tp++)
		;
	if (tp == TP_NR)
		return 0;
	if (tp == TP_MSI || tp == TP_SET_IRQ) {
		c->tables.counters[tp == TP_MSI ? KX_C_MSI : KX_C_SET_IRQ]++;
		return 0;
	}
	if (tp == TP_EXIT)
		c->tables.counters[KX_C_KVM_EXIT]++;
	if (tp == TP_USER_EXIT)
		c->tables.counters[KX_C_USER_EXIT]++;
	t = thread_get(c, tep_data_pid(c->tep, rec));
	if (!t)
		return 0;
	switch (tp) {
	case TP_EXIT:
		kx_on_exit(t, rec->ts, (__u32)field(c, tp, 0, rec), (__u32)field(c, tp, 1, rec));
		break;
	case TP_ENTRY:
		kx_on_entry(t, rec->ts, &o);
		break;
	case TP_USER_EXIT:
		kx_on_userspace_exit(t, rec->ts, (int)field(c, tp, 1, rec),
				     (__u32)field(c, tp, 0, rec), &o);
		break;
	case TP_FPU:
		if (field(c, tp, 0, rec))
			kx_on_fpu_load(t, rec->ts, &o);
		break;
	case TP_PIO:
		kx_on_pio(t, (__u32)field(c, tp, 0, rec), (__u32)field(c, tp, 1, rec), &o);
		break;
	case TP_MMIO:
		kx_on_mmio(t, (__u32)field(c, tp, 0, rec), field(c, tp, 1, rec), &o);
		break;
	}
	apply(c, &o);
	return 0;
}

/* The target's threads now, and (event-fork) the ones it creates later. */
static int filter_pid(struct kx_tracefs *c, pid_t pid)
{
	char path[64], buf[4096] = "";
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -errno;
	while ((d = readdir(dir)) && n < sizeof(buf) - 16)
		if (d->d_name[0] != '.')
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s ", d->d_name);
	closedir(dir);
	if (tracefs_option_enable(c->inst, TRACEFS_OPTION_EVENT_FORK) ||
	    tracefs_instance_file_write(c->inst, "set_event_pid", buf) < 0)
		return -EIO;
	return 0;
}

/*
 * A collector killed with -9 leaves its instance tracing: remove those of
 * processes that are gone (instances are named vioscope-PID).
 */
static void remove_stale_instances(void)
{
	DIR *dir = opendir("/sys/kernel/tracing/instances");
	struct dirent *d;
	int pid;

	if (!dir)
		return;
	while ((d = readdir(dir)))
		if (sscanf(d->d_name, "vioscope-%d", &pid) == 1 && pid > 0 &&
		    kill(pid, 0) && errno == ESRCH) {
			struct tracefs_instance *inst = tracefs_instance_alloc(NULL, d->d_name);

			if (inst) {
				tracefs_instance_destroy(inst);
				tracefs_instance_free(inst);
			}
		}
	closedir(dir);
}

static void tracefs_close(void *priv)
{
	struct kx_tracefs *c = priv;

	if (c->inst) {
		tracefs_trace_off(c->inst);
		tracefs_event_disable(c->inst, "kvm", NULL);
		tracefs_instance_destroy(c->inst);
		tracefs_instance_free(c->inst);
	}
	if (c->tep)
		tep_free(c->tep);
	kx_snapshot__free(&c->tables);
	free(c);
}

static int tracefs_open(void **priv, pid_t pid, const char *mode, char *why, size_t why_len)
{
	(void)mode;	/* BPF only */
	const char *systems[] = { "kvm", NULL };
	struct kx_tracefs *c;
	char name[48];
	int i, ret;

	ret = kx__need_tracefs(why, why_len);
	if (ret)
		return ret;
	remove_stale_instances();
	c = calloc(1, sizeof(*c));
	if (!c || kx_snapshot__alloc(&c->tables)) {
		free(c);
		return -ENOMEM;
	}
	snprintf(name, sizeof(name), "vioscope-%d", (int)getpid());
	c->inst = tracefs_instance_create(name);
	c->tep = tracefs_local_events_system(NULL, systems);
	if (!c->inst || !c->tep) {
		ret = -errno ? -errno : -EIO;
		snprintf(why, why_len, "cannot create a tracefs instance or read the kvm event "
			 "formats: %s", strerror(-ret));
		goto fail;
	}
	/* Durations only need one clock; mono matches the BPF back end's. */
	tracefs_instance_file_write(c->inst, "trace_clock", "mono");
	tracefs_instance_file_write(c->inst, "buffer_size_kb", "8192");
	if (pid && (ret = filter_pid(c, pid))) {
		snprintf(why, why_len, "cannot filter on pid %d: %s", (int)pid, strerror(-ret));
		goto fail;
	}
	for (i = 0; i < TP_NR; i++) {
		struct tep_event *ev = tep_find_event_by_name(c->tep, "kvm", tps[i].name);
		int f;

		c->id[i] = -1;
		if (!ev || tracefs_event_enable(c->inst, "kvm", tps[i].name))
			continue;	/* kvm_exit/kvm_entry are absent on some kernels */
		c->id[i] = ev->id;
		for (f = 0; f < 3 && tps[i].fields[f]; f++)
			c->field[i][f] = tep_find_field(ev, tps[i].fields[f]);
	}
	if (c->id[TP_USER_EXIT] < 0 || c->id[TP_FPU] < 0) {
		ret = -ENOENT;
		snprintf(why, why_len, "no kvm:kvm_userspace_exit/kvm_fpu tracepoints (no KVM?)");
		goto fail;
	}
	if (tracefs_trace_on(c->inst)) {
		ret = -EIO;
		snprintf(why, why_len, "cannot start tracing in the tracefs instance");
		goto fail;
	}
	*priv = c;
	return 0;
fail:
	tracefs_close(c);
	return ret;
}

static void tracefs_poll(void *priv)
{
	struct kx_tracefs *c = priv;

	tracefs_iterate_raw_events(c->tep, c->inst, NULL, 0, on_event, c);
}

static int tracefs_snapshot(void *priv, struct kx_snapshot *s)
{
	struct kx_tracefs *c = priv;

	tracefs_poll(c);
	if (kx_snapshot__alloc(s))
		return -ENOMEM;
	memcpy(s->reasons, c->tables.reasons, c->tables.nr_reasons * sizeof(*s->reasons));
	memcpy(s->addrs, c->tables.addrs, c->tables.nr_addrs * sizeof(*s->addrs));
	s->nr_reasons = c->tables.nr_reasons;
	s->nr_addrs = c->tables.nr_addrs;
	memcpy(s->counters, c->tables.counters, sizeof(s->counters));
	return 0;
}

const struct kx_backend kx_tracefs_backend = {
	.name = "tracefs",
	.attach = "tracefs raw buffers (no BPF)",
	.open = tracefs_open,
	.poll = tracefs_poll,
	.snapshot = tracefs_snapshot,
	.close = tracefs_close,
};

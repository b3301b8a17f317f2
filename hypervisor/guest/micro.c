/*
 * Exit microbenchmarks (the kvm-unit-tests vmexit idea, with distributions).
 * Every operation is timed with rdtsc on both sides and the raw TSC deltas
 * go back to the VMM, which computes the statistics: sorting at CPL0 would
 * cost ~270 ns per emulated instruction here.
 *
 *   kind=pio        out to a trapped port of the bench device (userspace exit)
 *   kind=mmio       write to a trapped register of the bench device
 *   kind=ioeventfd  write to a doorbell KVM turns into an eventfd signal
 *   kind=irq        doorbell -> VMM event loop -> irqfd -> MSI-X -> handler
 *                   (via=vcpu: a trapped write, the vCPU thread sends the MSI)
 *   kind=pio-raw / mmio-raw   the same ops under the VMM's minimal KVM_RUN loop
 *   kind=null       nothing between the two rdtsc: the cost of timing an op
 *
 * pio and mmio also run the raw loop in the same run, alternating blocks of
 * ops between the two, so that the dispatch overhead is a ratio within one
 * run rather than a comparison across runs.
 *
 * rdtsc itself traps on PVM (~8.5 us here), so every benchmark first times
 * TIMER_SAMPLES empty ops; the VMM subtracts their median from each sample
 * (as kvm-unit-tests subtracts its tsc_overhead) and reports both.
 */
#include "hypervisor/guest/guest.h"

#define BLOCK		500	/* ops per phase before switching */
#define WATCHDOG_TICKS	100000000u	/* LAPIC timer count: ~100 ms at 1 GHz */
#define WAIT_TICKS_MAX	20	/* watchdog ticks one interrupt may take */
#define POLL_MAX	1000000u
#define TIMER_SAMPLES	1000	/* null ops timed before each benchmark */

static const char *const micro_args[] = { "kind", "count", "irq", "space", "via", NULL };

static struct vio_result result;
static volatile int irq_seen;
static volatile uint64_t irq_tsc;
static volatile unsigned int watchdog_ticks;

enum space { SPACE_PIO = VIO_SPACE_PIO, SPACE_MMIO = VIO_SPACE_MMIO, SPACE_NONE = VIO_SPACE_NONE };

struct micro {
	int kind;
	int space;		/* enum space */
	uint64_t count;
	struct pci_dev dev;
	uint64_t addr;		/* register or doorbell the op writes */
	int irq_mode;
	int via;		/* enum vio_via, kind=irq only */
};

static void on_msix(uint8_t vector)
{
	irq_tsc = rdtsc();
	irq_seen = 1;
}

static void on_watchdog(uint8_t vector)
{
	watchdog_ticks++;
}

static inline void do_op(const struct micro *m, uint32_t v)
{
	if (m->space == SPACE_PIO)
		outl((uint16_t)m->addr, v);
	else if (m->space == SPACE_MMIO)
		mmio_write32(m->addr, v);
}

/*
 * The timed loop is the same instruction sequence for every space, with
 * the op itself as the only difference, so that the empty (null) loop
 * measures exactly what the others carry besides their op: each emulated
 * instruction costs ~270 ns here, so the loop shape matters.
 */
#define TIMED_LOOP(samples, n, op) do {				\
	uint64_t __i;						\
	for (__i = 0; __i < (n); __i++) {			\
		uint32_t v = (uint32_t)__i;			\
		uint64_t t0 = rdtsc();				\
		op;						\
		(samples)[__i] = rdtsc() - t0;			\
	}							\
} while (0)

static __attribute__((noinline)) void run_block(const struct micro *m, uint64_t *samples,
						  uint64_t n)
{
	uint64_t addr = m->addr;

	switch (m->space) {
	case SPACE_PIO:
		TIMED_LOOP(samples, n, outl((uint16_t)addr, v));
		break;
	case SPACE_MMIO:
		TIMED_LOOP(samples, n, mmio_write32(addr, v));
		break;
	default:	/* same operands in registers, no instruction */
		TIMED_LOOP(samples, n, asm volatile("" :: "a"(v), "d"(addr)));
		break;
	}
}

/* Doorbell, then sleep until the MSI-X handler ran. */
static int irq_op(const struct micro *m, uint64_t *sample)
{
	uint64_t t0;
	unsigned int start;

	irq_seen = 0;
	start = watchdog_ticks;
	t0 = rdtsc();
	do_op(m, 1);
	if (m->irq_mode == VIO_IRQ_POLL) {
		uint32_t polls = 0;

		/* Every status read is an exit: this polls the VMM, not CPL0 memory. */
		while (!(mmio_read32(m->dev.bar[VIO_BENCH_MMIO_BAR] + VIO_BENCH_MMIO_STATUS) & 1))
			if (++polls == POLL_MAX)
				return -1;
		*sample = rdtsc() - t0;
		return 0;
	}
	/* sti;hlt is atomic (STI shadow): no wakeup can be lost in between. */
	while (!irq_seen) {
		if (watchdog_ticks - start > WAIT_TICKS_MAX)
			return -1;
		asm volatile("sti; hlt; cli" ::: "memory");
	}
	*sample = irq_tsc - t0;
	return 0;
}

static const struct arg_choice kinds[] = {
	{ "pio", VIO_MICRO_PIO }, { "mmio", VIO_MICRO_MMIO },
	{ "ioeventfd", VIO_MICRO_IOEVENTFD }, { "irq", VIO_MICRO_IRQ },
	{ "pio-raw", VIO_MICRO_PIO_RAW }, { "mmio-raw", VIO_MICRO_MMIO_RAW },
	{ "null", VIO_MICRO_NULL }, { 0 },
};
static const struct arg_choice spaces[] = { { "pio", SPACE_PIO }, { "mmio", SPACE_MMIO }, { 0 } };
static const struct arg_choice vias[] = {
	{ "evloop", VIO_VIA_EVLOOP }, { "vcpu", VIO_VIA_VCPU }, { 0 },
};
static const struct arg_choice irq_modes[] = {
	{ "msix", VIO_IRQ_MSIX }, { "poll", VIO_IRQ_POLL }, { 0 },
};

static int parse(const char *args, struct micro *m)
{
	int is_irq, set_space, set_via, set_irq, set_kind;

	if (arg_check("micro", args, micro_args))
		return -1;
	set_kind = arg_choose("micro", args, "kind", kinds, &m->kind);
	if (set_kind == 0)
		printf("guest: micro: kind= is required\n");
	if (set_kind != 1)
		return -1;
	m->count = 10000;
	if (arg_u64("micro", args, "count", 1, 1u << 22, &m->count) < 0)
		return -1;
	is_irq = m->kind == VIO_MICRO_IRQ;
	m->space = (m->kind == VIO_MICRO_MMIO || m->kind == VIO_MICRO_MMIO_RAW || is_irq) ?
		   SPACE_MMIO : m->kind == VIO_MICRO_NULL ? SPACE_NONE : SPACE_PIO;
	m->irq_mode = is_irq ? VIO_IRQ_MSIX : VIO_IRQ_NONE;
	set_space = arg_choose("micro", args, "space", spaces, &m->space);
	set_via = arg_choose("micro", args, "via", vias, &m->via);
	set_irq = arg_choose("micro", args, "irq", irq_modes, &m->irq_mode);
	if (set_space < 0 || set_via < 0 || set_irq < 0)
		return -1;
	if (set_space && m->kind != VIO_MICRO_IOEVENTFD && !is_irq) {
		printf("guest: micro: space= applies to kind=ioeventfd and irq only\n");
		return -1;
	}
	if ((set_via || set_irq) && !is_irq) {
		printf("guest: micro: via= and irq= apply to kind=irq only\n");
		return -1;
	}
	return 0;
}

static uint64_t target(const struct micro *m)
{
	uint64_t pio = m->dev.bar[VIO_BENCH_PIO_BAR], mmio = m->dev.bar[VIO_BENCH_MMIO_BAR];

	switch (m->kind) {
	case VIO_MICRO_PIO: case VIO_MICRO_PIO_RAW: return pio + VIO_BENCH_PIO_REG;
	case VIO_MICRO_MMIO: case VIO_MICRO_MMIO_RAW: return mmio + VIO_BENCH_MMIO_REG;
	case VIO_MICRO_IOEVENTFD:
		return m->space == SPACE_PIO ? pio + VIO_BENCH_PIO_KICK : mmio + VIO_BENCH_MMIO_KICK;
	default:
		if (m->via == VIO_VIA_VCPU)
			return m->space == SPACE_PIO ? pio + VIO_BENCH_PIO_IRQ_SYNC
						     : mmio + VIO_BENCH_MMIO_IRQ_SYNC;
		return m->space == SPACE_PIO ? pio + VIO_BENCH_PIO_IRQ : mmio + VIO_BENCH_MMIO_IRQ;
	}
}

static void set_phase(uint32_t phase)
{
	outl(VIO_CTL_PHASE, phase);
}

/* Blocks alternate between raw and dispatch, and so does their order. */
static void run_with_raw(const struct micro *m, uint64_t *meas, uint64_t *raw, int raw_only)
{
	uint64_t done = 0, blk = 0;

	outl(VIO_CTL_RAW_ADDR, (uint32_t)m->addr);
	while (done < m->count) {
		uint64_t n = m->count - done < BLOCK ? m->count - done : BLOCK;

		if (raw_only) {
			set_phase(VIO_PHASE_RAW);
			run_block(m, meas + done, n);
		} else if (blk & 1) {
			set_phase(VIO_PHASE_DISPATCH);
			run_block(m, meas + done, n);
			set_phase(VIO_PHASE_RAW);
			run_block(m, raw + done, n);
		} else {
			set_phase(VIO_PHASE_RAW);
			run_block(m, raw + done, n);
			set_phase(VIO_PHASE_DISPATCH);
			run_block(m, meas + done, n);
		}
		done += n;
		blk++;
	}
	set_phase(VIO_PHASE_DISPATCH);
}

/* Set up before the measurement starts, so its exits are not counted. */
static void irq_prepare(struct micro *m)
{
	if (m->irq_mode == VIO_IRQ_MSIX && pci_msix_enable(&m->dev, 0, INTR_MSIX_BASE)) {
		printf("guest: micro: no MSI-X on the bench device, polling instead\n");
		m->irq_mode = VIO_IRQ_POLL;
	}
	intr_set_handler(INTR_MSIX_BASE, on_msix);
	intr_set_handler(INTR_WATCHDOG, on_watchdog);
}

static int run_irq(struct micro *m, uint64_t *meas)
{
	uint64_t i;
	int status = VIO_OK;

	lapic_timer_periodic(WATCHDOG_TICKS);
	for (i = 0; i < m->count; i++) {
		if (irq_op(m, &meas[i])) {
			printf("guest: micro: interrupt %lu never arrived\n", i);
			status = VIO_ERR_TIMEOUT;
			break;
		}
	}
	lapic_timer_stop();
	m->count = i;
	return status;
}

int micro_run(const char *args, const struct vio_boot_info *bi)
{
	struct micro m = { 0 };
	struct micro null_op = { .kind = VIO_MICRO_NULL, .space = SPACE_NONE };
	uint64_t *meas, *raw = 0, *timer;
	int status = VIO_OK;

	if (parse(args, &m))
		return VIO_ERR_WORKLOAD;
	if (pci_find(VIO_BENCH_VENDOR, VIO_BENCH_DEVICE, &m.dev)) {
		printf("guest: micro: benchmark device %04x:%04x not found\n",
		       VIO_BENCH_VENDOR, VIO_BENCH_DEVICE);
		return VIO_ERR_NODEV;
	}
	m.addr = target(&m);
	meas = guest_alloc(m.count * sizeof(uint64_t));
	timer = guest_alloc(TIMER_SAMPLES * sizeof(uint64_t));
	if (m.kind == VIO_MICRO_PIO || m.kind == VIO_MICRO_MMIO)
		raw = guest_alloc(m.count * sizeof(uint64_t));
	if (!meas || !timer || ((m.kind == VIO_MICRO_PIO || m.kind == VIO_MICRO_MMIO) && !raw)) {
		printf("guest: micro: %lu samples do not fit in RAM\n", m.count);
		return VIO_ERR_NOMEM;
	}

	result = (struct vio_result){ .magic = VIO_RESULT_MAGIC, .kind = (uint32_t)m.kind,
				      .ops = m.count };
	if (m.kind == VIO_MICRO_IRQ)
		irq_prepare(&m);
	run_block(&null_op, timer, TIMER_SAMPLES);
	outl(VIO_CTL_BEGIN, 0);
	result.tsc_start = rdtsc();
	switch (m.kind) {
	case VIO_MICRO_PIO:
	case VIO_MICRO_MMIO:
		run_with_raw(&m, meas, raw, 0);
		break;
	case VIO_MICRO_PIO_RAW:
	case VIO_MICRO_MMIO_RAW:
		run_with_raw(&m, meas, 0, 1);
		break;
	case VIO_MICRO_IOEVENTFD:
	case VIO_MICRO_NULL:
		run_block(&m, meas, m.count);
		break;
	default:
		status = run_irq(&m, meas);
		break;
	}
	result.tsc_end = rdtsc();
	result.status = (uint32_t)status;
	result.irq_mode = (uint32_t)m.irq_mode;
	result.space = (uint32_t)m.space;
	result.via = (uint32_t)m.via;
	result.ops = m.count;
	result.measured = (struct vio_samples){ (uint64_t)meas, m.count };
	if (raw)
		result.raw = (struct vio_samples){ (uint64_t)raw, m.count };
	result.timer = (struct vio_samples){ (uint64_t)timer, TIMER_SAMPLES };
	outl(VIO_CTL_RESULT, (uint32_t)(uint64_t)&result);
	printf("guest: micro%s: %lu ops %s\n", args, m.count,
	       status ? "failed" : "done");
	return status;
}

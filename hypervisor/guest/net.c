/*
 * The net workload, on the virtio-net NIC (dev=pv, default) or the e1000
 * (dev=emul), the same code above the two drivers (nic.h):
 *   net dev=pv|emul mode=tx|rx|pingpong size=64..1514 count=N runtime=S verify=0|1
 * Frames are vioscope's test frames (lib/frame.h) to and from
 * `vioscope peer` on the host side of the TAP:
 *   tx        sends count frames (or for runtime seconds) as fast as the
 *             ring takes them; the peer (sink) counts and checks them
 *   rx        sends one start frame (sequence VIO_NET_START_SEQ), then takes
 *             what the peer (source --start-on-frame) sends: sequence gaps
 *             are lost frames, steps back reordered ones
 *   pingpong  one frame at a time to the peer (echo), timed until its echo
 *             is back: the round trip per frame (the record's samples)
 * verify=1 compares every payload byte received (else the header, size and
 * sequence). The guest's frames carry send time 0: it has no host clock.
 */
#include "hypervisor/guest/nic.h"
#include "lib/frame.h"

#define NET_VECTOR	(INTR_MSIX_BASE + 2)
#define TICK_CYCLES	100000000u	/* the watchdog's period (~100 ms) */
#define FIRST_TICKS	300		/* rx: the peer starts within 30 s */
#define IDLE_TICKS	20		/* rx: 2 s without a frame ends the run */
#define PING_TICKS	10		/* pingpong: an echo not back in 1 s is lost */

static const char *const net_args[] = { "dev", "mode", "size", "count", "runtime", "verify",
					NULL };
static const struct arg_choice modes[] = {
	{ "tx", VIO_NET_TX }, { "rx", VIO_NET_RX }, { "pingpong", VIO_NET_PINGPONG }, { 0 },
};
static const struct arg_choice devs[] = { { "pv", 0 }, { "emul", 1 }, { 0 } };

static const struct gnic_ops *nic;
static uint8_t mac[6];
static uint8_t ramp[256 + FRAME_MAX];	/* ramp[i] = i mod 256: every payload is a slice */
static volatile uint64_t irqs;
static volatile unsigned int ticks;
static struct vio_result result;
static uint64_t deadline;		/* runtime=: TSC to stop at, 0 = none */

static void on_irq(uint8_t v)
{
	irqs++;
	nic->irq();
}

static void on_tick(uint8_t v) { ticks++; }

/* Frame seq of size bytes (frame.h's layout) into buf. */
static void build(uint8_t *buf, uint32_t size, uint32_t seq)
{
	memset(buf, 0xff, 6);
	memcpy(buf + 6, mac, 6);
	buf[12] = FRAME_ETHERTYPE >> 8;
	buf[13] = FRAME_ETHERTYPE & 0xff;
	memcpy(buf + 14, "VIOS", 4);
	memcpy(buf + 18, &seq, 4);
	memset(buf + 22, 0, 8);
	memcpy(buf + FRAME_HDR_LEN, ramp + (seq & 0xff), size - FRAME_HDR_LEN);
}

/*
 * Every transmit slot holds its frame from the start: slot s only ever
 * carries sequence numbers equal to s modulo NIC_SLOTS (256), whose
 * payloads are the same, so a frame costs a 4-byte sequence store. (A
 * rep movsb of 1.5 KB per frame, emulated at CPL0, cost 2 ms on PVM and
 * was all the guest measured.)
 */
static void prebuild(uint32_t size)
{
	unsigned int s;

	for (s = 0; s < NIC_SLOTS; s++)
		build(nic->tx_frame(s), size, s);
}

static void set_seq(uint8_t *frame, uint32_t seq)
{
	*(volatile uint32_t *)(frame + 18) = seq;
}

/* A received frame: 1 good (with *seq), 0 bad, -1 not a test frame (the
 * host's own traffic on the link, e.g. IPv6 neighbour discovery). */
static int check(const uint8_t *f, uint32_t len, uint32_t want, uint32_t *seq)
{
	if (len < 14 || f[12] != FRAME_ETHERTYPE >> 8 || f[13] != (FRAME_ETHERTYPE & 0xff))
		return -1;
	if (len != want || memcmp(f + 14, "VIOS", 4))
		return 0;
	memcpy(seq, f + 18, 4);
	return !result.net.verify ||
	       !memcmp(f + FRAME_HDR_LEN, ramp + (*seq & 0xff), len - FRAME_HDR_LEN);
}

static int expired(void)
{
	return deadline && rdtsc() >= deadline;
}

/* Sleeps until an interrupt or the next watchdog tick. */
static void wait_irq(void)
{
	asm volatile("sti; hlt; cli" ::: "memory");
}

/* Waits, with transmit interrupts on, until the NIC has finished some
 * transmit slots: how many, 0 when none did within a second. */
static unsigned int tx_wait(void)
{
	unsigned int start = ticks, n;

	nic->tx_irq(1);
	while (!(n = nic->tx_done()) && ticks - start <= PING_TICKS)
		wait_irq();
	nic->tx_irq(0);
	return n;
}

static void run_tx(uint32_t size, uint64_t count)
{
	uint64_t done = 0, seq;
	unsigned int n;

	for (seq = 0; seq < count && !((seq & 63) == 0 && expired()); seq++) {
		unsigned int s = (unsigned int)(seq % NIC_SLOTS);

		while (result.net.sent - done >= NIC_SLOTS - 1) {
			n = tx_wait();
			if (!n) {
				printf("guest: net: transmit ring stuck at %lu sent\n", result.net.sent);
				result.status = VIO_ERR_TIMEOUT;
				return;
			}
			done += n;
		}
		set_seq(nic->tx_frame(s), (uint32_t)seq);
		nic->tx(s, size, 1);
		result.net.sent++;
		done += nic->tx_done();		/* memory only: no exit */
	}
	while (done < result.net.sent && (n = tx_wait()))
		done += n;
	result.ops = done;
}

static void run_rx(uint32_t size, uint64_t count)
{
	uint64_t expect = 0, last_tsc = 0;
	unsigned int start;
	int first = 1;

	build(nic->tx_frame(0), FRAME_MIN, VIO_NET_START_SEQ);
	nic->tx(0, FRAME_MIN, 1);
	result.net.sent = 1;
	start = ticks;
	while (result.net.received + result.net.bad < count) {
		uint8_t *f;
		uint32_t len, seq;
		int s, last = -1, n = 0;

		while ((s = nic->rx(&f, &len)) >= 0) {
			if (first) {
				result.tsc_start = rdtsc();
				first = 0;
			}
			int ok = check(f, len, size, &seq);

			if (ok < 0) {
				result.net.other++;
			} else if (!ok) {
				result.net.bad++;
			} else {
				result.net.received++;
				if (seq < expect) {
					result.net.reordered++;
				} else {
					result.net.lost += seq - expect;
					expect = (uint64_t)seq + 1;
				}
			}
			if (last >= 0)
				nic->rx_refill((unsigned int)last, 0);
			last = s;
			n++;
		}
		if (last >= 0) {
			nic->rx_refill((unsigned int)last, 1);	/* one doorbell per batch */
			last_tsc = rdtsc();
			start = ticks;
		}
		if (!n) {
			if (ticks - start > (first ? FIRST_TICKS : IDLE_TICKS) || expired())
				break;
			wait_irq();
		}
	}
	if (expect < count && !deadline)
		result.net.lost += count - expect;	/* the tail never came */
	result.ops = result.net.received;
	result.tsc_end = last_tsc;
}

static uint64_t *run_pingpong(uint32_t size, uint64_t count)
{
	uint64_t *rtt = guest_alloc(count * sizeof(uint64_t)), seq;

	if (!rtt)
		return 0;
	for (seq = 0; seq < count && !expired(); seq++) {
		unsigned int s = (unsigned int)(seq % NIC_SLOTS), start;
		uint64_t t0;
		int back = 0;

		set_seq(nic->tx_frame(s), (uint32_t)seq);
		t0 = rdtsc();
		nic->tx(s, size, 1);
		result.net.sent++;
		start = ticks;
		while (!back && ticks - start <= PING_TICKS) {
			uint8_t *f;
			uint32_t len, got;
			int r;

			while ((r = nic->rx(&f, &len)) >= 0) {
				int ok = check(f, len, size, &got);

				if (ok > 0 && got == (uint32_t)seq) {
					rtt[result.ops++] = rdtsc() - t0;
					back = 1;
				} else if (ok < 0) {
					result.net.other++;
				} else if (!ok) {
					result.net.bad++;
				}
				nic->rx_refill((unsigned int)r, 1);
			}
			if (!back)
				wait_irq();
		}
		if (back)
			result.net.received++;
		else
			result.net.lost++;
		nic->tx_done();
	}
	return rtt;
}

int net_run(const char *args, const struct vio_boot_info *bi)
{
	uint64_t size = 64, count = 1000, runtime = 0, verify = 0, *timer, *rtt = 0;
	int mode = VIO_NET_PINGPONG, dev = 0, ret;
	unsigned int i;

	if (arg_check("net", args, net_args) ||
	    arg_choose("net", args, "dev", devs, &dev) < 0 ||
	    arg_choose("net", args, "mode", modes, &mode) < 0 ||
	    arg_u64("net", args, "size", FRAME_MIN, FRAME_MAX, &size) < 0 ||
	    arg_u64("net", args, "count", 1, 1u << 24, &count) < 0 ||
	    arg_u64("net", args, "runtime", 1, 3600, &runtime) < 0 ||
	    arg_u64("net", args, "verify", 0, 1, &verify) < 0)
		return VIO_ERR_WORKLOAD;
	if (runtime && !arg_get(args, "count", (char[2]){ 0 }, 2))
		count = 1u << 24;	/* runtime alone: as many as fit */
	nic = dev ? &gnic_e1000_ops : &gnic_virtio_ops;
	intr_set_handler(NET_VECTOR, on_irq);
	intr_set_handler(INTR_WATCHDOG, on_tick);
	result = (struct vio_result){ .magic = VIO_RESULT_MAGIC, .kind = VIO_NET };
	result.net = (struct vio_net){ .mode = (uint32_t)mode, .size = (uint32_t)size,
				       .flags = dev ? VIO_NET_EMUL : 0, .verify = (uint32_t)verify };
	ret = nic->init(NET_VECTOR, mac);
	if (ret) {
		printf("guest: net: no usable %s NIC (%d); add --net %s:tap=IF\n", nic->name, ret,
		       dev ? "emul" : "pv");
		return VIO_ERR_NODEV;
	}
	for (i = 0; i < sizeof(ramp); i++)
		ramp[i] = (uint8_t)i;
	timer = guest_alloc(1000 * sizeof(uint64_t));
	if (!timer)
		return VIO_ERR_NOMEM;
	for (i = 0; i < 1000; i++) {
		uint64_t t0 = rdtsc();

		timer[i] = rdtsc() - t0;
	}
	if (mode != VIO_NET_RX)
		prebuild((uint32_t)size);
	if (runtime && bi->tsc_khz)
		deadline = rdtsc() + runtime * bi->tsc_khz * 1000;
	lapic_timer_periodic(TICK_CYCLES);
	irqs = 0;
	outl(VIO_CTL_BEGIN, 0);
	result.tsc_start = rdtsc();
	if (mode == VIO_NET_TX)
		run_tx((uint32_t)size, count);
	else if (mode == VIO_NET_RX)
		run_rx((uint32_t)size, count);
	else if (!(rtt = run_pingpong((uint32_t)size, count)))
		result.status = VIO_ERR_NOMEM;
	if (mode != VIO_NET_RX)
		result.tsc_end = rdtsc();
	lapic_timer_stop();

	result.net.interrupts = irqs;
	result.irq_mode = dev ? VIO_IRQ_INTX : VIO_IRQ_MSIX;
	result.space = dev ? VIO_SPACE_MMIO : VIO_SPACE_NONE;
	result.timer = (struct vio_samples){ (uint64_t)timer, 1000 };
	if (rtt)
		result.measured = (struct vio_samples){ (uint64_t)rtt, result.ops };
	outl(VIO_CTL_RESULT, (uint32_t)(uint64_t)&result);
	printf("guest: net%s: sent %lu, received %lu, bad %lu, lost %lu, reordered %lu, other %lu\n",
	       args, result.net.sent, result.net.received, result.net.bad, result.net.lost,
	       result.net.reordered, result.net.other);
	if (result.status)
		return (int)result.status;
	if (!result.ops) {
		printf("guest: net: no frame made it (is the peer running?)\n");
		return VIO_ERR_TIMEOUT;
	}
	return result.net.bad ? VIO_ERR_WORKLOAD : VIO_OK;
}

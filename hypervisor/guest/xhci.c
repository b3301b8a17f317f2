/*
 * The probe guest's xHCI driver (xHCI 1.2): controller reset and start
 * (4.2), a command ring, one event ring segment, port reset (4.3.1),
 * Enable Slot, Address Device, the descriptors, Configure Endpoint and
 * SET_CONFIGURATION (4.3), then bulk TDs on the two bulk endpoints. Each
 * transfer is a doorbell write and a wait for its Transfer Event; after
 * the events the driver moves ERDP and clears EHB as Linux's xhci_irq does,
 * so a TD costs the exits and the interrupt a real driver's does.
 */
#include "hypervisor/guest/usb.h"

#define RING_TRBS	256		/* one 4 KiB page per ring */
#define CTX		32
#define TD_MAX_TRB	(64 * 1024)	/* bytes per TRB, as Linux splits */
#define WAIT_SPINS	100		/* hlt wakeups: the caller's 100 ms watchdog ticks */

/* Registers, 5.3 - 5.5 */
#define USBCMD		0x00
#define USBSTS		0x04
#define CRCR		0x18
#define DCBAAP		0x30
#define CONFIG		0x38
#define PORTSC(p)	(0x400 + 0x10 * ((p) - 1))
#define IMAN		0x20
#define ERSTSZ		0x28
#define ERSTBA		0x30
#define ERDP		0x38

/* TRB types and fields, 6.4 */
#define T_NORMAL	1
#define T_SETUP		2
#define T_DATA		3
#define T_STATUS	4
#define T_LINK		6
#define T_ENABLE_SLOT	9
#define T_ADDRESS	11
#define T_DISABLE_SLOT	10
#define T_CONFIGURE	12
#define T_RESET_EP	14
#define T_SET_DEQ	16
#define T_XFER_EVENT	32
#define T_CMD_EVENT	33
#define C_CYCLE		(1u << 0)
#define C_TC		(1u << 1)
#define C_ISP		(1u << 2)
#define C_CH		(1u << 4)
#define C_IOC		(1u << 5)
#define C_IDT		(1u << 6)
#define C_DIR_IN	(1u << 16)
#define TYPE(t)		((uint32_t)(t) << 10)
#define CC_SUCCESS	1
#define CC_STALL	6
#define CC_SHORT	13

struct trb {
	uint64_t param;
	uint32_t status, control;
};

struct gring {
	struct trb *trb;
	unsigned int idx;
	uint32_t cycle;
};

static uint64_t base, op, rt, db;
static struct gring cmd, ep0, bulk_in, bulk_out, intr_in;
static struct trb *events;
static unsigned int ev_idx;
static uint32_t ev_cycle = 1;
static uint8_t slot_id, dci_in, dci_out;
static uint8_t *in_ctx, *scratch;

static inline void w(uint64_t reg, uint32_t v) { mmio_write32(reg, v); }
static inline uint32_t r(uint64_t reg) { return mmio_read32(reg); }

static int ring_init(struct gring *g)
{
	g->trb = guest_alloc(4096);
	if (!g->trb)
		return -1;
	memset(g->trb, 0, 4096);
	g->idx = 0;
	g->cycle = 1;
	/* The last TRB links back to the first and toggles the cycle. */
	g->trb[RING_TRBS - 1].param = (uint64_t)g->trb;
	return 0;
}

/* Hands one TRB to the controller: the cycle bit last (4.9.2). */
static uint64_t ring_put(struct gring *g, uint64_t param, uint32_t status, uint32_t control)
{
	struct trb *t = &g->trb[g->idx];

	t->param = param;
	t->status = status;
	asm volatile("" ::: "memory");
	t->control = control | g->cycle;
	if (++g->idx == RING_TRBS - 1) {
		struct trb *link = &g->trb[g->idx];

		asm volatile("" ::: "memory");
		link->control = TYPE(T_LINK) | C_TC | (control & C_CH) | g->cycle;
		g->cycle ^= 1;
		g->idx = 0;
	}
	return (uint64_t)t;
}

/* The next event, waiting for it with interrupts on; ERDP moved and EHB
 * cleared after it. 0 or -1 on a timeout. */
static int next_event(struct trb *out)
{
	unsigned int spins = 0;
	struct trb *e;

	for (;;) {
		e = &events[ev_idx];
		if ((*(volatile uint32_t *)&e->control & C_CYCLE) == ev_cycle)
			break;
		if (++spins > WAIT_SPINS)
			return -1;
		asm volatile("sti; hlt; cli" ::: "memory");
	}
	*out = *e;
	if (++ev_idx == RING_TRBS) {
		ev_idx = 0;
		ev_cycle ^= 1;
	}
	w(rt + ERDP, (uint32_t)(uint64_t)&events[ev_idx] | 8);	/* EHB: RW1C */
	return 0;
}

/* Waits for the event of type `type` on TRB `at` (others are skipped:
 * port changes, a data stage's short packet before its status stage). */
static int wait_for(uint32_t type, uint64_t at, struct trb *ev)
{
	for (;;) {
		if (next_event(ev))
			return -1;
		if (((ev->control >> 10) & 0x3f) == type && ev->param == at)
			return 0;
	}
}

static int command(uint64_t param, uint32_t control, uint8_t *slot_out)
{
	struct trb ev;
	uint64_t at = ring_put(&cmd, param, 0, control);

	w(db, 0);
	if (wait_for(T_CMD_EVENT, at, &ev))
		return -1;
	if (slot_out)
		*slot_out = (uint8_t)(ev.control >> 24);
	return (int)(ev.status >> 24) == CC_SUCCESS ? 0 : -(int)(ev.status >> 24);
}

/* A halted endpoint back to work (4.6.8, 4.6.10): Reset Endpoint, then
 * its dequeue pointer past the TD that stalled. */
static int reset_ep(struct gring *g, uint8_t dci)
{
	if (command(0, TYPE(T_RESET_EP) | (uint32_t)dci << 16 | (uint32_t)slot_id << 24, 0))
		return -1;
	return command((uint64_t)&g->trb[g->idx] | g->cycle,
		       TYPE(T_SET_DEQ) | (uint32_t)dci << 16 | (uint32_t)slot_id << 24, 0);
}

static int xhci_control(const struct gusb_setup *s, void *buf, uint32_t *actual)
{
	int in = s->type & 0x80;
	uint64_t setup, status_at;
	struct trb ev;
	uint32_t residue = 0;

	memcpy(&setup, s, 8);
	ring_put(&ep0, setup, 8, TYPE(T_SETUP) | C_IDT |
		 (s->length ? (in ? 3u : 2u) << 16 : 0));	/* TRT */
	if (s->length)
		ring_put(&ep0, (uint64_t)buf, s->length,
			 TYPE(T_DATA) | (in ? C_DIR_IN | C_ISP : 0));
	status_at = ring_put(&ep0, 0, 0, TYPE(T_STATUS) | C_IOC |
			     (s->length && in ? 0 : C_DIR_IN));
	w(db + 4u * slot_id, 1);
	for (;;) {
		if (next_event(&ev))
			return -1;
		if (((ev.control >> 10) & 0x3f) != T_XFER_EVENT)
			continue;
		if ((ev.status >> 24) == CC_SHORT) {
			residue = ev.status & 0xffffff;	/* the data stage's */
			continue;
		}
		break;
	}
	if ((ev.status >> 24) == CC_STALL)	/* the request refused: EP0 goes on */
		return reset_ep(&ep0, 1) ? -1 : GUSB_STALL;
	if ((ev.status >> 24) != CC_SUCCESS || ev.param != status_at)
		return -3;
	if (actual)
		*actual = s->length - residue;
	return 0;
}

static int xhci_bulk(int in, void *buf, uint32_t len, uint32_t *actual)
{
	struct gring *g = in ? &bulk_in : &bulk_out;
	uint64_t first = 0, at = 0, p = (uint64_t)buf;
	uint32_t left = len, done = 0, cc;
	struct trb ev;

	/* One Normal TRB per 64 KiB; ISP on each IN TRB, IOC on the last. */
	do {
		uint32_t n = left < TD_MAX_TRB ? left : TD_MAX_TRB;
		uint32_t c = TYPE(T_NORMAL) | (in ? C_ISP : 0) | (left > n ? C_CH : C_IOC);

		at = ring_put(g, p, n, c);
		if (!first)
			first = at;
		p += n;
		left -= n;
	} while (left);
	w(db + 4u * slot_id, in ? dci_in : dci_out);
	for (;;) {
		if (next_event(&ev))
			return -1;
		if (((ev.control >> 10) & 0x3f) == T_XFER_EVENT &&
		    ((ev.control >> 16) & 0x1f) == (in ? dci_in : dci_out))
			break;
	}
	cc = ev.status >> 24;
	if (cc == CC_STALL)
		return GUSB_STALL;
	if (cc != CC_SUCCESS && cc != CC_SHORT)
		return -3;
	/* Bytes of the TRBs before the event's, then of that one. */
	done = (uint32_t)((ev.param - first) / sizeof(struct trb)) * TD_MAX_TRB;
	if (ev.param < first || ev.param > at)
		done = 0;	/* the ring wrapped inside the TD: one TRB TDs only */
	done += (len - done < TD_MAX_TRB ? len - done : TD_MAX_TRB) - (ev.status & 0xffffff);
	if (actual)
		*actual = done;
	return 0;
}

/* One interrupt IN TD: it completes when the device has a report. */
static int xhci_intr_in(void *buf, uint32_t len, uint32_t *actual)
{
	uint64_t at = ring_put(&intr_in, (uint64_t)buf, len, TYPE(T_NORMAL) | C_ISP | C_IOC);
	struct trb ev;
	uint32_t cc;

	w(db + 4u * slot_id, dci_in);
	for (;;) {
		if (next_event(&ev))
			return -1;
		if (((ev.control >> 10) & 0x3f) == T_XFER_EVENT && ev.param == at)
			break;
	}
	cc = ev.status >> 24;
	if (cc != CC_SUCCESS && cc != CC_SHORT)
		return cc == CC_STALL ? GUSB_STALL : -3;
	if (actual)
		*actual = len - (ev.status & 0xffffff);
	return 0;
}

static int build_ep_ctx(uint8_t *ctx, unsigned int type, unsigned int mps, struct gring *g)
{
	uint32_t *e = (uint32_t *)ctx;

	if (ring_init(g))
		return -1;
	memset(ctx, 0, CTX);
	e[1] = 3u << 1 | type << 3 | mps << 16;		/* CErr 3 */
	e[2] = (uint32_t)(uint64_t)g->trb | 1;		/* DCS 1 */
	e[3] = 0;
	e[4] = type == 4 ? 8 : 1024;			/* average TRB length */
	return 0;
}

/* A halted bulk endpoint: Reset Endpoint, the dequeue pointer past the
 * TD (Set TR Dequeue Pointer), CLEAR_FEATURE(ENDPOINT_HALT) on the device. */
static int xhci_clear_halt(int in)
{
	uint8_t dci = in ? dci_in : dci_out;
	struct gusb_setup s = { 0x02, 1, 0, (uint16_t)(dci / 2 | (in ? 0x80 : 0)), 0 };

	if (reset_ep(in ? &bulk_in : &bulk_out, dci))
		return -1;
	return xhci_control(&s, 0, 0);
}

const struct gusb_hc gxhci_hc = { "xhci", xhci_control, xhci_bulk, xhci_clear_halt,
				   xhci_intr_in };

/* Port reset (4.3.1): PR, then the Port Status Change Event. */
static int port_reset(unsigned int port)
{
	struct trb ev;

	w(op + PORTSC(port), 1u << 9 | 1u << 4);		/* PP | PR */
	do {
		if (next_event(&ev))
			return -1;
	} while (((ev.control >> 10) & 0x3f) != 34);
	w(op + PORTSC(port), 1u << 9 | 1u << 17 | 1u << 21);	/* clear CSC, PRC */
	return r(op + PORTSC(port)) & 2 ? 0 : -1;		/* PED */
}

/* The xHCI Interval field (6.2.3.6): 2^Interval x 125 us. */
static unsigned int xhci_interval(unsigned int speed, unsigned int b_interval)
{
	unsigned int frames = b_interval ? b_interval : 1, e = 3;

	if (speed >= 3)			/* high speed: 2^(bInterval-1) microframes */
		return b_interval ? b_interval - 1 : 0;
	while ((8u << (e - 3)) < frames * 8 && e < 10)	/* full/low: frames -> 2^e */
		e++;
	return e;
}

/*
 * Addresses the device on a port and, if its first interface has class
 * want_class, configures it: 0. 1 when it is another class (its slot is
 * disabled again), <0 on failure.
 */
static int setup_device(unsigned int port, uint32_t portsc, unsigned int want_class)
{
	uint8_t *out = guest_alloc(4096);
	uint64_t *dcbaa;
	uint32_t *sl = (uint32_t *)(in_ctx + CTX), *icc = (uint32_t *)in_ctx, got;
	unsigned int speed = (portsc >> 10) & 15, ep_in, ep_out, mps, interval;
	struct gusb_setup s;

	if (!out)
		return -2;
	memset(out, 0, 4096);
	dcbaa = (uint64_t *)(uint64_t)(((uint64_t)r(op + DCBAAP + 4) << 32) | r(op + DCBAAP));
	if (command(0, TYPE(T_ENABLE_SLOT), &slot_id) || !slot_id)
		return -3;
	dcbaa[slot_id] = (uint64_t)out;
	/* Address Device (4.3.3): slot context and EP0 from an input context. */
	memset(in_ctx, 0, 3 * CTX);
	icc[1] = 3;					/* A0, A1 */
	sl[0] = 1u << 27 | speed << 20;			/* context entries 1 */
	sl[1] = port << 16;				/* root hub port */
	if (build_ep_ctx(in_ctx + 2 * CTX, 4, speed == 4 ? 512 : 64, &ep0) ||
	    command((uint64_t)in_ctx, TYPE(T_ADDRESS) | (uint32_t)slot_id << 24, 0))
		return -4;
	/* The device and configuration descriptors. */
	s = (struct gusb_setup){ 0x80, 6, 0x0100, 0, 18 };
	if (xhci_control(&s, scratch, &got) || got != 18)
		return -5;
	s = (struct gusb_setup){ 0x80, 6, 0x0200, 0, 255 };
	if (xhci_control(&s, scratch, &got) || got < 18)
		return -6;
	if (scratch[9 + 5] != want_class) {
		command(0, TYPE(T_DISABLE_SLOT) | (uint32_t)slot_id << 24, 0);
		return 1;
	}
	/* Configure Endpoint (4.3.5), then the configuration on the device. */
	memset(in_ctx, 0, 33 * CTX);
	sl[1] = port << 16;
	if (want_class == 3) {				/* HID: one interrupt IN */
		if (gusb_find_ep(scratch, got, 3, 1, &ep_in, &mps, &interval))
			return -6;
		dci_in = (uint8_t)(ep_in * 2 + 1);
		icc[1] = 1u | 1u << dci_in;
		sl[0] = (uint32_t)dci_in << 27 | speed << 20;
		if (build_ep_ctx(in_ctx + CTX * (dci_in + 1u), 7, mps, &intr_in))
			return -7;
		((uint32_t *)(in_ctx + CTX * (dci_in + 1u)))[0] =
			xhci_interval(speed, interval) << 16;
		((uint32_t *)(in_ctx + CTX * (dci_in + 1u)))[4] = mps | mps << 16;
	} else {					/* storage: bulk IN + OUT */
		if (gusb_find_bulk(scratch, got, &ep_in, &ep_out))
			return -6;
		mps = speed == 4 ? 1024 : 512;		/* bulk max packet, USB 2.0 5.8.3 */
		dci_in = (uint8_t)(ep_in * 2 + 1);
		dci_out = (uint8_t)(ep_out * 2);
		icc[1] = 1u | 1u << dci_in | 1u << dci_out;
		sl[0] = (uint32_t)(dci_in > dci_out ? dci_in : dci_out) << 27 | speed << 20;
		if (build_ep_ctx(in_ctx + CTX * (dci_in + 1u), 6, mps, &bulk_in) ||
		    build_ep_ctx(in_ctx + CTX * (dci_out + 1u), 2, mps, &bulk_out))
			return -7;
	}
	if (command((uint64_t)in_ctx, TYPE(T_CONFIGURE) | (uint32_t)slot_id << 24, 0))
		return -7;
	s = (struct gusb_setup){ 0x00, 9, scratch[5], 0, 0 };	/* bConfigurationValue */
	return xhci_control(&s, 0, 0) ? -8 : 0;
}

int gxhci_init(uint8_t vector, unsigned int want_class)
{
	struct pci_dev dev;
	uint64_t *dcbaa, *erst;
	unsigned int port, nports, spins;

	if (pci_find(0x1b36, 0x000d, &dev) || !dev.bar[0])
		return -1;
	base = dev.bar[0];
	op = base + (r(base) & 0xff);
	rt = base + (r(base + 0x18) & ~0x1fu);
	db = base + (r(base + 0x14) & ~3u);
	nports = r(base + 4) >> 24;
	dcbaa = guest_alloc(4096);
	erst = guest_alloc(4096);
	events = guest_alloc(4096);
	in_ctx = guest_alloc(33 * CTX);
	scratch = guest_alloc(4096);
	if (!dcbaa || !erst || !events || !in_ctx || !scratch || ring_init(&cmd))
		return -2;
	memset(dcbaa, 0, 4096);
	memset(events, 0, 4096);
	ev_idx = 0;				/* a second init in one boot starts over */
	ev_cycle = 1;
	/* Halt, reset (4.2). */
	w(op + USBCMD, 0);
	for (spins = 0; !(r(op + USBSTS) & 1); spins++)
		if (spins > 1000)
			return -3;
	w(op + USBCMD, 2);
	for (spins = 0; (r(op + USBCMD) & 2) || (r(op + USBSTS) & (1u << 11)); spins++)
		if (spins > 1000)
			return -3;
	w(op + CONFIG, 8);				/* device slots */
	w(op + DCBAAP, (uint32_t)(uint64_t)dcbaa);
	w(op + DCBAAP + 4, 0);
	w(op + CRCR, (uint32_t)(uint64_t)cmd.trb | 1);
	w(op + CRCR + 4, 0);
	erst[0] = (uint64_t)events;
	erst[1] = RING_TRBS;
	w(rt + ERSTSZ, 1);
	w(rt + ERDP, (uint32_t)(uint64_t)events);
	w(rt + ERDP + 4, 0);
	w(rt + ERSTBA, (uint32_t)(uint64_t)erst);
	w(rt + ERSTBA + 4, 0);
	if (pci_msix_enable(&dev, 0, vector))
		return -4;
	w(rt + IMAN, 2);				/* IE */
	w(op + USBCMD, 1 | 4);				/* R/S, INTE */
	for (port = 1; port <= nports; port++) {
		uint32_t sc = r(op + PORTSC(port));
		int ret;

		if (!(sc & 1))
			continue;
		if (port_reset(port))
			return -5;
		ret = setup_device(port, r(op + PORTSC(port)), want_class);
		if (ret <= 0)
			return ret;
	}
	return -6;					/* no such device attached */
}

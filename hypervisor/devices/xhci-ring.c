/*
 * The xHCI rings (see xhci.h): the command ring (4.6), transfer rings
 * (4.10, 4.11) and the event ring (4.9.4), all in guest memory and all
 * untrusted. Every TRB is copied out of guest RAM once before it is looked
 * at; an address outside RAM, a chain of link TRBs that loops or a ring
 * that never ends gets a TRB Error or halts the endpoint (counted), never
 * a host access out of bounds. A TD is gathered whole before it runs: a
 * TD the guest has not finished writing waits for the next doorbell.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/devices/xhci.h"
#include "hypervisor/kvm.h"
#include "hypervisor/usb/usb.h"
#include "lib/clock.h"

#define CTX		32		/* context size: HCCPARAMS1.CSZ = 0 */
#define TRB_LEN(t)	((t)->status & 0x1ffff)

static void *guest(struct xhci *x, uint64_t gpa, uint64_t len)
{
	void *p = kvm__gpa_to_hva(x->kvm, gpa, len);

	if (!p)
		counter__inc(x->bad_addresses);
	return p;
}

/* A serious error reaching guest memory (5.4.2 HSE): the controller halts. */
static void host_system_error(struct xhci *x)
{
	x->usbsts |= STS_HSE | STS_HCH;
	x->usbcmd &= ~CMD_RS;
}

/* --- event ring and interrupter 0 (4.9.4, 4.17) ------------------------ */

static void interrupt(struct xhci *x)
{
	bool busy = x->erdp & ERDP_EHB;

	x->erdp |= ERDP_EHB;
	x->iman |= IMAN_IP;
	x->usbsts |= STS_EINT;
	/* EHB set: the driver has not yet said it is done with the events it
	 * was told of; it is told again when it moves ERDP (interrupt_update). */
	if (busy || !(x->iman & IMAN_IE) || !(x->usbcmd & CMD_INTE))
		return;
	if (msix__notify(&x->msix, 0) == 0)
		counter__inc(x->irqs);
}

static uint64_t er_addr(const struct xhci *x, unsigned int seg, unsigned int idx)
{
	return x->erst[seg].base + 16ull * idx;
}

static void er_advance(struct xhci *x)
{
	if (++x->er_idx < x->erst[x->er_seg].size)
		return;
	x->er_idx = 0;
	if (++x->er_seg == x->nr_segs) {
		x->er_seg = 0;
		x->er_pcs = !x->er_pcs;
	}
}

static bool er_put(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
	struct xhci_trb *p = guest(x, er_addr(x, x->er_seg, x->er_idx), sizeof(*p));

	if (!p) {
		host_system_error(x);
		return false;
	}
	p->param = param;
	p->status = status;
	/* The cycle bit hands the TRB over: written last. */
	__atomic_store_n(&p->control, (control & ~TRB_C) | (x->er_pcs ? TRB_C : 0),
			 __ATOMIC_RELEASE);
	er_advance(x);
	return true;
}

void xhci__event(struct xhci *x, uint64_t param, uint32_t status, uint32_t control)
{
	unsigned int seg = x->er_seg, idx = x->er_idx + 1;

	if (!x->nr_segs || !(x->usbcmd & CMD_RS) || x->er_full) {
		counter__inc(x->events_dropped);
		return;
	}
	if (idx == x->erst[seg].size) {
		idx = 0;
		seg = (seg + 1) % x->nr_segs;
	}
	if (er_addr(x, seg, idx) == (x->erdp & ~0xfull)) {
		/* One slot left: it takes the Event Ring Full Error (4.9.4), the
		 * rest is dropped until the driver moves ERDP. */
		x->er_full = true;
		counter__inc(x->events_dropped);
		if (er_put(x, 0, (uint32_t)CC_EVENT_RING_FULL << 24, TRB_HC_EVENT << 10))
			interrupt(x);
		return;
	}
	if (!er_put(x, param, status, control))
		return;
	counter__inc(x->events);
	interrupt(x);
}

void xhci__event_ring_setup(struct xhci *x)
{
	unsigned int i, n = x->erstsz & 0xffff;
	struct { uint64_t base; uint32_t size, rsvd; } *e;

	x->nr_segs = 0;
	x->er_seg = x->er_idx = 0;
	x->er_pcs = true;
	x->er_full = false;
	if (n == 0 || n > XHCI_ERST_MAX)
		return;
	e = guest(x, x->erstba & ~0x3full, 16ull * n);
	if (!e) {
		host_system_error(x);
		return;
	}
	for (i = 0; i < n; i++) {
		uint32_t size = e[i].size & 0xffff;

		/* 6.5: 16 to 4096 TRBs, 64-byte aligned */
		if (size < 16 || size > 4096 || (e[i].base & 0x3f)) {
			counter__inc(x->trb_errors);
			return;
		}
		x->erst[i].base = e[i].base;
		x->erst[i].size = size;
	}
	x->nr_segs = n;
}

void xhci__interrupt_update(struct xhci *x)
{
	x->er_full = false;
	if (x->nr_segs && (x->erdp & ~0xfull) != er_addr(x, x->er_seg, x->er_idx))
		interrupt(x);
}

/* --- ring walking ------------------------------------------------------- */

/*
 * The next TRB the guest has handed over on ring r (cycle bit equal to the
 * consumer cycle state), link TRBs followed (4.11.5.1): 1 with *t and *at
 * filled and r at that TRB, 0 when there is none yet, -1 when the ring
 * points outside guest RAM or its links loop.
 */
static int ring_peek(struct xhci *x, struct xhci_ring *r, struct xhci_trb *t, uint64_t *at)
{
	unsigned int links = 0;

	for (;;) {
		const struct xhci_trb *g = guest(x, r->deq, sizeof(*g));

		if (!g)
			return -1;
		t->control = __atomic_load_n(&g->control, __ATOMIC_ACQUIRE);
		if (!!(t->control & TRB_C) != r->ccs)
			return 0;
		t->param = g->param;
		t->status = g->status;
		if (TRB_TYPE(t->control) != TRB_LINK) {
			*at = r->deq;
			return 1;
		}
		if (++links > XHCI_MAX_LINKS) {
			counter__inc(x->ring_loops);
			return -1;
		}
		r->deq = t->param & ~0xfull;
		if (t->control & TRB_TC)
			r->ccs = !r->ccs;
	}
}

/* --- contexts (6.2) ----------------------------------------------------- */

/* The output device context of a slot, from the DCBAA (6.1). */
static uint8_t *out_ctx(struct xhci *x, unsigned int id)
{
	const uint64_t *e = guest(x, (x->dcbaap & ~0x3full) + 8ull * id, 8);

	return e ? guest(x, *e & ~0x3full, 32 * CTX) : NULL;
}

static uint32_t ctx32(const uint8_t *ctx, unsigned int dw)
{
	uint32_t v;

	memcpy(&v, ctx + 4 * dw, 4);
	return v;
}

static void ctx_set32(uint8_t *ctx, unsigned int dw, uint32_t v)
{
	memcpy(ctx + 4 * dw, &v, 4);
}

/* Endpoint state and TR dequeue pointer back to the output context, where
 * the driver reads them after a halt or a stop (4.6.9, 4.6.10). */
static void ep_writeback(struct xhci *x, unsigned int id, unsigned int dci)
{
	uint8_t *out = out_ctx(x, id), *e;
	const struct xhci_ep *ep = &x->slot[id].ep[dci];

	if (!out)
		return;
	e = out + CTX * dci;
	ctx_set32(e, 0, (ctx32(e, 0) & ~7u) | ep->state);
	ctx_set32(e, 2, (uint32_t)ep->ring.deq | ep->ring.ccs);
	ctx_set32(e, 3, (uint32_t)(ep->ring.deq >> 32));
}

static void slot_writeback(struct xhci *x, unsigned int id, unsigned int address)
{
	uint8_t *out = out_ctx(x, id);

	if (out)
		ctx_set32(out, 3, (uint32_t)x->slot[id].state << 27 | address);
}

static void ep_from_ctx(struct xhci_ep *ep, const uint8_t *c)
{
	uint64_t deq = ctx32(c, 2) | (uint64_t)ctx32(c, 3) << 32;

	ep->type = (uint8_t)((ctx32(c, 1) >> 3) & 7);
	ep->ring.deq = deq & ~0xfull;
	ep->ring.ccs = deq & 1;
	ep->state = EP_RUNNING;
}

/* --- commands (4.6) ----------------------------------------------------- */

static struct usb_dev *slot_device(struct xhci *x, const struct xhci_slot *s)
{
	return s->port ? x->port[s->port - 1].dev : NULL;
}

static unsigned int cmd_enable_slot(struct xhci *x, unsigned int *id)
{
	unsigned int max = x->config & 0xff, i;

	for (i = 1; i <= max && i <= XHCI_MAX_SLOTS; i++)
		if (!x->slot[i].enabled) {
			memset(&x->slot[i], 0, sizeof(x->slot[i]));
			x->slot[i].enabled = true;
			*id = i;
			return CC_SUCCESS;
		}
	return CC_NO_SLOTS;
}

/* 4.6.5: slot and default control endpoint from the input context. */
static unsigned int cmd_address_device(struct xhci *x, const struct xhci_trb *t, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	bool bsr = t->control & TRB_BSR;
	const uint8_t *in = guest(x, t->param & ~0xfull, 3 * CTX);
	uint8_t icc[CTX], sctx[CTX], ep0[CTX], *out;
	unsigned int port;

	if (!in)
		return CC_TRB_ERROR;
	memcpy(icc, in, CTX);
	memcpy(sctx, in + CTX, CTX);
	memcpy(ep0, in + 2 * CTX, CTX);
	if (s->state >= SLOT_ADDRESSED || (bsr && s->state == SLOT_DEFAULT))
		return CC_CONTEXT_STATE;
	if (ctx32(icc, 0) != 0 || ctx32(icc, 1) != 3)	/* only A0 and A1 */
		return CC_PARAMETER;
	if (((ctx32(ep0, 1) >> 3) & 7) != EPT_CONTROL)
		return CC_PARAMETER;
	port = (ctx32(sctx, 1) >> 16) & 0xff;
	if (port < 1 || port > XHCI_NR_PORTS || !x->port[port - 1].dev ||
	    !(x->port[port - 1].portsc & PORTSC_PED))
		return CC_TRANSACTION;		/* nobody answers on that port */
	out = out_ctx(x, id);
	if (!out)
		return CC_PARAMETER;
	s->port = (uint8_t)port;
	s->state = bsr ? SLOT_DEFAULT : SLOT_ADDRESSED;
	ep_from_ctx(&s->ep[1], ep0);
	memcpy(out, sctx, CTX);
	memcpy(out + CTX, ep0, CTX);
	slot_writeback(x, id, bsr ? 0 : id);
	ep_writeback(x, id, 1);
	if (!bsr) {	/* the SET_ADDRESS the controller sends itself */
		struct usb_setup set = { 0, 5, (uint16_t)id, 0, 0 };

		usb__control(x->port[port - 1].dev, &set, NULL);
	}
	return CC_SUCCESS;
}

/* An endpoint context fit for DCI dci: its direction and a type we run. */
static bool ep_ctx_valid(const uint8_t *c, unsigned int dci)
{
	unsigned int type = (ctx32(c, 1) >> 3) & 7;

	if (type == 0 || type == EPT_CONTROL || type == EPT_ISOCH_OUT || type == EPT_ISOCH_IN)
		return false;
	return (dci & 1) ? type >= EPT_ISOCH_IN : type <= EPT_INT_OUT;
}

/* 4.6.6: endpoints dropped and added, all checked before any changes. */
static unsigned int cmd_configure_ep(struct xhci *x, const struct xhci_trb *t, unsigned int id)
{
	struct xhci_slot *s = &x->slot[id];
	const uint8_t *in;
	uint8_t *out;
	uint32_t drop, add;
	unsigned int i, live = 0;

	if (s->state != SLOT_ADDRESSED && s->state != SLOT_CONFIGURED)
		return CC_CONTEXT_STATE;
	out = out_ctx(x, id);
	if (!out)
		return CC_PARAMETER;
	if (t->control & TRB_DC) {
		for (i = 2; i < 32; i++) {
			s->ep[i].state = EP_DISABLED;
			ep_writeback(x, id, i);
		}
		s->state = SLOT_ADDRESSED;
		slot_writeback(x, id, id);
		return CC_SUCCESS;
	}
	in = guest(x, t->param & ~0xfull, 33 * CTX);
	if (!in)
		return CC_TRB_ERROR;
	drop = ctx32(in, 0);
	add = ctx32(in, 1);
	if ((drop & 3) || (add & 2))
		return CC_PARAMETER;
	for (i = 2; i < 32; i++)
		if ((add & (1u << i)) && !ep_ctx_valid(in + CTX * (i + 1), i))
			return CC_PARAMETER;
	for (i = 2; i < 32; i++) {
		if (drop & (1u << i))
			s->ep[i].state = EP_DISABLED;
		if (add & (1u << i)) {
			memcpy(out + CTX * i, in + CTX * (i + 1), CTX);
			ep_from_ctx(&s->ep[i], in + CTX * (i + 1));
		}
		if ((drop | add) & (1u << i))
			ep_writeback(x, id, i);
		if (s->ep[i].state != EP_DISABLED)
			live++;
	}
	if (add & 1)	/* Context Entries and the rest of the slot context */
		ctx_set32(out, 0, ctx32(in + CTX, 0));
	s->state = live ? SLOT_CONFIGURED : SLOT_ADDRESSED;
	slot_writeback(x, id, id);
	return CC_SUCCESS;
}

/* 4.6.7: max exit latency / interrupter target, EP0's max packet size. */
static unsigned int cmd_evaluate_ctx(struct xhci *x, const struct xhci_trb *t, unsigned int id)
{
	const uint8_t *in = guest(x, t->param & ~0xfull, 3 * CTX);
	uint8_t *out = out_ctx(x, id);
	uint32_t add;

	if (x->slot[id].state == SLOT_DISABLED)
		return CC_CONTEXT_STATE;
	if (!in || !out)
		return CC_TRB_ERROR;
	add = ctx32(in, 1);
	if (add & ~3u)
		return CC_PARAMETER;
	if (add & 1) {
		ctx_set32(out, 1, (ctx32(out, 1) & 0xffff0000u) | (ctx32(in + CTX, 1) & 0xffff));
		ctx_set32(out, 2, (ctx32(out, 2) & 0x003fffffu) | (ctx32(in + CTX, 2) & 0xffc00000u));
	}
	if (add & 2)
		ctx_set32(out + CTX, 1, (ctx32(out + CTX, 1) & 0xffff) |
					(ctx32(in + 2 * CTX, 1) & 0xffff0000u));
	return CC_SUCCESS;
}

static unsigned int cmd_endpoint(struct xhci *x, const struct xhci_trb *t, unsigned int id)
{
	unsigned int dci = TRB_EP(t->control), type = TRB_TYPE(t->control);
	struct xhci_ep *ep;

	if (dci < 1 || dci > 31)
		return CC_TRB_ERROR;
	ep = &x->slot[id].ep[dci];
	if (ep->state == EP_DISABLED)
		return CC_EP_NOT_ENABLED;
	switch (type) {
	case TRB_RESET_EP:		/* 4.6.8: a halted endpoint, stopped */
		if (ep->state != EP_HALTED)
			return CC_CONTEXT_STATE;
		ep->state = EP_STOPPED;
		break;
	case TRB_STOP_EP:		/* 4.6.9: nothing is in flight here */
		if (ep->state != EP_RUNNING)
			return CC_CONTEXT_STATE;
		ep->state = EP_STOPPED;
		break;
	case TRB_SET_TR_DEQ:		/* 4.6.10 */
		if (ep->state != EP_STOPPED && ep->state != EP_ERROR)
			return CC_CONTEXT_STATE;
		ep->ring.deq = t->param & ~0xfull;
		ep->ring.ccs = t->param & 1;
		break;
	}
	ep_writeback(x, id, dci);
	return CC_SUCCESS;
}

static void run_command(struct xhci *x, const struct xhci_trb *t, uint64_t at)
{
	unsigned int type = TRB_TYPE(t->control), id = TRB_SLOT(t->control), cc;
	struct xhci_slot *s = NULL;

	counter__inc(x->commands);
	if (type < TRB_ENABLE_SLOT || (type > TRB_RESET_DEVICE && type != TRB_NOOP_CMD)) {
		/* Not a command we know, or one of the optional ones (Force
		 * Event, Negotiate Bandwidth, ...): 4.6.2 TRB Error. */
		counter__inc(x->trb_errors);
		xhci__event(x, at, (uint32_t)CC_TRB_ERROR << 24, TRB_CMD_COMPLETION << 10);
		return;
	}
	if (type != TRB_ENABLE_SLOT && type != TRB_NOOP_CMD) {
		if (id < 1 || id > XHCI_MAX_SLOTS || !x->slot[id].enabled) {
			xhci__event(x, at, (uint32_t)CC_SLOT_NOT_ENABLED << 24,
				    TRB_CMD_COMPLETION << 10 | id << 24);
			return;
		}
		s = &x->slot[id];
	}
	switch (type) {
	case TRB_ENABLE_SLOT:
		id = 0;
		cc = cmd_enable_slot(x, &id);
		break;
	case TRB_DISABLE_SLOT:
		memset(s, 0, sizeof(*s));
		cc = CC_SUCCESS;
		break;
	case TRB_ADDRESS_DEVICE:
		cc = cmd_address_device(x, t, id);
		break;
	case TRB_CONFIGURE_EP:
		cc = cmd_configure_ep(x, t, id);
		break;
	case TRB_EVALUATE_CTX:
		cc = cmd_evaluate_ctx(x, t, id);
		break;
	case TRB_RESET_EP:
	case TRB_STOP_EP:
	case TRB_SET_TR_DEQ:
		cc = cmd_endpoint(x, t, id);
		break;
	case TRB_RESET_DEVICE:		/* 4.6.11: back to Default, EP0 only */
		if (s->state < SLOT_ADDRESSED) {
			cc = CC_CONTEXT_STATE;
			break;
		}
		for (unsigned int i = 2; i < 32; i++) {
			s->ep[i].state = EP_DISABLED;
			ep_writeback(x, id, i);
		}
		s->state = SLOT_DEFAULT;
		slot_writeback(x, id, 0);
		cc = CC_SUCCESS;
		break;
	default:			/* TRB_NOOP_CMD */
		cc = CC_SUCCESS;
		break;
	}
	xhci__event(x, at, cc << 24, TRB_CMD_COMPLETION << 10 | id << 24);
}

void xhci__run_commands(struct xhci *x)
{
	unsigned int steps;

	for (steps = 0; x->cmd_running && (x->usbcmd & CMD_RS); steps++) {
		struct xhci_trb t;
		uint64_t at;
		int ret;

		if (steps == XHCI_MAX_RING_STEPS) {
			counter__inc(x->ring_loops);	/* resumes at the next doorbell */
			return;
		}
		ret = ring_peek(x, &x->cmd, &t, &at);
		if (ret == 0)
			return;
		if (ret < 0) {
			host_system_error(x);
			return;
		}
		x->cmd.deq += sizeof(t);
		run_command(x, &t, at);
	}
}

/* --- transfers (4.10, 4.11.2) -------------------------------------------- */

static void transfer_event(struct xhci *x, unsigned int id, unsigned int dci, uint64_t at,
			   unsigned int cc, uint32_t residue)
{
	xhci__event(x, at, (uint32_t)cc << 24 | (residue & 0xffffff),
		    TRB_TRANSFER_EVENT << 10 | dci << 16 | id << 24);
}

/*
 * Gathers the next TD from ring *r into x->td: a control TD runs from a
 * Setup Stage to its Status Stage TRB (4.11.2.2), any other from its first
 * TRB to the first without the chain bit. Returns the TRB count, 0 when
 * the guest has not handed a whole TD over yet, -1 when the ring is bad
 * (the last entry of x->td_at, or r->deq, says where).
 */
static int td_gather(struct xhci *x, struct xhci_ring *r, bool control)
{
	unsigned int n = 0;

	for (;;) {
		struct xhci_trb *t = &x->td[n];
		int ret = ring_peek(x, r, t, &x->td_at[n]);

		if (ret <= 0)
			return ret;
		r->deq += sizeof(*t);
		n++;
		if (control ? TRB_TYPE(t->control) == TRB_STATUS
			    : !(t->control & TRB_CH) || TRB_TYPE(t->control) == TRB_NOOP)
			return (int)n;
		if (n == XHCI_MAX_TD_TRBS) {
			counter__inc(x->ring_loops);
			return -1;
		}
	}
}

/* The data TRBs td[first..last) to and from x->buf. */
static bool td_gather_data(struct xhci *x, unsigned int first, unsigned int last, uint32_t *len)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = first; i < last; i++) {
		const struct xhci_trb *t = &x->td[i];
		unsigned int type = TRB_TYPE(t->control);

		if (type != TRB_NORMAL && !(type == TRB_DATA && i == first))
			return false;
		if ((t->control & TRB_IDT) && TRB_LEN(t) > 8)
			return false;
		total += TRB_LEN(t);
	}
	if (total > XHCI_MAX_XFER)
		return false;
	*len = (uint32_t)total;
	return true;
}

static bool td_copy(struct xhci *x, unsigned int first, unsigned int last, uint32_t len, bool in)
{
	uint32_t off = 0;
	unsigned int i;

	for (i = first; i < last && off < len; i++) {
		struct xhci_trb *t = &x->td[i];
		uint32_t n = TRB_LEN(t) < len - off ? TRB_LEN(t) : len - off;
		void *p;

		if (t->control & TRB_IDT) {
			if (in)
				return false;	/* 6.4.1.1: IDT is for OUT data only */
			memcpy(x->buf + off, &t->param, n);
		} else {
			p = n ? guest(x, t->param, n) : NULL;
			if (n && !p)
				return false;
			if (in)
				memcpy(p, x->buf + off, n);
			else if (n)
				memcpy(x->buf + off, p, n);
		}
		off += n;
	}
	return true;
}

/*
 * Events for the data TRBs td[first..last) after `done` bytes of `len`
 * moved: a Short Packet event where the data ran out when that TRB asks for
 * it (ISP) or interrupts anyway (IOC), then nothing more of this TD's data
 * (4.10.1.1); Success events on the IOC TRBs otherwise.
 */
static void data_events(struct xhci *x, unsigned int id, unsigned int dci, unsigned int first,
			unsigned int last, uint32_t done)
{
	uint32_t off = 0;
	unsigned int i;

	for (i = first; i < last; i++) {
		const struct xhci_trb *t = &x->td[i];
		uint32_t len = TRB_LEN(t);

		if (done < off + len) {
			uint32_t got = done > off ? done - off : 0;

			counter__inc(x->short_packets);
			if (t->control & (TRB_ISP | TRB_IOC))
				transfer_event(x, id, dci, x->td_at[i], CC_SHORT_PACKET, len - got);
			return;
		}
		if (t->control & TRB_IOC)
			transfer_event(x, id, dci, x->td_at[i], CC_SUCCESS, 0);
		off += len;
	}
}

/* A control TD (4.11.2.2): Setup, optional Data (+ Normal), Status. */
static int run_control(struct xhci *x, struct usb_dev *d, unsigned int id, unsigned int n)
{
	const struct xhci_trb *setup = &x->td[0], *status = &x->td[n - 1];
	struct usb_setup s;
	uint32_t len = 0;
	bool in;
	int ret;

	if (n < 2 || TRB_TYPE(setup->control) != TRB_SETUP || !(setup->control & TRB_IDT) ||
	    TRB_LEN(setup) != 8 || !td_gather_data(x, 1, n - 1, &len) || len > USB_MAX_CONTROL) {
		counter__inc(x->trb_errors);
		transfer_event(x, id, 1, x->td_at[n - 1], CC_TRB_ERROR, 0);
		return 0;
	}
	memcpy(&s, &setup->param, sizeof(s));
	in = s.bmRequestType & USB_DIR_IN;
	if (s.wLength > len)
		s.wLength = (uint16_t)len;	/* never past the guest's buffers */
	if (!in && !td_copy(x, 1, n - 1, len, false))
		goto bad_buffer;
	ret = usb__control(d, &s, x->buf);
	if (ret < 0) {
		counter__inc(x->stalls);
		return -EPIPE;
	}
	if (in) {
		len = (uint32_t)ret < len ? (uint32_t)ret : len;
		if (!td_copy(x, 1, n - 1, len, true))
			goto bad_buffer;
		counter__add(x->bytes_in, len);
	} else {
		counter__add(x->bytes_out, len);
	}
	data_events(x, id, 1, 1, n - 1, len);
	if (status->control & TRB_IOC)
		transfer_event(x, id, 1, x->td_at[n - 1], CC_SUCCESS, 0);
	return 0;
bad_buffer:
	counter__inc(x->trb_errors);
	transfer_event(x, id, 1, x->td_at[n - 1], CC_TRB_ERROR, 0);
	return 0;
}

/* A bulk or interrupt TD (4.10.1): its Normal TRBs as one transfer. */
static int run_data(struct xhci *x, struct usb_dev *d, unsigned int id, unsigned int dci,
		    unsigned int n)
{
	bool in = dci & 1;
	uint32_t len;
	int ret;

	if (n == 1 && TRB_TYPE(x->td[0].control) == TRB_NOOP) {	/* 6.4.1.4 */
		if (x->td[0].control & TRB_IOC)
			transfer_event(x, id, dci, x->td_at[0], CC_SUCCESS, 0);
		return 0;
	}
	if (!td_gather_data(x, 0, n, &len) || (!in && !td_copy(x, 0, n, len, false))) {
		counter__inc(x->trb_errors);
		transfer_event(x, id, dci, x->td_at[n - 1], CC_TRB_ERROR, 0);
		return 0;
	}
	ret = usb__transfer(d, dci / 2, in, x->buf, len);
	if (ret == -EAGAIN)
		return -EAGAIN;		/* NAK: the TD waits on the ring */
	if (ret < 0) {
		counter__inc(x->stalls);
		return -EPIPE;
	}
	if (in) {
		len = (uint32_t)ret < len ? (uint32_t)ret : len;
		if (!td_copy(x, 0, n, len, true)) {
			counter__inc(x->trb_errors);
			transfer_event(x, id, dci, x->td_at[n - 1], CC_TRB_ERROR, 0);
			return 0;
		}
		counter__add(x->bytes_in, len);
	} else {
		counter__add(x->bytes_out, len);
	}
	data_events(x, id, dci, 0, n, len);
	return 0;
}

void xhci__run_endpoint(struct xhci *x, unsigned int id, unsigned int dci)
{
	struct xhci_slot *s;
	struct xhci_ep *ep;
	struct usb_dev *d;
	unsigned int steps;

	if (id < 1 || id > XHCI_MAX_SLOTS || dci < 1 || dci > 31 || !(x->usbcmd & CMD_RS))
		return;
	s = &x->slot[id];
	ep = &s->ep[dci];
	d = slot_device(x, s);
	if (!s->enabled || !d)
		return;
	/* 4.6.9: a doorbell restarts a stopped endpoint; a halted or
	 * disabled one ignores it. */
	if (ep->state == EP_STOPPED)
		ep->state = EP_RUNNING;
	if (ep->state != EP_RUNNING)
		return;
	for (steps = 0; steps < XHCI_MAX_RING_STEPS; steps++) {
		struct xhci_ring cur = ep->ring;
		uint64_t t0 = now_ns();
		int n = td_gather(x, &cur, dci == 1), ret;

		if (n == 0)
			break;
		if (n < 0) {
			/* Unreadable or looping: halt, say where (6.4.2.1). */
			ep->state = EP_HALTED;
			counter__inc(x->trb_errors);
			transfer_event(x, id, dci, cur.deq, CC_TRB_ERROR, 0);
			break;
		}
		counter__inc(x->tds);
		ret = dci == 1 ? run_control(x, d, id, (unsigned int)n)
			       : run_data(x, d, id, dci, (unsigned int)n);
		if (ret == -EAGAIN)
			break;
		if (ret == -EPIPE) {
			/* STALL: the endpoint halts with the dequeue pointer on
			 * the TD (4.10.2.1); the driver resets it and moves on. */
			ep->state = EP_HALTED;
			transfer_event(x, id, dci, x->td_at[n > 1 && dci == 1 ? 1 : 0], CC_STALL, 0);
			break;
		}
		ep->ring = cur;
		latency__record(x->td_ns, now_ns() - t0);
	}
	if (steps == XHCI_MAX_RING_STEPS)
		counter__inc(x->ring_loops);	/* resumes at the next doorbell */
	ep_writeback(x, id, dci);
}

void xhci__slots_reset(struct xhci *x)
{
	memset(x->slot, 0, sizeof(x->slot));
}

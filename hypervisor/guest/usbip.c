/*
 * The probe guest's USB/IP channel driver: the paravirtual USB path. URBs
 * travel as the USB/IP protocol's own messages (big-endian headers, as
 * Linux's vhci-hcd sends them over TCP) on the VMM's virtqueue pair
 * (devices/virtio-usbip.c): an import on the control queue, then one
 * chain per URB, header and OUT data out, RET_SUBMIT and IN data back.
 */
#include "hypervisor/guest/usb.h"
#include "hypervisor/guest/virtio.h"

#define VUSBIP_TYPE	63
#define HDR		48
#define WAIT_SPINS	100		/* hlt wakeups: the caller's 100 ms watchdog ticks */
#define EPIPE		32

static struct gvirtio uv;
static uint8_t *hdr_out, *hdr_in, *op;
static uint32_t seq;
static uint8_t ep_in, ep_out, ep_intr;

static void put32(uint8_t *p, uint32_t v) { *(uint32_t *)p = __builtin_bswap32(v); }
static uint32_t get32(const uint8_t *p) { return __builtin_bswap32(*(const uint32_t *)p); }

static int wait_used(struct gvq *q, uint32_t *len)
{
	unsigned int spins = 0;

	while (gvirtio_used(q, len) < 0) {
		if (++spins > WAIT_SPINS)
			return -1;
		if (uv.msix)
			asm volatile("sti; hlt; cli" ::: "memory");
	}
	return 0;
}

static int urb(unsigned int ep, int in, const void *setup, void *buf, uint32_t len,
	       uint32_t *actual)
{
	struct gvq *q = &uv.q[1];
	uint16_t d = 0;
	uint32_t used;
	int32_t status;

	memset(hdr_out, 0, HDR);
	put32(hdr_out, 1);				/* USBIP_CMD_SUBMIT */
	put32(hdr_out + 4, ++seq);
	put32(hdr_out + 8, 1u << 16 | 2);		/* busnum 1, devnum 2 */
	put32(hdr_out + 12, in ? 1 : 0);
	put32(hdr_out + 16, ep);
	put32(hdr_out + 24, len);
	put32(hdr_out + 32, 0xffffffffu);		/* not isochronous */
	if (setup)
		memcpy(hdr_out + 40, setup, 8);
	q->desc[d] = (struct vq_desc){ (uint64_t)hdr_out, HDR, VQ_F_NEXT, (uint16_t)(d + 1) };
	d++;
	if (!in && len) {
		q->desc[d] = (struct vq_desc){ (uint64_t)buf, len, VQ_F_NEXT, (uint16_t)(d + 1) };
		d++;
	}
	q->desc[d] = (struct vq_desc){ (uint64_t)hdr_in, HDR,
				       (uint16_t)(VQ_F_WRITE | (in && len ? VQ_F_NEXT : 0)),
				       (uint16_t)(d + 1) };
	if (in && len)
		q->desc[d + 1] = (struct vq_desc){ (uint64_t)buf, len, VQ_F_WRITE, 0 };
	gvirtio_submit(q, 0, 0);
	if (wait_used(q, &used) || used < HDR || get32(hdr_in) != 3 || get32(hdr_in + 4) != seq)
		return -1;
	status = (int32_t)get32(hdr_in + 20);
	if (status == -EPIPE)
		return GUSB_STALL;
	if (status)
		return -3;
	if (actual)
		*actual = get32(hdr_in + 24);
	return 0;
}

static int usbip_control(const struct gusb_setup *s, void *buf, uint32_t *actual)
{
	return urb(0, s->type & 0x80, s, buf, s->length, actual);
}

static int usbip_bulk(int in, void *buf, uint32_t len, uint32_t *actual)
{
	return urb(in ? ep_in : ep_out, in, 0, buf, len, actual);
}

/* No host controller state to reset: CLEAR_FEATURE(ENDPOINT_HALT) only. */
static int usbip_clear_halt(int in)
{
	struct gusb_setup s = { 0x02, 1, 0, (uint16_t)(in ? 0x80 | ep_in : ep_out), 0 };

	return usbip_control(&s, 0, 0);
}

/* The URB waits in the VMM until the keyboard has a report. */
static int usbip_intr_in(void *buf, uint32_t len, uint32_t *actual)
{
	return urb(ep_intr, 1, 0, buf, len, actual);
}

const struct gusb_hc gusbip_hc = { "usbip", usbip_control, usbip_bulk, usbip_clear_halt,
				   usbip_intr_in };

int gusbip_init(uint8_t vector, const char *busid)
{
	struct gvq *q;
	struct gusb_setup s;
	uint8_t *cfg;
	uint32_t used, got;
	unsigned int in, out;

	if (gvirtio_init(&uv, VUSBIP_TYPE, 0, 2, 64, vector))
		return -1;
	hdr_out = guest_alloc(4096);
	op = guest_alloc(4096);
	cfg = guest_alloc(4096);
	if (!hdr_out || !op || !cfg)
		return -2;
	hdr_in = hdr_out + 64;
	/* OP_REQ_IMPORT of bus id 1-1; the reply carries the device. */
	q = &uv.q[0];
	memset(op, 0, 512);
	op[0] = 0x01;
	op[1] = 0x11;
	op[2] = 0x80;
	op[3] = 0x03;
	memcpy(op + 8, busid, strlen(busid) + 1);
	q->desc[0] = (struct vq_desc){ (uint64_t)op, 40, VQ_F_NEXT, 1 };
	q->desc[1] = (struct vq_desc){ (uint64_t)op + 64, 8 + 312, VQ_F_WRITE, 0 };
	gvirtio_submit(q, 0, 0);
	if (wait_used(q, &used) || used != 8 + 312 || get32(op + 64 + 4) != 0)
		return -3;
	s = (struct gusb_setup){ 0x80, 6, 0x0200, 0, 255 };
	if (usbip_control(&s, cfg, &got) || got < 18)
		return -4;
	if (cfg[9 + 5] == 3) {				/* HID */
		if (gusb_find_ep(cfg, got, 3, 1, &in, 0, 0))
			return -4;
		ep_intr = (uint8_t)in;
	} else {
		if (gusb_find_bulk(cfg, got, &in, &out))
			return -4;
		ep_in = (uint8_t)in;
		ep_out = (uint8_t)out;
	}
	s = (struct gusb_setup){ 0x00, 9, cfg[5], 0, 0 };	/* SET_CONFIGURATION */
	return usbip_control(&s, 0, 0) ? -5 : 0;
}

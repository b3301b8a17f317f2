/*
 * The probe guest's USB mass-storage driver: Bulk-Only Transport (USB MSC
 * BOT 1.0) carrying SCSI commands, three transfers per command as Linux's
 * usb-storage does them (CBW out, data, CSW in), each waited for, over
 * whichever host side it is given (xHCI or the USB/IP channel).
 */
#include "hypervisor/guest/usb.h"

#define CBW_SIG		0x43425355u	/* "USBC", 5.1 */
#define CSW_SIG		0x53425355u	/* "USBS", 5.2 */
#define BLOCK		512

struct cbw {
	uint32_t sig, tag, length;
	uint8_t flags, lun, cb_len, cb[16];
} __attribute__((packed));

struct csw {
	uint32_t sig, tag, residue;
	uint8_t status;
} __attribute__((packed));

static const struct gusb_hc *hc;
static struct cbw *cbw;
static struct csw *csw;
static uint32_t tag;

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The CSW, once more after a STALL on its first read (5.3.3). */
static int read_csw(void)
{
	uint32_t got = 0;
	int ret = hc->bulk(1, csw, sizeof(*csw), &got);

	if (ret == GUSB_STALL) {
		if (hc->clear_halt(1))
			return -1;
		ret = hc->bulk(1, csw, sizeof(*csw), &got);
	}
	if (ret || got != sizeof(*csw) || csw->sig != CSW_SIG || csw->tag != tag)
		return -1;
	return csw->status;
}

/* One command: 0, >0 the CSW status (1 failed, 2 phase error), <0 the
 * transport failed. */
static int bot_command(const uint8_t *cb, unsigned int cb_len, int in, void *buf, uint32_t len)
{
	uint32_t got = 0;
	int ret;

	memset(cbw, 0, sizeof(*cbw));
	cbw->sig = CBW_SIG;
	cbw->tag = ++tag;
	cbw->length = len;
	cbw->flags = in ? 0x80 : 0;
	cbw->cb_len = (uint8_t)cb_len;
	memcpy(cbw->cb, cb, cb_len);
	if (hc->bulk(0, cbw, sizeof(*cbw), &got) || got != sizeof(*cbw))
		return -1;
	if (len) {
		ret = hc->bulk(in, buf, len, &got);
		if (ret == GUSB_STALL) {	/* 6.7.2: the data stage ends early */
			if (hc->clear_halt(in))
				return -1;
		} else if (ret) {
			return -1;
		}
	}
	return read_csw();
}

int gusb_find_ep(const uint8_t *cfg, unsigned int len, unsigned int type, int in,
		 unsigned int *ep, unsigned int *mps, unsigned int *interval)
{
	unsigned int i;

	for (i = 0; i + 7 <= len && cfg[i] >= 2; i += cfg[i])
		if (cfg[i + 1] == 5 && (cfg[i + 3] & 3) == type && !(cfg[i + 2] & 0x80) == !in) {
			*ep = cfg[i + 2] & 15;
			if (mps)
				*mps = (unsigned int)(cfg[i + 4] | cfg[i + 5] << 8) & 0x7ff;
			if (interval)
				*interval = cfg[i + 6];
			return 0;
		}
	return -1;
}

int gusb_find_bulk(const uint8_t *cfg, unsigned int len, unsigned int *ep_in,
		   unsigned int *ep_out)
{
	if (gusb_find_ep(cfg, len, 2, 1, ep_in, 0, 0) || gusb_find_ep(cfg, len, 2, 0, ep_out, 0, 0))
		return -1;
	return 0;
}

int gbot_rw(int write, uint64_t lba, uint32_t blocks, void *buf, uint32_t bytes)
{
	uint8_t cb[10] = { write ? 0x2a : 0x28, 0, (uint8_t)(lba >> 24), (uint8_t)(lba >> 16),
			   (uint8_t)(lba >> 8), (uint8_t)lba, 0, (uint8_t)(blocks >> 8),
			   (uint8_t)blocks, 0 };

	return bot_command(cb, 10, !write, buf, bytes);
}

int gbot_init(const struct gusb_hc *h, uint64_t *capacity)
{
	static const uint8_t inquiry[6] = { 0x12, 0, 0, 0, 36, 0 };
	static const uint8_t tur[6] = { 0 };
	static const uint8_t capacity10[10] = { 0x25 };
	uint8_t *data = guest_alloc(4096);
	int i;

	hc = h;
	cbw = guest_alloc(4096);
	csw = (struct csw *)((uint8_t *)cbw + 64);
	if (!cbw || !data)
		return -1;
	if (bot_command(inquiry, 6, 1, data, 36))
		return -2;
	/* A disk may report a unit attention first: ask again, as sd does. */
	for (i = 0; i < 3 && bot_command(tur, 6, 0, 0, 0); i++)
		;
	if (bot_command(capacity10, 10, 1, data, 8) || be32(data + 4) != BLOCK)
		return -3;
	*capacity = ((uint64_t)be32(data) + 1) * BLOCK;
	return 0;
}

/*
 * USB mass storage, Bulk-Only Transport (USB MSC BOT 1.0) with the SCSI
 * commands Linux's usb-storage sends (SPC-4, SBC-3): TEST UNIT READY,
 * REQUEST SENSE, INQUIRY, MODE SENSE (6/10), START STOP UNIT, PREVENT
 * ALLOW MEDIUM REMOVAL, READ CAPACITY (10/16), READ and WRITE (10/16),
 * SYNCHRONIZE CACHE (10). Data goes through the shared block backend
 * (the synchronous engine: the caller's thread does the I/O).
 *
 * The host is untrusted: a CBW with a bad signature, length or LUN halts
 * both bulk endpoints until a reset (BOT 6.6.1); a command beyond the
 * disk, longer than the host asked for or in the wrong direction ends with
 * CHECK CONDITION or a phase error and a sense key; a transfer longer
 * than STORAGE_MAX_XFER is refused before anything is allocated.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor/backends/blk.h"
#include "hypervisor/usb/usb.h"

#define EP_IN		1
#define EP_OUT		2
#define BLOCK		512
#define CBW_LEN		31
#define CSW_LEN		13
#define CBW_SIG		0x43425355u	/* "USBC" */
#define CSW_SIG		0x53425355u	/* "USBS" */
#define STORAGE_MAX_XFER (1u << 20)
#define REQ_GET_MAX_LUN	0xfe
#define REQ_BOT_RESET	0xff

enum bot_state { BOT_CBW, BOT_DATA_IN, BOT_DATA_OUT, BOT_CSW };
enum csw_status { CSW_PASSED = 0, CSW_FAILED = 1, CSW_PHASE = 2 };

/* Sense keys and codes (SPC-4 4.5.6) */
#define SENSE_NONE		0x0
#define SENSE_MEDIUM_ERROR	0x3
#define SENSE_ILLEGAL		0x5
#define ASC_INVALID_OPCODE	0x20
#define ASC_LBA_RANGE		0x21
#define ASC_INVALID_FIELD	0x24
#define ASC_READ_ERROR		0x11

struct storage {
	struct usb_dev dev;
	struct blk_backend *b;
	enum bot_state state;
	uint32_t tag, expected;
	bool host_in;			/* the CBW's direction */
	uint8_t status;			/* for the CSW */
	uint8_t *buf;			/* data phase */
	uint32_t len, pos;		/* bytes of buf the command has, moved so far */
	bool stall_data;		/* the data stage stalls (phase error) */
	uint8_t cdb[16];
	uint8_t sense_key, asc;
	uint64_t reads, writes, bad_cbws, check_conditions;
};

static const uint8_t device_desc[18] = {
	18, 1, 0x00, 0x02,		/* bcdUSB 2.00 */
	0, 0, 0, 64,			/* class per interface, EP0 64 bytes */
	0x34, 0x12, 0x06, 0x71,		/* 1234:7106 (unofficial test IDs) */
	0x00, 0x01, 1, 2, 3, 1,		/* bcdDevice 1.00, strings, 1 config */
};

static const uint8_t config_desc[32] = {
	9, 2, 32, 0, 1, 1, 0, 0x80, 50,			/* bus powered, 100 mA */
	9, 4, 0, 0, 2, 0x08, 0x06, 0x50, 0,		/* mass storage, SCSI, BOT */
	7, 5, 0x80 | EP_IN, 2, 0x00, 0x02, 0,		/* bulk IN, 512 */
	7, 5, EP_OUT, 2, 0x00, 0x02, 0,			/* bulk OUT, 512 */
};

static const char *const strings[] = { "vioscope", "vioscope USB storage", "VIOSCOPE0001" };

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }
static uint64_t be64(const uint8_t *p) { return (uint64_t)be32(p) << 32 | be32(p + 4); }
static void put_be32(uint8_t *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v; }
static void put_be64(uint8_t *p, uint64_t v) { put_be32(p, v >> 32); put_be32(p + 4, (uint32_t)v); }

static struct storage *to_storage(struct usb_dev *d) { return d->priv; }

static void blk_done(struct blk_req *req, int res)
{
	*(int *)req->opaque = res;
}

/* One synchronous request on the backend: bytes, or -errno. */
static int blk_io(struct storage *s, enum blk_op op, uint64_t off, void *buf, uint32_t len)
{
	struct iovec iov = { buf, len };
	int res = -EIO;
	struct blk_req req = { .op = op, .offset = off, .iov = &iov, .iovcnt = 1, .len = len,
			       .done = blk_done, .opaque = &res };

	if (blk__submit(s->b, &req))
		return -EIO;
	return res;
}

static void check_condition(struct storage *s, uint8_t key, uint8_t asc)
{
	s->status = CSW_FAILED;
	s->sense_key = key;
	s->asc = asc;
	s->check_conditions++;
}

/* Data the command returns: at most what the host asked for. */
static void reply(struct storage *s, const void *data, uint32_t len)
{
	s->len = len < s->expected ? len : s->expected;
	memcpy(s->buf, data, s->len);
}

/* The block range of a READ/WRITE (10 or 16), checked against the disk
 * and the host's transfer length; false after setting the sense. */
static bool rw_range(struct storage *s, uint64_t *lba, uint32_t *blocks)
{
	bool sixteen = s->cdb[0] == 0x88 || s->cdb[0] == 0x8a;
	uint64_t nblocks = s->b->size / BLOCK;

	*lba = sixteen ? be64(s->cdb + 2) : be32(s->cdb + 2);
	*blocks = sixteen ? be32(s->cdb + 10) : (uint32_t)(s->cdb[7] << 8 | s->cdb[8]);
	if (*lba > nblocks || *blocks > nblocks - *lba) {
		check_condition(s, SENSE_ILLEGAL, ASC_LBA_RANGE);
		return false;
	}
	if ((uint64_t)*blocks * BLOCK > s->expected) {
		s->status = CSW_PHASE;	/* BOT 6.7: the device wants more than the host */
		return false;
	}
	return true;
}

/* A command that moves data from the host (WRITE) runs once it is all in. */
static void finish_write(struct storage *s)
{
	uint64_t lba;
	uint32_t blocks;

	if (!rw_range(s, &lba, &blocks))
		return;
	if (blk_io(s, BLK_WRITE, lba * BLOCK, s->buf, blocks * BLOCK) != (int)(blocks * BLOCK))
		check_condition(s, SENSE_MEDIUM_ERROR, 0x0c);	/* write error */
	s->writes++;
}

/* Runs a CBW's command; data IN commands fill s->buf. */
static void scsi(struct storage *s)
{
	uint64_t nblocks = s->b->size / BLOCK;
	uint8_t d[36] = { 0 };

	s->status = CSW_PASSED;
	switch (s->cdb[0]) {
	case 0x00:	/* TEST UNIT READY */
	case 0x1b:	/* START STOP UNIT */
	case 0x1e:	/* PREVENT ALLOW MEDIUM REMOVAL */
	case 0x35:	/* SYNCHRONIZE CACHE (10) */
		if (s->cdb[0] == 0x35 && blk_io(s, BLK_FLUSH, 0, NULL, 0) < 0)
			check_condition(s, SENSE_MEDIUM_ERROR, 0x0c);
		return;
	case 0x03:	/* REQUEST SENSE: fixed format (SPC-4 4.5.3) */
		d[0] = 0x70;
		d[2] = s->sense_key;
		d[7] = 10;
		d[12] = s->asc;
		reply(s, d, 18);
		s->sense_key = SENSE_NONE;
		s->asc = 0;
		return;
	case 0x12:	/* INQUIRY, standard data (SPC-4 6.6.2) */
		if (s->cdb[1] & 1) {		/* no vital product data pages */
			check_condition(s, SENSE_ILLEGAL, ASC_INVALID_FIELD);
			return;
		}
		d[0] = 0x00;		/* direct access block device */
		d[2] = 0x06;		/* SPC-4 */
		d[3] = 0x02;
		d[4] = 31;
		memcpy(d + 8, "VIOSCOPE", 8);
		memcpy(d + 16, "USB STORAGE     ", 16);
		memcpy(d + 32, "1.0 ", 4);
		reply(s, d, 36);
		return;
	case 0x1a:	/* MODE SENSE (6): no pages, not write protected */
		d[0] = 3;
		reply(s, d, 4);
		return;
	case 0x5a:	/* MODE SENSE (10) */
		d[1] = 6;
		reply(s, d, 8);
		return;
	case 0x25:	/* READ CAPACITY (10) */
		put_be32(d, nblocks - 1 > 0xfffffffeULL ? 0xffffffffu : (uint32_t)(nblocks - 1));
		put_be32(d + 4, BLOCK);
		reply(s, d, 8);
		return;
	case 0x9e:	/* SERVICE ACTION IN: READ CAPACITY (16) */
		if ((s->cdb[1] & 0x1f) != 0x10)
			break;
		put_be64(d, nblocks - 1);
		put_be32(d + 8, BLOCK);
		reply(s, d, 32);
		return;
	case 0x28:	/* READ (10) */
	case 0x88: {	/* READ (16) */
		uint64_t lba;
		uint32_t blocks;

		if (!rw_range(s, &lba, &blocks))
			return;
		if (blk_io(s, BLK_READ, lba * BLOCK, s->buf, blocks * BLOCK) != (int)(blocks * BLOCK)) {
			check_condition(s, SENSE_MEDIUM_ERROR, ASC_READ_ERROR);
			return;
		}
		s->len = blocks * BLOCK;
		s->reads++;
		return;
	}
	case 0x2a:	/* WRITE (10), WRITE (16): after the data phase */
	case 0x8a:
		return;
	}
	check_condition(s, SENSE_ILLEGAL, ASC_INVALID_OPCODE);
}

static bool is_write(const struct storage *s)
{
	return s->cdb[0] == 0x2a || s->cdb[0] == 0x8a;
}

/* A Command Block Wrapper (BOT 5.1): checked, then the command runs. */
static int take_cbw(struct storage *s, const uint8_t *buf, uint32_t len)
{
	uint8_t cblen;

	if (len != CBW_LEN || (uint32_t)(buf[0] | buf[1] << 8 | buf[2] << 16 | (uint32_t)buf[3] << 24) != CBW_SIG ||
	    (buf[13] & 0x0f) != 0 || (cblen = buf[14] & 0x1f) == 0 || cblen > 16) {
		/* BOT 6.6.1: not a valid CBW: both bulk endpoints halt until a
		 * Bulk-Only Mass Storage Reset. */
		s->bad_cbws++;
		usb__halt(&s->dev, EP_IN, true);
		usb__halt(&s->dev, EP_OUT, false);
		return -EPIPE;
	}
	memcpy(&s->tag, buf + 4, 4);
	memcpy(&s->expected, buf + 8, 4);
	s->host_in = buf[12] & 0x80;
	memset(s->cdb, 0, sizeof(s->cdb));
	memcpy(s->cdb, buf + 15, cblen);
	s->len = s->pos = 0;
	s->stall_data = false;
	if (s->expected > STORAGE_MAX_XFER) {
		/* More than we buffer: a phase error, nothing moves; the data
		 * stage stalls (BOT 6.7), the host clears it and reads the CSW. */
		s->status = CSW_PHASE;
		s->stall_data = true;
		s->state = s->host_in ? BOT_DATA_IN : BOT_DATA_OUT;
		return (int)len;
	}
	if (is_write(s)) {
		s->status = CSW_PASSED;
		if (!s->host_in && s->expected) {
			s->state = BOT_DATA_OUT;
			return (int)len;
		}
		s->status = CSW_PHASE;		/* a write without data out */
	} else {
		scsi(s);
		if (s->len && !s->host_in)
			s->status = CSW_PHASE;	/* data for a host that sends */
	}
	s->state = s->expected ? (s->host_in ? BOT_DATA_IN : BOT_DATA_OUT) : BOT_CSW;
	if (s->status != CSW_PASSED)
		s->len = 0;
	return (int)len;
}

static int storage_transfer(struct usb_dev *d, unsigned int ep, bool in, uint8_t *buf,
			    uint32_t len)
{
	struct storage *s = to_storage(d);
	uint32_t n;

	if (in != (ep == EP_IN) || (ep != EP_IN && ep != EP_OUT))
		return -EPIPE;
	if (s->stall_data && (s->state == BOT_DATA_IN || s->state == BOT_DATA_OUT)) {
		s->stall_data = false;
		s->state = BOT_CSW;
		usb__halt(d, ep, in);
		return -EPIPE;
	}
	switch (s->state) {
	case BOT_CBW:
		if (in)
			return -EPIPE;
		return take_cbw(s, buf, len);
	case BOT_DATA_OUT:
		if (in)
			return -EPIPE;
		n = s->expected - s->pos < len ? s->expected - s->pos : len;
		if (is_write(s) && s->status == CSW_PASSED)
			memcpy(s->buf + s->pos, buf, n);
		s->pos += n;
		if (s->pos == s->expected) {
			if (is_write(s) && s->status == CSW_PASSED)
				finish_write(s);
			s->state = BOT_CSW;
		}
		return (int)n;
	case BOT_DATA_IN:
		if (!in)
			return -EPIPE;
		/* Short data ends the phase with a short packet (BOT 6.7.2). */
		n = s->len - s->pos < len ? s->len - s->pos : len;
		memcpy(buf, s->buf + s->pos, n);
		s->pos += n;
		if (s->pos == s->len || n < len)
			s->state = BOT_CSW;
		return (int)n;
	case BOT_CSW: {
		/* dCSWDataResidue: what the host asked for and did not move. */
		uint32_t residue = s->expected - (s->pos < s->expected ? s->pos : s->expected);

		if (!in || len < CSW_LEN)
			return -EPIPE;
		memcpy(buf, (const uint8_t[]){ 0x55, 0x53, 0x42, 0x53 }, 4);
		memcpy(buf + 4, &s->tag, 4);
		memcpy(buf + 8, &residue, 4);
		buf[12] = s->status;
		s->state = BOT_CBW;
		return CSW_LEN;
	}
	}
	return -EPIPE;
}

/* Class requests (BOT 3.1, 3.2). */
static int storage_control(struct usb_dev *d, const struct usb_setup *su, uint8_t *data)
{
	struct storage *s = to_storage(d);

	if ((su->bmRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS)
		return -EPIPE;
	if (su->bRequest == REQ_GET_MAX_LUN && su->wLength >= 1) {
		data[0] = 0;		/* one LUN */
		return 1;
	}
	if (su->bRequest == REQ_BOT_RESET) {
		s->state = BOT_CBW;
		return 0;
	}
	return -EPIPE;
}

static void storage_reset(struct usb_dev *d)
{
	to_storage(d)->state = BOT_CBW;
}

static void storage_destroy(struct usb_dev *d)
{
	struct storage *s = to_storage(d);

	blk__close(s->b);
	free(s->buf);
	free(s);
}

static const struct usb_dev_ops storage_ops = {
	.name = "usb-storage",
	.control = storage_control,
	.transfer = storage_transfer,
	.reset = storage_reset,
	.destroy = storage_destroy,
};

struct usb_dev *usb_storage__new(const char *path, uint64_t create_size, char *why,
				 size_t why_len)
{
	struct storage *s = calloc(1, sizeof(*s));

	if (!s || !(s->buf = malloc(STORAGE_MAX_XFER))) {
		snprintf(why, why_len, "out of memory");
		free(s);
		return NULL;
	}
	s->b = blk__open(path, create_size, false, "sync", 1);
	if (!s->b) {
		snprintf(why, why_len, "%s: cannot open the image", path);
		free(s->buf);
		free(s);
		return NULL;
	}
	s->dev = (struct usb_dev){ .ops = &storage_ops, .device_desc = device_desc,
		.config_desc = config_desc, .config_len = sizeof(config_desc), .strings = strings,
		.nr_strings = 3, .speed = USB_SPEED_HIGH, .priv = s };
	return &s->dev;
}

struct blk_backend *usb_storage__backend(struct usb_dev *d)
{
	return d->ops == &storage_ops ? ((struct storage *)d->priv)->b : NULL;
}

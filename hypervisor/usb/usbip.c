/* The USB/IP server side (see usbip.h). */
#include "hypervisor/usb/usbip.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/usb/usb.h"

#define BUSNUM	1
#define DEVNUM	2

static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return ntohl(v); }
static void put32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); }
static void put16(uint8_t *p, uint16_t v) { v = htons(v); memcpy(p, &v, 2); }

int usbip__parse_cmd(const uint8_t hdr[USBIP_HDR_LEN], struct usbip_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->command = get32(hdr);
	c->seqnum = get32(hdr + 4);
	c->devid = get32(hdr + 8);
	c->direction = get32(hdr + 12);
	c->ep = get32(hdr + 16);
	if (c->command == USBIP_CMD_UNLINK) {
		c->unlink_seqnum = get32(hdr + 20);
		return 0;
	}
	if (c->command != USBIP_CMD_SUBMIT)
		return -USBIP_ERR_COMMAND;
	if (c->direction != USBIP_DIR_OUT && c->direction != USBIP_DIR_IN)
		return -USBIP_ERR_DIRECTION;
	if (c->ep > 15)
		return -USBIP_ERR_ENDPOINT;
	c->flags = get32(hdr + 20);
	c->length = get32(hdr + 24);
	c->start_frame = (int32_t)get32(hdr + 28);
	c->npackets = (int32_t)get32(hdr + 32);
	c->interval = (int32_t)get32(hdr + 36);
	memcpy(c->setup, hdr + 40, 8);
	if (c->length > USBIP_MAX_BUFFER)	/* also every negative s32 */
		return -USBIP_ERR_LENGTH;
	/* Non-isochronous URBs carry 0 or -1 (0xffffffff) packets. */
	if (c->npackets != 0 && c->npackets != -1)
		return -USBIP_ERR_ISO;
	return 0;
}

void usbip__ret_submit(uint8_t hdr[USBIP_HDR_LEN], uint32_t seqnum, int32_t status,
		       uint32_t actual)
{
	memset(hdr, 0, USBIP_HDR_LEN);
	put32(hdr, USBIP_RET_SUBMIT);
	put32(hdr + 4, seqnum);
	put32(hdr + 20, (uint32_t)status);
	put32(hdr + 24, actual);
	put32(hdr + 32, 0xffffffffu);	/* number_of_packets: not isochronous */
}

void usbip__ret_unlink(uint8_t hdr[USBIP_HDR_LEN], uint32_t seqnum, int32_t status)
{
	memset(hdr, 0, USBIP_HDR_LEN);
	put32(hdr, USBIP_RET_UNLINK);
	put32(hdr + 4, seqnum);
	put32(hdr + 20, (uint32_t)status);
}

void usbip__device_record(uint8_t out[USBIP_DEVICE_LEN], const struct usb_dev *d,
			  const char *busid)
{
	const uint8_t *dd = d->device_desc;

	memset(out, 0, USBIP_DEVICE_LEN);
	snprintf((char *)out, 256, "/sys/devices/vioscope/usb%d/%s", BUSNUM, busid);
	snprintf((char *)out + 256, USBIP_BUSID_LEN, "%s", busid);
	put32(out + 288, BUSNUM);
	put32(out + 292, DEVNUM);
	put32(out + 296, d->speed);
	put16(out + 300, (uint16_t)(dd[8] | dd[9] << 8));	/* idVendor */
	put16(out + 302, (uint16_t)(dd[10] | dd[11] << 8));	/* idProduct */
	put16(out + 304, (uint16_t)(dd[12] | dd[13] << 8));	/* bcdDevice */
	out[306] = dd[4];				/* class, subclass, protocol */
	out[307] = dd[5];
	out[308] = dd[6];
	out[309] = d->config;
	out[310] = dd[17];				/* bNumConfigurations */
	out[311] = d->config_desc[4];			/* bNumInterfaces */
}

static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		/* EINTR too ends the session: the server was asked to stop (a
		 * client that vanished without a FIN would block it forever). */
		if (n == 0)
			return -ECONNRESET;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void usbip__op_header(uint8_t p[USBIP_OP_LEN], uint16_t code, uint32_t status)
{
	put16(p, USBIP_VERSION);
	put16(p + 2, code);
	put32(p + 4, status);
}

int32_t usbip__urb(struct usb_dev *d, const struct usbip_cmd *c, uint8_t *data, uint32_t *actual,
		   struct usbip_stats *st)
{
	bool in = c->direction == USBIP_DIR_IN;
	int ret;

	*actual = 0;
	if (c->ep == 0) {
		struct usb_setup s;

		memcpy(&s, c->setup, sizeof(s));	/* little-endian, as on the bus */
		if (s.wLength > c->length)
			s.wLength = (uint16_t)c->length;	/* never past the client's buffer */
		ret = usb__control(d, &s, data);
	} else {
		ret = usb__transfer(d, c->ep, in, data, c->length);
	}
	if (ret == -EAGAIN)
		return ret;	/* a NAK: the transport holds the URB and runs it again */
	st->submits++;
	if (ret < 0) {
		st->stalls++;
		return ret;
	}
	*actual = in ? ((uint32_t)ret < c->length ? (uint32_t)ret : c->length) : c->length;
	if (in)
		st->bytes_out += *actual;
	else
		st->bytes_in += *actual;
	return 0;
}

/* One CMD_SUBMIT over the socket: data out read, the URB run, RET_SUBMIT
 * (with data in) written. msg has room for a header and then the data,
 * which goes to msg + USBIP_HDR_LEN so that header and data leave in one
 * write (a separate small write waits for the client's delayed ACK under
 * Nagle). */
static int submit(int fd, struct usb_dev *d, const struct usbip_cmd *c, uint8_t *msg,
		  struct usbip_stats *st)
{
	uint8_t *data = msg + USBIP_HDR_LEN;
	bool in = c->direction == USBIP_DIR_IN;
	uint32_t actual;
	int32_t status;
	int ret;

	if (!in && c->length && (ret = read_all(fd, data, c->length)))
		return ret;
	status = usbip__urb(d, c, data, &actual, st);
	usbip__ret_submit(msg, c->seqnum, status, actual);
	return write_all(fd, msg, USBIP_HDR_LEN + (in && !status ? actual : 0));
}

static int serve_urbs(int fd, struct usb_dev *d, struct usbip_stats *st)
{
	/* Room for a RET_SUBMIT header in front of the largest data. */
	uint8_t hdr[USBIP_HDR_LEN], *buf = malloc(USBIP_HDR_LEN + USBIP_MAX_BUFFER);
	struct usbip_cmd c;
	int ret;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ret = read_all(fd, hdr, sizeof(hdr));
		if (ret == -ECONNRESET) {
			ret = 0;	/* the client detached */
			break;
		}
		if (ret)
			break;
		ret = usbip__parse_cmd(hdr, &c);
		if (ret) {
			st->bad_messages++;
			ret = -EPROTO;
			break;
		}
		if (c.command == USBIP_CMD_UNLINK) {
			/* URBs complete before the next is read: nothing is ever
			 * pending, so an unlink finds its URB done (status 0). */
			st->unlinks++;
			usbip__ret_unlink(hdr, c.seqnum, 0);
			ret = write_all(fd, hdr, sizeof(hdr));
		} else {
			ret = submit(fd, d, &c, buf, st);
		}
		if (ret)
			break;
	}
	free(buf);
	return ret;
}

int usbip__serve(int fd, struct usb_dev *d, const char *busid, struct usbip_stats *st)
{
	uint8_t op[USBIP_OP_LEN], busreq[USBIP_BUSID_LEN], rep[USBIP_OP_LEN + 4 + USBIP_DEVICE_LEN + 4];
	uint16_t code;
	int ret = read_all(fd, op, sizeof(op));

	if (ret)
		return ret;
	code = (uint16_t)(op[2] << 8 | op[3]);
	if (code == USBIP_OP_REQ_DEVLIST) {
		/* One device and its interface (class, subclass, protocol, pad). */
		const uint8_t *intf = d->config_desc + 9;

		st->devlists++;
		usbip__op_header(rep, USBIP_OP_REP_DEVLIST, 0);
		put32(rep + USBIP_OP_LEN, 1);
		usbip__device_record(rep + USBIP_OP_LEN + 4, d, busid);
		memcpy(rep + USBIP_OP_LEN + 4 + USBIP_DEVICE_LEN,
		       (const uint8_t[]){ intf[5], intf[6], intf[7], 0 }, 4);
		return write_all(fd, rep, sizeof(rep));
	}
	if (code != USBIP_OP_REQ_IMPORT) {
		st->bad_messages++;
		return -EPROTO;
	}
	if ((ret = read_all(fd, busreq, sizeof(busreq))))
		return ret;
	busreq[USBIP_BUSID_LEN - 1] = 0;
	if (strcmp((char *)busreq, busid)) {
		usbip__op_header(rep, USBIP_OP_REP_IMPORT, 1);		/* ST_NA */
		write_all(fd, rep, USBIP_OP_LEN);
		return -ENODEV;
	}
	st->imports++;
	usbip__op_header(rep, USBIP_OP_REP_IMPORT, 0);
	usbip__device_record(rep + USBIP_OP_LEN, d, busid);
	if ((ret = write_all(fd, rep, USBIP_OP_LEN + USBIP_DEVICE_LEN)))
		return ret;
	return serve_urbs(fd, d, st);
}

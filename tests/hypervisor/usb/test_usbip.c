/*
 * The USB/IP server side: headers parsed and refused as they should be,
 * and a whole session over a socketpair, the test playing vhci-hcd: import
 * by bus id, descriptors, SET_CONFIGURATION, a BOT write and read-back
 * through CMD_SUBMIT / RET_SUBMIT, an unlink, and the connection dropped
 * on a malformed header.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/usb/usb.h"
#include "hypervisor/usb/usbip.h"
#include "lib/log.h"

static void put32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return ntohl(v); }

static void header(uint8_t *h, uint32_t cmd, uint32_t seq, uint32_t dir, uint32_t ep,
		   uint32_t len, int32_t npackets)
{
	memset(h, 0, USBIP_HDR_LEN);
	put32(h, cmd);
	put32(h + 4, seq);
	put32(h + 8, 1 << 16 | 2);
	put32(h + 12, dir);
	put32(h + 16, ep);
	put32(h + 24, len);
	put32(h + 32, (uint32_t)npackets);
}

Test(usbip, headers_are_checked)
{
	static const struct { uint32_t cmd, dir, ep, len; int32_t np; int want; } cases[] = {
		{ USBIP_CMD_SUBMIT, USBIP_DIR_IN, 1, 512, 0, 0 },
		{ USBIP_CMD_SUBMIT, USBIP_DIR_OUT, 2, 31, -1, 0 },
		{ USBIP_CMD_UNLINK, 0, 0, 0, 0, 0 },
		{ USBIP_RET_SUBMIT, 0, 0, 0, 0, -USBIP_ERR_COMMAND },
		{ 77, 0, 0, 0, 0, -USBIP_ERR_COMMAND },
		{ USBIP_CMD_SUBMIT, 2, 1, 0, 0, -USBIP_ERR_DIRECTION },
		{ USBIP_CMD_SUBMIT, USBIP_DIR_IN, 16, 0, 0, -USBIP_ERR_ENDPOINT },
		{ USBIP_CMD_SUBMIT, USBIP_DIR_IN, 1, (1u << 20) + 1, 0, -USBIP_ERR_LENGTH },
		{ USBIP_CMD_SUBMIT, USBIP_DIR_IN, 1, 0xffffffffu, 0, -USBIP_ERR_LENGTH },
		{ USBIP_CMD_SUBMIT, USBIP_DIR_IN, 1, 64, 8, -USBIP_ERR_ISO },
	};
	uint8_t h[USBIP_HDR_LEN];
	struct usbip_cmd c;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		header(h, cases[i].cmd, 9, cases[i].dir, cases[i].ep, cases[i].len, cases[i].np);
		cr_assert_eq(usbip__parse_cmd(h, &c), cases[i].want, "case %zu", i);
	}
	header(h, USBIP_CMD_SUBMIT, 42, USBIP_DIR_IN, 1, 13, 0);
	cr_assert_eq(usbip__parse_cmd(h, &c), 0);
	cr_assert_eq(c.seqnum, 42);
	cr_assert_eq(c.length, 13);
}

static char image[] = "/tmp/vioscope-usbip-XXXXXX";
static struct usb_dev *dev;
static struct usbip_stats st;
static int server_ret;

static void *serve(void *arg)
{
	server_ret = usbip__serve(*(int *)arg, dev, "1-1", &st);
	close(*(int *)arg);
	return NULL;
}

static void setup(void)
{
	char why[160];
	int fd = mkstemp(image);

	log_level = LOG_ERR - 1;
	close(fd);
	unlink(image);
	dev = usb_storage__new(image, 1 << 20, why, sizeof(why));
	cr_assert_not_null(dev, "%s", why);
	memset(&st, 0, sizeof(st));
}

static void teardown(void)
{
	usb__destroy(dev);
	unlink(image);
}

static void xfer(int fd, const void *p, size_t n)
{
	cr_assert_eq(write(fd, p, n), (ssize_t)n);
}

static void recv_all(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (uint8_t *)p + got, n - got);

		cr_assert_gt(r, 0, "the server closed early");
		got += (size_t)r;
	}
}

/* One URB: returns RET_SUBMIT's status; IN data lands in in. */
static int32_t urb(int fd, uint32_t seq, uint32_t dir, uint32_t ep, const void *setup8,
		   const void *out, uint32_t len, void *in, uint32_t *actual)
{
	uint8_t h[USBIP_HDR_LEN];
	int32_t status;

	header(h, USBIP_CMD_SUBMIT, seq, dir, ep, len, 0);
	if (setup8)
		memcpy(h + 40, setup8, 8);
	xfer(fd, h, sizeof(h));
	if (dir == USBIP_DIR_OUT && len)
		xfer(fd, out, len);
	recv_all(fd, h, sizeof(h));
	cr_assert_eq(get32(h), USBIP_RET_SUBMIT);
	cr_assert_eq(get32(h + 4), seq, "the reply carries the request's seqnum");
	status = (int32_t)get32(h + 20);
	*actual = get32(h + 24);
	if (dir == USBIP_DIR_IN && status == 0 && *actual)
		recv_all(fd, in, *actual);
	return status;
}

TestSuite(usbip_session, .init = setup, .fini = teardown);

Test(usbip_session, import_configure_write_read_and_unlink)
{
	uint8_t op[8 + 32], rep[8 + USBIP_DEVICE_LEN], buf[1024], back[1024], csw[13], h[USBIP_HDR_LEN];
	uint8_t cbw[31] = { 'U', 'S', 'B', 'C', 1 };
	uint32_t n, len = 512;
	pthread_t t;
	int sv[2], i;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_create(&t, NULL, serve, &sv[1]);
	memset(op, 0, sizeof(op));
	op[0] = 0x01; op[1] = 0x11; op[2] = 0x80; op[3] = 0x03;	/* OP_REQ_IMPORT */
	strcpy((char *)op + 8, "1-1");
	xfer(sv[0], op, sizeof(op));
	recv_all(sv[0], rep, sizeof(rep));
	cr_assert_eq(get32(rep + 4), 0, "imported");
	cr_assert_eq(rep[2] << 8 | rep[3], USBIP_OP_REP_IMPORT);
	cr_assert_str_eq((char *)rep + 8 + 256, "1-1");
	cr_assert_eq(rep[8 + 300] << 8 | rep[8 + 301], 0x1234, "idVendor");

	cr_assert_eq(urb(sv[0], 1, USBIP_DIR_IN, 0, (uint8_t[8]){ 0x80, 6, 0, 1, 0, 0, 18, 0 },
			 NULL, 64, buf, &n), 0);
	cr_assert_eq(n, 18, "the device descriptor");
	cr_assert_eq(urb(sv[0], 2, USBIP_DIR_OUT, 0, (uint8_t[8]){ 0x00, 9, 1, 0, 0, 0, 0, 0 },
			 NULL, 0, NULL, &n), 0, "SET_CONFIGURATION");
	/* WRITE (10), one block at LBA 3, then READ (10) it back. */
	for (i = 0; i < 512; i++)
		buf[i] = (uint8_t)(i ^ 0x5a);
	memcpy(cbw + 8, &len, 4);
	cbw[14] = 10;
	memcpy(cbw + 15, (uint8_t[10]){ 0x2a, 0, 0, 0, 0, 3, 0, 0, 1, 0 }, 10);
	cr_assert_eq(urb(sv[0], 3, USBIP_DIR_OUT, 2, NULL, cbw, 31, NULL, &n), 0);
	cr_assert_eq(urb(sv[0], 4, USBIP_DIR_OUT, 2, NULL, buf, 512, NULL, &n), 0);
	cr_assert_eq(urb(sv[0], 5, USBIP_DIR_IN, 1, NULL, NULL, 13, csw, &n), 0);
	cr_assert_eq(csw[12], 0, "write passed");
	cbw[12] = 0x80;
	cbw[15] = 0x28;
	cr_assert_eq(urb(sv[0], 6, USBIP_DIR_OUT, 2, NULL, cbw, 31, NULL, &n), 0);
	cr_assert_eq(urb(sv[0], 7, USBIP_DIR_IN, 1, NULL, NULL, 512, back, &n), 0);
	cr_assert_eq(n, 512);
	cr_assert_eq(memcmp(buf, back, 512), 0, "read back through USB/IP");
	cr_assert_eq(urb(sv[0], 8, USBIP_DIR_IN, 1, NULL, NULL, 13, csw, &n), 0);
	cr_assert_eq(csw[12], 0);
	/* A stall comes back as -EPIPE. */
	cr_assert_eq(urb(sv[0], 9, USBIP_DIR_IN, 0, (uint8_t[8]){ 0x80, 6, 0, 0x0f, 0, 0, 8, 0 },
			 NULL, 8, buf, &n), -EPIPE);
	/* An unlink of a URB already done: status 0. */
	header(h, USBIP_CMD_UNLINK, 10, 0, 0, 0, 0);
	put32(h + 20, 7);
	xfer(sv[0], h, sizeof(h));
	recv_all(sv[0], h, sizeof(h));
	cr_assert_eq(get32(h), USBIP_RET_UNLINK);
	cr_assert_eq(get32(h + 20), 0);
	/* A malformed header drops the connection. */
	header(h, 99, 11, 0, 0, 0, 0);
	xfer(sv[0], h, sizeof(h));
	cr_assert_eq(read(sv[0], h, sizeof(h)), 0, "closed");
	pthread_join(t, NULL);
	cr_assert_eq(server_ret, -EPROTO);
	cr_assert_eq(st.bad_messages, 1);
	cr_assert_eq(st.imports, 1);
	cr_assert_eq(st.unlinks, 1);
	close(sv[0]);
}

Test(usbip_session, a_wrong_bus_id_is_refused_and_devlist_answers)
{
	uint8_t op[8 + 32] = { 0x01, 0x11, 0x80, 0x03 }, rep[8 + 4 + USBIP_DEVICE_LEN + 4];
	pthread_t t;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_create(&t, NULL, serve, &sv[1]);
	strcpy((char *)op + 8, "9-9");
	xfer(sv[0], op, sizeof(op));
	recv_all(sv[0], rep, 8);
	cr_assert_eq(get32(rep + 4), 1, "ST_NA");
	pthread_join(t, NULL);
	close(sv[0]);

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pthread_create(&t, NULL, serve, &sv[1]);
	xfer(sv[0], (uint8_t[8]){ 0x01, 0x11, 0x80, 0x05 }, 8);	/* OP_REQ_DEVLIST */
	recv_all(sv[0], rep, sizeof(rep));
	cr_assert_eq(get32(rep + 8), 1, "one device");
	cr_assert_eq(rep[sizeof(rep) - 4], 0x08, "its interface: mass storage");
	pthread_join(t, NULL);
	cr_assert_eq(server_ret, 0);
	close(sv[0]);
}

/*
 * The USB mass-storage model driven as Linux's usb-storage drives it: the
 * standard requests on endpoint 0, then Bulk-Only Transport (CBW on the
 * bulk OUT endpoint, data, CSW on bulk IN) with SCSI commands, on a raw
 * image checked from the host side; and every way a host gets it wrong.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/usb/usb.h"
#include "lib/log.h"

static char image[] = "/tmp/vioscope-ums-XXXXXX";
static struct usb_dev *d;
static uint32_t tag;

static void setup(void)
{
	char why[160];
	int fd = mkstemp(image);

	log_level = LOG_ERR - 1;
	close(fd);
	unlink(image);
	d = usb_storage__new(image, 1 << 20, why, sizeof(why));
	cr_assert_not_null(d, "%s", why);
}

static void teardown(void)
{
	usb__destroy(d);
	unlink(image);
}

TestSuite(usb_storage, .init = setup, .fini = teardown);

static int control(uint8_t type, uint8_t req, uint16_t value, uint16_t index, uint16_t len,
		   uint8_t *data)
{
	struct usb_setup s = { type, req, value, index, len };

	return usb__control(d, &s, data);
}

static void configure(void)
{
	cr_assert_eq(control(0x00, 9, 1, 0, 0, NULL), 0, "SET_CONFIGURATION 1");
}

/* One BOT command: CBW, data (in or out, len bytes), CSW; returns the CSW
 * status, or -1 when a stage stalled. */
static int bot(const uint8_t *cdb, unsigned int cdblen, bool in, uint8_t *data, uint32_t len,
	       uint32_t *residue)
{
	uint8_t cbw[31] = { 0x55, 0x53, 0x42, 0x43 }, csw[13];
	uint32_t t = ++tag;
	int n;

	memcpy(cbw + 4, &t, 4);
	memcpy(cbw + 8, &len, 4);
	cbw[12] = in ? 0x80 : 0;
	cbw[14] = (uint8_t)cdblen;
	memcpy(cbw + 15, cdb, cdblen);
	if (usb__transfer(d, 2, false, cbw, 31) != 31)
		return -1;
	if (len) {
		n = usb__transfer(d, in ? 1 : 2, in, data, len);
		if (n < 0)
			return -1;
	}
	if (usb__transfer(d, 1, true, csw, 13) != 13)
		return -1;
	cr_assert_eq(memcmp(csw, "USBS", 4), 0);
	cr_assert_eq(memcmp(csw + 4, &t, 4), 0, "the CSW carries the CBW's tag");
	if (residue)
		memcpy(residue, csw + 8, 4);
	return csw[12];
}

Test(usb_storage, descriptors_and_standard_requests)
{
	uint8_t buf[256];

	cr_assert_eq(control(0x80, 6, 0x0100, 0, 64, buf), 18);
	cr_assert_eq(buf[1], 1);
	cr_assert_eq(buf[8] | buf[9] << 8, 0x1234);
	cr_assert_eq(control(0x80, 6, 0x0200, 0, 9, buf), 9, "the header first");
	cr_assert_eq(buf[2], 32, "wTotalLength");
	cr_assert_eq(control(0x80, 6, 0x0200, 0, 255, buf), 32);
	cr_assert_eq(buf[9 + 5], 0x08, "mass storage");
	cr_assert_eq(buf[9 + 7], 0x50, "Bulk-Only");
	cr_assert_eq(control(0x80, 6, 0x0303, 0x409, 255, buf), 2 + 2 * 12, "serial number");
	cr_assert_eq(buf[2], 'V');
	cr_assert_eq(control(0x80, 6, 0x0309, 0x409, 255, buf), -EPIPE, "no such string");
	cr_assert_eq(control(0x80, 6, 0x0600, 0, 10, buf), -EPIPE, "no qualifier: high-speed only");
	cr_assert_eq(usb__transfer(d, 1, true, buf, 13), -EPIPE, "not configured yet");
	configure();
	cr_assert_eq(control(0xa1, 0xfe, 0, 0, 1, buf), 1, "GET_MAX_LUN");
	cr_assert_eq(buf[0], 0);
}

Test(usb_storage, scsi_inquiry_capacity_write_read)
{
	uint8_t buf[4096], back[4096], disk[512];
	uint8_t inquiry[6] = { 0x12, 0, 0, 0, 36, 0 }, cap[10] = { 0x25 };
	uint8_t wr[10] = { 0x2a, 0, 0, 0, 0, 5, 0, 0, 2, 0 }, rd[10] = { 0x28, 0, 0, 0, 0, 5, 0, 0, 2, 0 };
	uint32_t residue;
	int fd, i;

	configure();
	cr_assert_eq(bot((uint8_t[6]){ 0 }, 6, false, NULL, 0, NULL), 0, "TEST UNIT READY");
	cr_assert_eq(bot(inquiry, 6, true, buf, 36, NULL), 0);
	cr_assert_eq(memcmp(buf + 8, "VIOSCOPE", 8), 0);
	cr_assert_eq(bot(cap, 10, true, buf, 8, NULL), 0);
	cr_assert_eq(buf[0] << 24 | buf[1] << 16 | buf[2] << 8 | buf[3], 2047, "last LBA of 1 MiB");
	for (i = 0; i < 1024; i++)
		buf[i] = (uint8_t)(i * 7 + 3);
	cr_assert_eq(bot(wr, 10, false, buf, 1024, NULL), 0, "WRITE (10) of 2 blocks at LBA 5");
	cr_assert_eq(bot(rd, 10, true, back, 1024, &residue), 0);
	cr_assert_eq(residue, 0);
	cr_assert_eq(memcmp(buf, back, 1024), 0, "read back");
	fd = open(image, O_RDONLY);
	cr_assert_eq(pread(fd, disk, 512, 6 * 512), 512);
	close(fd);
	cr_assert_eq(memcmp(disk, buf + 512, 512), 0, "and in the image");
	cr_assert_eq(bot((uint8_t[10]){ 0x35 }, 10, false, NULL, 0, NULL), 0, "SYNCHRONIZE CACHE");
}

Test(usb_storage, host_mistakes_get_sense_stalls_or_phase_errors)
{
	uint8_t buf[64], sense[18];
	uint8_t past[10] = { 0x28, 0, 0, 0, 0x08, 0, 0, 0, 1, 0 };	/* LBA 2048: past the end */
	uint32_t residue;

	configure();
	cr_assert_eq(bot(past, 10, true, buf, 512, &residue), 1, "CHECK CONDITION");
	cr_assert_eq(residue, 512, "nothing moved");
	cr_assert_eq(bot((uint8_t[6]){ 0x03, 0, 0, 0, 18, 0 }, 6, true, sense, 18, NULL), 0);
	cr_assert_eq(sense[2], 0x5, "ILLEGAL REQUEST");
	cr_assert_eq(sense[12], 0x21, "LBA out of range");
	cr_assert_eq(bot((uint8_t[6]){ 0xc7 }, 6, false, NULL, 0, NULL), 1, "unknown opcode");
	cr_assert_eq(bot((uint8_t[6]){ 0x03, 0, 0, 0, 18, 0 }, 6, true, sense, 18, NULL), 0);
	cr_assert_eq(sense[12], 0x20, "invalid opcode");
	/* A READ of 2 blocks when the host asks for 1 block's worth. */
	cr_assert_eq(bot((uint8_t[10]){ 0x28, 0, 0, 0, 0, 0, 0, 0, 2, 0 }, 10, true, buf, 64, NULL),
		     2, "phase error");
	/* More than the device buffers: a phase error, the data stage stalls. */
	cr_assert_eq(bot((uint8_t[10]){ 0x28, 0, 0, 0, 0, 0, 0x10, 0, 0, 0 }, 10, true, buf,
			 (1u << 20) + 512, NULL), -1);
	cr_assert_eq(usb__transfer(d, 1, true, buf, 13), -EPIPE, "halted until cleared");
	cr_assert_eq(control(0x02, 1, 0, 0x81, 0, NULL), 0, "CLEAR_FEATURE(HALT) IN");
	cr_assert_eq(usb__transfer(d, 1, true, buf, 13), 13, "then the CSW");
	cr_assert_eq(buf[12], 2);
	/* Not a CBW: both bulk endpoints halt until cleared (BOT 6.6.1). */
	cr_assert_eq(usb__transfer(d, 2, false, (uint8_t *)"garbage", 7), -EPIPE);
	cr_assert_eq(usb__transfer(d, 1, true, buf, 13), -EPIPE, "halted");
	cr_assert_eq(control(0x21, 0xff, 0, 0, 0, NULL), 0, "Bulk-Only Mass Storage Reset");
	cr_assert_eq(control(0x02, 1, 0, 0x81, 0, NULL), 0, "CLEAR_FEATURE(HALT) IN");
	cr_assert_eq(control(0x02, 1, 0, 0x02, 0, NULL), 0, "CLEAR_FEATURE(HALT) OUT");
	cr_assert_eq(bot((uint8_t[6]){ 0 }, 6, false, NULL, 0, NULL), 0, "working again");
	cr_assert_eq(control(0x80, 6, 0x0100, 0, 5000, buf), -EPIPE, "absurd wLength");
}

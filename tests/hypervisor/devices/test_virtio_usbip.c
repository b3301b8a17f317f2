/*
 * The USB/IP channel driven as the probe guest's driver drives it: an
 * import on the control queue, then URBs as USB/IP headers on the URB
 * queue (storage: descriptors, configuration, a BOT write and read-back;
 * the keyboard: an interrupt URB held until its event). And what a guest
 * gets wrong or makes up: URBs before an import, unknown commands, lengths
 * beyond what the buffers hold or beyond 1 MiB, short headers, a bus id
 * that does not exist: answered with nothing written, counted.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM	(4u << 20)
#define QSIZE	16
#define Q(q)	(0x10000 + 0x4000 * (q))	/* desc, avail +0x1000, used +0x2000 */
#define OUTHDR	0x20000
#define INHDR	0x20100
#define DATA	0x21000

static struct kvm *kvm;
static struct device *dev;
static char image[] = "/tmp/vioscope-vusbip-XXXXXX";
static uint64_t bar;
static uint32_t seq;

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }
static void wr(uint64_t off, uint32_t v, uint32_t len) { test_mmio_write(kvm, bar + off, v, len); }
static uint64_t metric(const char *name) { return metrics__value(&dev->metrics, name); }

static void setup(void)
{
	char args[128];
	int fd = mkstemp(image);

	log_level = LOG_ERR - 1;
	close(fd);
	unlink(image);
	kvm = test_fake_kvm_with_ram(RAM);
	snprintf(args, sizeof(args), "%s,size=1M", image);
	dev = device__create(kvm, "virtio-usbip", args);
	cr_assert_not_null(dev);
	bar = pci__bar_address(kvm->pci.slots[0], 0);
	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], 2), 0x1040 + 63, "vioscope's own device type");
	test_virtio_bring_up(kvm, bar, 0, 2, QSIZE, Q(0), Q(1) - Q(0));
	seq = 0;
}

static void teardown(void)
{
	device__destroy_all(kvm);
	test_fake_kvm_free(kvm);
	unlink(image);
}

TestSuite(virtio_usbip, .init = setup, .fini = teardown);

/* A chain of (address, length, writable) buffers on queue q, kicked;
 * returns the used length, or -1 while the device holds the chain. */
static int chain(unsigned int q, const uint64_t (*bufs)[3], unsigned int n)
{
	struct vring_desc *desc = gpa(Q(q));
	struct vring_avail *avail = gpa(Q(q) + 0x1000);
	struct vring_used *used = gpa(Q(q) + 0x2000);
	uint16_t before = used->idx;
	unsigned int i;

	for (i = 0; i < n; i++)
		desc[i] = (struct vring_desc){ bufs[i][0], (uint32_t)bufs[i][1],
			(uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
				   (bufs[i][2] ? VRING_DESC_F_WRITE : 0)), (uint16_t)(i + 1) };
	avail->ring[avail->idx % QSIZE] = 0;
	avail->idx++;
	wr(0x3000 + 4 * q, q, 2);
	if (used->idx == before)
		return -1;
	return (int)used->ring[(uint16_t)(used->idx - 1) % QSIZE].len;
}

static int import(const char *busid)
{
	uint8_t *op = gpa(OUTHDR);

	memset(op, 0, 40);
	op[0] = 0x01; op[1] = 0x11; op[2] = 0x80; op[3] = 0x03;
	strcpy((char *)op + 8, busid);
	return chain(0, (const uint64_t[][3]){ { OUTHDR, 40, 0 }, { INHDR, 320, 1 } }, 2);
}

static void put32(uint8_t *p, uint32_t v) { v = htonl(v); memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return ntohl(v); }

/* A CMD_SUBMIT: header, data out or in (len), RET_SUBMIT; the used length. */
static int submit(unsigned int ep, bool in, const uint8_t setup[8], uint32_t len)
{
	uint8_t *h = gpa(OUTHDR);

	memset(h, 0, 48);
	put32(h, 1);
	put32(h + 4, ++seq);
	put32(h + 12, in);
	put32(h + 16, ep);
	put32(h + 24, len);
	put32(h + 32, 0xffffffffu);
	if (setup)
		memcpy(h + 40, setup, 8);
	if (!len)
		return chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 48, 1 } }, 2);
	if (in)
		return chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 48, 1 },
						     { DATA, len, 1 } }, 3);
	return chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { DATA, len, 0 },
					     { INHDR, 48, 1 } }, 3);
}

static int32_t status(void) { return (int32_t)get32((uint8_t *)gpa(INHDR) + 20); }

Test(virtio_usbip, import_and_storage_urbs)
{
	uint8_t *d = gpa(DATA), *rep = gpa(INHDR);
	static const uint8_t get_dev[8] = { 0x80, 6, 0, 1, 0, 0, 18, 0 };
	static const uint8_t set_cfg[8] = { 0x00, 9, 1, 0, 0, 0, 0, 0 };

	cr_assert_eq(submit(0, true, get_dev, 18), 0, "URBs before an import: nothing written");
	cr_assert_eq(metric("urbs_before_import"), 1);
	cr_assert_eq(import("1-1"), 320);
	cr_assert_eq(get32(rep + 4), 0, "imported");
	cr_assert_eq(get32(rep + 8 + 296), 3, "high speed");
	cr_assert_eq(submit(0, true, get_dev, 18), 48 + 18);
	cr_assert_eq(get32(rep), 3, "RET_SUBMIT");
	cr_assert_eq(get32(rep + 4), seq);
	cr_assert_eq(status(), 0);
	cr_assert_eq(d[8] | d[9] << 8, 0x1234);
	cr_assert_eq(submit(0, false, set_cfg, 0), 48);
	/* A CBW with a bad signature: the model stalls (-EPIPE in the status). */
	memset(d, 0, 31);
	cr_assert_eq(submit(2, false, NULL, 31), 48);
	cr_assert_eq(status(), -32);
	cr_assert_eq(metric("bad_messages"), 1, "the URB before the import: a stall is an answer");
}

Test(virtio_usbip, bad_messages_come_back_empty_and_counted)
{
	uint8_t *h = gpa(OUTHDR);

	cr_assert_eq(import("9-9"), 8, "no such bus id: ST_NA only");
	cr_assert_eq(get32((uint8_t *)gpa(INHDR) + 4), 1);
	cr_assert_eq(import("1-1"), 320);
	/* A header claiming more than its data buffer holds. */
	cr_assert_eq(submit(1, true, NULL, 64), 48, "a well-formed URB (stalled: no configuration)");
	put32(h + 24, 4096);
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 48, 1 },
						   { DATA, 512, 1 } }, 3), 0);
	/* Beyond 1 MiB, an unknown command, isochronous packets. */
	put32(h + 24, (1u << 20) + 1);
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 48, 1 } }, 2), 0);
	put32(h + 24, 0);
	put32(h, 7);
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 48, 1 } }, 2), 0);
	put32(h, 1);
	put32(h + 32, 3);
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 48, 1 } }, 2), 0);
	/* A short header; no room for the reply; a buffer outside RAM. */
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { OUTHDR, 20, 0 }, { INHDR, 48, 1 } }, 2), 0);
	put32(h + 32, 0xffffffffu);
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { OUTHDR, 48, 0 }, { INHDR, 16, 1 } }, 2), 0);
	cr_assert_eq(chain(1, (const uint64_t[][3]){ { RAM - 8, 48, 0 }, { INHDR, 48, 1 } }, 2), 0);
	/* A control message that is not an import. */
	h[3] = 0x05;
	cr_assert_eq(chain(0, (const uint64_t[][3]){ { OUTHDR, 8, 0 }, { INHDR, 320, 1 } }, 2), 0);
	cr_assert_eq(metric("bad_messages"), 8);
	/* And the channel still works. */
	cr_assert_eq(submit(0, true, (const uint8_t[8]){ 0x80, 6, 0, 1, 0, 0, 18, 0 }, 18), 66);
}

Test(virtio_usbip, keyboard_urb_waits_for_its_event)
{
	static const uint8_t set_cfg[8] = { 0x00, 9, 1, 0, 0, 0, 0, 0 };
	static const uint8_t start[8] = { 0x40, 1, 1, 0, 0xe8, 0x03, 0, 0 };	/* 1 event */
	struct vring_used *used = gpa(Q(1) + 0x2000);
	uint16_t before;
	int i;

	cr_assert_eq(import("1-2"), 320);
	cr_assert_eq(get32((uint8_t *)gpa(INHDR) + 8 + 300), 0x12347107u, "idVendor, idProduct");
	cr_assert_eq(submit(0, false, set_cfg, 0), 48);
	cr_assert_eq(submit(1, true, NULL, 32), -1, "NAK: the URB is held");
	before = used->idx;
	cr_assert_eq(submit(0, false, start, 0), 48, "the vendor request starts one event");
	for (i = 0; i < 500 && used->idx == before + 1; i++)
		usleep(1000);
	cr_assert_eq((uint16_t)(used->idx - before), 2, "the held URB completed on the wakeup");
	cr_assert_eq(used->ring[(uint16_t)(used->idx - 1) % QSIZE].len, 48 + 20);
}

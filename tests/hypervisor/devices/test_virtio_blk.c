/*
 * virtio-blk driven the way a guest driver does it: registers through the
 * MMIO bus, a queue in guest RAM, kicks on the notify register (trapped:
 * no KVM here, so no ioeventfd). The sync engine completes requests
 * inline, and the image file is checked from the host side.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <linux/virtio_blk.h>
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
#define DESC	0x10000
#define AVAIL	0x11000
#define USED	0x12000
#define HDR	0x20000
#define DATA	0x21000
#define STATUS	0x30000

static struct kvm *kvm;
static struct device *dev;
static char image[] = "/tmp/vioscope-vblk-XXXXXX";
static uint64_t bar;
static struct vring_desc *desc;
static struct vring_avail *avail;
static struct vring_used *used;

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }

static uint32_t rd(uint64_t off, uint32_t len) { return test_mmio_read(kvm, bar + off, len); }
static void wr(uint64_t off, uint32_t v, uint32_t len) { test_mmio_write(kvm, bar + off, v, len); }

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

static void setup(void)
{
	char args[128];
	int fd = mkstemp(image);

	log_level = LOG_ERR - 1;	/* errors here are expected: keep the output clean */
	close(fd);
	unlink(image);
	kvm = test_fake_kvm_with_ram(RAM);
	snprintf(args, sizeof(args), "%s,size=1M,engine=sync", image);
	dev = device__create(kvm, "virtio-blk", args);
	cr_assert_not_null(dev);
	/* The only PCI device: slot 0 (no host bridge registered here). */
	bar = pci__bar_address(kvm->pci.slots[0], 0);
	desc = gpa(DESC);
	avail = gpa(AVAIL);
	used = gpa(USED);
}

static void teardown(void)
{
	device__destroy_all(kvm);
	test_fake_kvm_free(kvm);
	unlink(image);
}

TestSuite(virtio_blk, .init = setup, .fini = teardown);

/* Linux's sequence (virtio 1.2, 3.1.1): reset, ACK, DRIVER, features,
 * FEATURES_OK, queue setup, DRIVER_OK. */
static void bring_up(void)
{
	wr(COMMON(device_status), 0, 1);
	wr(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	wr(COMMON(guest_feature_select), 1, 4);
	wr(COMMON(guest_feature), 1, 4);	/* VERSION_1 */
	wr(COMMON(device_status), 0x0b, 1);	/* + FEATURES_OK */
	cr_assert(rd(COMMON(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK);
	wr(COMMON(queue_select), 0, 2);
	wr(COMMON(queue_size), QSIZE, 2);
	wr(COMMON(queue_desc_lo), DESC, 4);
	wr(COMMON(queue_avail_lo), AVAIL, 4);
	wr(COMMON(queue_used_lo), USED, 4);
	wr(COMMON(queue_enable), 1, 2);
	cr_assert_eq(rd(COMMON(queue_enable), 2), 1);
	wr(COMMON(device_status), 0x0f, 1);	/* + DRIVER_OK */
}

/* One request: header, data (len 0 for none), status; returns the status. */
static uint8_t request(uint32_t type, uint64_t sector, uint32_t len, bool data_in)
{
	struct virtio_blk_outhdr *hdr = gpa(HDR);
	uint8_t *status = gpa(STATUS);
	uint16_t n = 0;

	hdr->type = type;
	hdr->sector = sector;
	*status = 0xee;
	desc[n] = (struct vring_desc){ HDR, 16, VRING_DESC_F_NEXT, (uint16_t)(n + 1) };
	n++;
	if (len) {
		desc[n] = (struct vring_desc){ DATA, len,
			(uint16_t)(VRING_DESC_F_NEXT | (data_in ? VRING_DESC_F_WRITE : 0)), (uint16_t)(n + 1) };
		n++;
	}
	desc[n] = (struct vring_desc){ STATUS, 1, VRING_DESC_F_WRITE, 0 };
	avail->ring[avail->idx % QSIZE] = 0;
	avail->idx++;
	wr(0x3000, 0, 2);	/* notify queue 0 */
	cr_assert_eq(used->idx, avail->idx, "answered");
	return *status;
}

Test(virtio_blk, identity_features_and_config)
{
	uint32_t lo, hi;

	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], PCI_DEVICE_ID), 0x1042);
	cr_assert_eq(kvm->pci.slots[0]->cfg[PCI_REVISION_ID], 1);
	wr(COMMON(device_feature_select), 0, 4);
	lo = rd(COMMON(device_feature), 4);
	wr(COMMON(device_feature_select), 1, 4);
	hi = rd(COMMON(device_feature), 4);
	cr_assert(hi & 1, "VERSION_1");
	cr_assert(lo & (1u << VIRTIO_RING_F_EVENT_IDX));
	cr_assert(lo & (1u << VIRTIO_RING_F_INDIRECT_DESC));
	cr_assert(lo & (1u << VIRTIO_BLK_F_FLUSH));
	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_blk_config, capacity), 4), 2048,
		     "1 MiB = 2048 sectors");
	cr_assert_eq(rd(COMMON(num_queues), 2), 1);
}

Test(virtio_blk, features_ok_needs_version_1)
{
	wr(COMMON(device_status), VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	wr(COMMON(device_status), 0x0b, 1);
	cr_assert_not(rd(COMMON(device_status), 1) & VIRTIO_CONFIG_S_FEATURES_OK,
		      "a legacy-only driver is refused");
}

Test(virtio_blk, write_then_read_back_and_on_disk)
{
	uint8_t *data = gpa(DATA), disk[512];
	int fd;

	bring_up();
	memset(data, 0x3c, 1024);
	cr_assert_eq(request(VIRTIO_BLK_T_OUT, 7, 1024, false), VIRTIO_BLK_S_OK);
	cr_assert_eq(request(VIRTIO_BLK_T_FLUSH, 0, 0, false), VIRTIO_BLK_S_OK);
	memset(data, 0, 1024);
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 7, 1024, true), VIRTIO_BLK_S_OK);
	cr_assert_eq(data[0], 0x3c);
	cr_assert_eq(data[1023], 0x3c);
	cr_assert_eq(used->ring[(used->idx - 1) % QSIZE].len, 1025, "data + status written");
	/* And from the host side: sector 8 of the image. */
	fd = open(image, O_RDONLY);
	cr_assert_eq(pread(fd, disk, 512, 8 * 512), 512);
	close(fd);
	cr_assert_eq(disk[0], 0x3c);
	cr_assert_eq(request(VIRTIO_BLK_T_GET_ID, 0, 20, true), VIRTIO_BLK_S_OK);
	cr_assert_str_eq((char *)data, "vioscope-vblk");
}

Test(virtio_blk, guest_mistakes_get_error_statuses)
{
	bring_up();
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 2047, 1024, true), VIRTIO_BLK_S_IOERR, "past the end");
	cr_assert_eq(request(VIRTIO_BLK_T_IN, UINT64_MAX / 2, 512, true), VIRTIO_BLK_S_IOERR);
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 0, 100, true), VIRTIO_BLK_S_IOERR, "not whole sectors");
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 0, 512, false), VIRTIO_BLK_S_IOERR, "read into a readable buffer");
	cr_assert_eq(request(99, 0, 0, false), VIRTIO_BLK_S_UNSUPP);
	cr_assert_eq(metrics__value(&dev->metrics, "bad_requests"), 3);
	/* A chain that loops is answered with length 0 and counted. */
	desc[0] = (struct vring_desc){ HDR, 16, VRING_DESC_F_NEXT, 0 };
	avail->ring[avail->idx % QSIZE] = 0;
	avail->idx++;
	wr(0x3000, 0, 2);
	cr_assert_eq(used->idx, avail->idx);
	cr_assert_eq(used->ring[(used->idx - 1) % QSIZE].len, 0);
	cr_assert_eq(metrics__value(&dev->metrics, "bad_requests"), 4);
	/* The device still works. */
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
}

Test(virtio_blk, a_queue_outside_ram_needs_reset)
{
	wr(COMMON(device_status), 0x03, 1);
	wr(COMMON(guest_feature_select), 1, 4);
	wr(COMMON(guest_feature), 1, 4);
	wr(COMMON(device_status), 0x0b, 1);
	wr(COMMON(queue_desc_lo), RAM - 64, 4);
	wr(COMMON(queue_enable), 1, 2);
	cr_assert_eq(rd(COMMON(queue_enable), 2), 0);
	cr_assert(rd(COMMON(device_status), 1) & VIRTIO_CONFIG_S_NEEDS_RESET);
	wr(COMMON(device_status), 0, 1);
	cr_assert_eq(rd(COMMON(device_status), 1), 0, "reset clears it");
}

/* One DISCARD / WRITE_ZEROES segment (5.2.6.2) after the header. */
static uint8_t range_request(uint32_t type, uint64_t sector, uint32_t n, uint32_t flags,
			     uint32_t seg_len)
{
	struct virtio_blk_discard_write_zeroes *seg = gpa(DATA);

	seg->sector = sector;
	seg->num_sectors = n;
	seg->flags = flags;
	return request(type, 0, seg_len, false);
}

static bool image_is(uint8_t byte, uint64_t off, uint32_t len)
{
	uint8_t buf[8192];
	int fd = open(image, O_RDONLY);
	bool same = true;

	cr_assert_leq(len, sizeof(buf));
	cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
	for (uint32_t i = 0; i < len; i++)
		same &= buf[i] == byte;
	return same;
}

Test(virtio_blk, discard_and_write_zeroes_clear_the_image)
{
	uint8_t *data = gpa(DATA);
	uint32_t lo;

	wr(COMMON(device_feature_select), 0, 4);
	lo = rd(COMMON(device_feature), 4);
	cr_assert(lo & (1u << VIRTIO_BLK_F_DISCARD));
	cr_assert(lo & (1u << VIRTIO_BLK_F_WRITE_ZEROES));
	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_blk_config, max_discard_seg), 4), 1);
	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_blk_config, max_write_zeroes_seg), 4), 1);
	bring_up();

	memset(data, 0x77, 8192);
	cr_assert_eq(request(VIRTIO_BLK_T_OUT, 16, 8192, false), VIRTIO_BLK_S_OK);
	cr_assert(image_is(0x77, 16 * 512, 8192));
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, 16, 8, 0, 16), VIRTIO_BLK_S_OK);
	cr_assert(image_is(0, 16 * 512, 4096), "discarded blocks read back as zeros");
	cr_assert(image_is(0x77, 24 * 512, 4096), "and nothing past them");
	cr_assert_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 24, 4, 0, 16), VIRTIO_BLK_S_OK);
	cr_assert(image_is(0, 24 * 512, 2048));
	cr_assert(image_is(0x77, 28 * 512, 2048));
	cr_assert_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 28, 4, 1, 16), VIRTIO_BLK_S_OK,
		     "unmap allowed: write_zeroes_may_unmap is 1");
	cr_assert(image_is(0, 28 * 512, 2048));
	cr_assert_eq(metrics__value(&dev->metrics, "discards"), 1);
	cr_assert_eq(metrics__value(&dev->metrics, "write_zeroes"), 2);
}

Test(virtio_blk, range_requests_the_guest_got_wrong)
{
	bring_up();
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 8, 1, 16), VIRTIO_BLK_S_UNSUPP,
		     "unmap on a discard (5.2.6.2)");
	cr_assert_eq(range_request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2, 16), VIRTIO_BLK_S_UNSUPP,
		     "unknown flag");
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, 2040, 16, 0, 16), VIRTIO_BLK_S_IOERR,
		     "past the end");
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 0, 0, 16), VIRTIO_BLK_S_IOERR,
		     "empty range");
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, UINT64_MAX / 2, 8, 0, 16),
		     VIRTIO_BLK_S_IOERR, "offset overflow");
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 8, 0, 32), VIRTIO_BLK_S_IOERR,
		     "two segments: more than max_discard_seg");
	cr_assert_eq(range_request(VIRTIO_BLK_T_DISCARD, 0, 8, 0, 8), VIRTIO_BLK_S_IOERR,
		     "half a segment");
	cr_assert_eq(request(VIRTIO_BLK_T_WRITE_ZEROES, 0, 16, true), VIRTIO_BLK_S_IOERR,
		     "the segment in a writable buffer");
	cr_assert_eq(metrics__value(&dev->metrics, "discards"), 1, "only the past-the-end one got as far as the backend, as reads do");
	cr_assert_geq(metrics__value(&dev->metrics, "bad_requests"), 5);
	/* The device still works. */
	cr_assert_eq(request(VIRTIO_BLK_T_IN, 0, 512, true), VIRTIO_BLK_S_OK);
}

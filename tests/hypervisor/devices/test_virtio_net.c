/*
 * virtio-net driven the way a guest driver does it: registers through the
 * MMIO bus, the three queues in guest RAM, kicks on the notify registers
 * (trapped here: no KVM, so no ioeventfd). The backend is one end of a
 * datagram socketpair carrying header + frame, as a TAP does; the test
 * holds the other end, and a real event loop delivers received packets.
 */
#include <criterion/criterion.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/evloop.h"
#include "hypervisor/kvm.h"
#include "lib/frame.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM	(4u << 20)
#define QSIZE	16
#define RING(q)	(0x10000u + (q) * 0x3000u)	/* desc, avail +0x1000, used +0x2000 */
#define BUF	0x40000u			/* 16 x 4 KiB buffers per queue */
#define HDR	12

static struct kvm *kvm;
static struct device *dev;
static int peer = -1;
static uint64_t bar;
static uint16_t avail_idx[3];

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }
static struct vring_desc *desc(int q) { return gpa(RING(q)); }
static struct vring_avail *avail(int q) { return gpa(RING(q) + 0x1000); }
static struct vring_used *used(int q) { return gpa(RING(q) + 0x2000); }
static uint64_t buf(int q, int i) { return BUF + (uint64_t)(q * QSIZE + i) * 4096; }

static uint32_t rd(uint64_t off, uint32_t len) { return test_mmio_read(kvm, bar + off, len); }
static void wr(uint64_t off, uint32_t v, uint32_t len) { test_mmio_write(kvm, bar + off, v, len); }

#define COMMON(f) offsetof(struct virtio_pci_common_cfg, f)

static void setup(void)
{
	char args[32];

	log_level = LOG_ERR - 1;
	kvm = test_fake_kvm_with_ram(RAM);
	test_fake_kvm_evloop(kvm);
	peer = test_nic_backend(args, sizeof(args));
	dev = device__create(kvm, "virtio-net", args);
	cr_assert_not_null(dev);
	bar = pci__bar_address(kvm->pci.slots[0], 0);
	memset(avail_idx, 0, sizeof(avail_idx));
}

static void teardown(void)
{
	test_fake_kvm_free(kvm);
	close(peer);
}

TestSuite(virtio_net, .init = setup, .fini = teardown);

static void bring_up(uint32_t features)
{
	test_virtio_bring_up(kvm, bar, features, 3, QSIZE, RING(0), RING(1) - RING(0));
}

/* Makes chain `head` available on queue q and kicks it. */
static void offer(int q, uint16_t head)
{
	avail(q)->ring[avail_idx[q] % QSIZE] = head;
	avail(q)->idx = ++avail_idx[q];
	wr(0x3000 + 4 * (uint64_t)q, (uint32_t)q, 2);
}

/* Waits (event loop side) until queue q's used index reaches want. */
static bool wait_used(int q, uint16_t want)
{
	int i;

	for (i = 0; i < 2000; i++) {
		if (__atomic_load_n(&used(q)->idx, __ATOMIC_ACQUIRE) == want)
			return true;
		usleep(1000);
	}
	return false;
}

static const unsigned char mac[6] = { 2, 0, 0, 0, 0, 1 };

/* One transmit chain: header and frame in two buffers. */
static void transmit(uint16_t head, uint32_t seq, uint32_t size)
{
	struct virtio_net_hdr_v1 *h = gpa(buf(1, head));

	memset(h, 0, HDR);
	frame__fill(gpa(buf(1, head) + 64), size, mac, seq, 0);
	desc(1)[head] = (struct vring_desc){ buf(1, head), HDR, VRING_DESC_F_NEXT,
					     (uint16_t)((head + 1) % QSIZE) };
	desc(1)[(head + 1) % QSIZE] = (struct vring_desc){ buf(1, head) + 64, size, 0, 0 };
	offer(1, head);
}

static ssize_t peer_recv(uint8_t *b, size_t len)
{
	struct pollfd p = { peer, POLLIN, 0 };

	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(peer, b, len, 0);
}

Test(virtio_net, identity_features_and_mac)
{
	uint32_t lo;

	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], PCI_DEVICE_ID), 0x1041);
	wr(COMMON(device_feature_select), 0, 4);
	lo = rd(COMMON(device_feature), 4);
	cr_assert(lo & (1u << VIRTIO_NET_F_MRG_RXBUF));
	cr_assert(lo & (1u << VIRTIO_NET_F_MAC));
	cr_assert(lo & (1u << VIRTIO_NET_F_CTRL_VQ));
	cr_assert_eq(rd(COMMON(num_queues), 2), 3);
	cr_assert_eq(rd(0x2000, 1), 0x52, "QEMU's default MAC 52:54:00:12:34:56");
	cr_assert_eq(rd(0x2005, 1), 0x56);
	cr_assert_eq(rd(0x2000 + offsetof(struct virtio_net_config, status), 2), VIRTIO_NET_S_LINK_UP);
}

Test(virtio_net, transmit_reaches_the_backend_intact)
{
	uint8_t b[2048];
	uint32_t seq, i;

	bring_up(1u << VIRTIO_NET_F_MRG_RXBUF);
	for (i = 0; i < 5; i++) {
		transmit((uint16_t)(2 * i), 100 + i, 64 + 300 * i);
		cr_assert_eq(used(1)->idx, i + 1, "answered at the kick");
		cr_assert_eq(peer_recv(b, sizeof(b)), HDR + 64 + 300 * i);
		cr_assert(frame__check(b + HDR, 64 + 300 * i, 0, &seq), "payload intact");
		cr_assert_eq(seq, 100 + i);
	}
	cr_assert_eq(metrics__value(&dev->metrics, "tx_packets"), 5);
}

/* Receive buffers of 4 KiB: one frame each; mergeable: num_buffers 1. */
static void post_rx(int n, uint32_t len)
{
	int i;

	for (i = 0; i < n; i++) {
		uint16_t d = (uint16_t)(avail_idx[0] % QSIZE);

		desc(0)[d] = (struct vring_desc){ buf(0, d), len, VRING_DESC_F_WRITE, 0 };
		offer(0, d);
	}
}

static void peer_send(uint32_t seq, uint32_t size)
{
	uint8_t b[HDR + FRAME_MAX] = { 0 };

	frame__fill(b + HDR, size, mac, seq, 0);
	cr_assert_eq(send(peer, b, HDR + size, 0), HDR + size);
}

Test(virtio_net, receive_waits_for_buffers_then_delivers_in_order)
{
	uint32_t seq, i;

	bring_up(1u << VIRTIO_NET_F_MRG_RXBUF);
	for (i = 0; i < 3; i++)
		peer_send(i, 1514);
	usleep(20000);
	cr_assert_eq(used(0)->idx, 0, "no buffers yet: nothing delivered");
	post_rx(2, 4096);
	cr_assert(wait_used(0, 2));
	post_rx(1, 4096);
	cr_assert(wait_used(0, 3), "the third once a buffer came");
	for (i = 0; i < 3; i++) {
		struct vring_used_elem *e = &used(0)->ring[i];
		uint8_t *p = gpa(buf(0, (int)e->id));
		struct virtio_net_hdr_v1 *h = (void *)p;

		cr_assert_eq(e->len, HDR + 1514);
		cr_assert_eq(h->num_buffers, 1);
		cr_assert(frame__check(p + HDR, 1514, 1514, &seq));
		cr_assert_eq(seq, i);
	}
	cr_assert_geq(metrics__value(&dev->metrics, "rx_no_buffer_stalls"), 1);
}

Test(virtio_net, mergeable_buffers_carry_a_frame_across_several)
{
	uint32_t seq, got = 0, i;
	uint8_t frame[1514];

	bring_up(1u << VIRTIO_NET_F_MRG_RXBUF);
	post_rx(4, 512);		/* 12 + 1514 bytes need 3 of them */
	peer_send(7, 1514);
	cr_assert(wait_used(0, 3));
	cr_assert_eq(((struct virtio_net_hdr_v1 *)gpa(buf(0, 0)))->num_buffers, 3);
	for (i = 0; i < 3; i++) {
		struct vring_used_elem *e = &used(0)->ring[i];
		uint32_t skip = i ? 0 : HDR;

		memcpy(frame + got, (uint8_t *)gpa(buf(0, (int)e->id)) + skip, e->len - skip);
		got += e->len - skip;
	}
	cr_assert_eq(got, 1514);
	cr_assert(frame__check(frame, 1514, 1514, &seq));
	cr_assert_eq(seq, 7);
}

Test(virtio_net, without_mergeable_a_short_buffer_drops_the_frame)
{
	bring_up(0);
	post_rx(1, 512);
	peer_send(1, 1514);
	cr_assert(wait_used(0, 1), "the buffer comes back");
	cr_assert_eq(used(0)->ring[0].len, 0, "empty");
	cr_assert_eq(metrics__value(&dev->metrics, "rx_dropped"), 1);
}

Test(virtio_net, guest_mistakes_are_counted_and_the_device_goes_on)
{
	struct virtio_net_hdr_v1 *h = gpa(buf(1, 4));
	uint8_t b[2048];
	uint32_t seq;

	bring_up(1u << VIRTIO_NET_F_MRG_RXBUF);
	/* A buffer outside guest RAM. */
	desc(1)[0] = (struct vring_desc){ RAM - 8, 64, 0, 0 };
	offer(1, 0);
	/* A writable transmit buffer. */
	desc(1)[1] = (struct vring_desc){ buf(1, 1), 64, VRING_DESC_F_WRITE, 0 };
	offer(1, 1);
	/* GSO without HOST_TSO4 negotiated. */
	memset(h, 0, HDR);
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = 1448;
	desc(1)[4] = (struct vring_desc){ buf(1, 4), HDR + 64, 0, 0 };
	offer(1, 4);
	/* A frame shorter than an Ethernet header, and a chain that loops. */
	desc(1)[5] = (struct vring_desc){ buf(1, 5), HDR + 6, 0, 0 };
	offer(1, 5);
	desc(1)[6] = (struct vring_desc){ buf(1, 6), HDR, VRING_DESC_F_NEXT, 6 };
	offer(1, 6);
	cr_assert_eq(used(1)->idx, 5, "every chain answered");
	cr_assert_eq(metrics__value(&dev->metrics, "tx_bad_chains"), 5);
	/* A readable receive buffer: returned empty when a frame comes, counted;
	 * the frame waits for a good one. */
	desc(0)[0] = (struct vring_desc){ buf(0, 0), 4096, 0, 0 };
	offer(0, 0);
	peer_send(9, 200);
	cr_assert(wait_used(0, 1));
	cr_assert_eq(used(0)->ring[0].len, 0);
	cr_assert_eq(metrics__value(&dev->metrics, "rx_bad_buffers"), 1);
	/* Still works both ways. */
	transmit(8, 42, 128);
	cr_assert_eq(peer_recv(b, sizeof(b)), HDR + 128);
	cr_assert(frame__check(b + HDR, 128, 128, &seq));
	post_rx(1, 4096);
	cr_assert(wait_used(0, 2));
	cr_assert(frame__check((uint8_t *)gpa(buf(0, 1)) + HDR, 200, 200, &seq));
	cr_assert_eq(seq, 9);
}

Test(virtio_net, control_queue_answers_rx_modes_and_refuses_the_rest)
{
	uint8_t *cmd = gpa(buf(2, 0)), *ack = gpa(buf(2, 1));

	bring_up((1u << VIRTIO_NET_F_CTRL_VQ) | (1u << VIRTIO_NET_F_CTRL_RX));
	cmd[0] = VIRTIO_NET_CTRL_RX;
	cmd[1] = VIRTIO_NET_CTRL_RX_PROMISC;
	cmd[2] = 1;
	*ack = 0xee;
	desc(2)[0] = (struct vring_desc){ buf(2, 0), 2, VRING_DESC_F_NEXT, 1 };
	desc(2)[1] = (struct vring_desc){ buf(2, 0) + 2, 1, VRING_DESC_F_NEXT, 2 };
	desc(2)[2] = (struct vring_desc){ buf(2, 1), 1, VRING_DESC_F_WRITE, 0 };
	offer(2, 0);
	cr_assert_eq(*ack, VIRTIO_NET_OK);
	cmd[0] = VIRTIO_NET_CTRL_VLAN;	/* not offered */
	offer(2, 0);
	cr_assert_eq(*ack, VIRTIO_NET_ERR);
	cr_assert_eq(used(2)->idx, 2);
}

Test(virtio_net, reset_forgets_and_comes_back)
{
	uint32_t seq;

	bring_up(1u << VIRTIO_NET_F_MRG_RXBUF);
	post_rx(1, 4096);
	wr(COMMON(device_status), 0, 1);
	cr_assert_eq(rd(COMMON(device_status), 1), 0);
	memset(gpa(RING(0)), 0, 0x3000 * 3);
	memset(avail_idx, 0, sizeof(avail_idx));
	bring_up(1u << VIRTIO_NET_F_MRG_RXBUF);
	post_rx(1, 4096);
	peer_send(3, 100);
	cr_assert(wait_used(0, 1));
	cr_assert(frame__check((uint8_t *)gpa(buf(0, 0)) + HDR, 100, 100, &seq));
}

/* EVENT_IDX (virtio 1.2, 2.7.10): the device interrupts only when the used
 * index passes the driver's used_event, and publishes avail_event, the
 * index at which it wants the next kick. Without an MSI-X vector the ISR
 * bit shows whether it signalled. */
Test(virtio_net, event_idx_spaces_interrupts_and_asks_for_kicks)
{
	volatile uint16_t *used_event = &avail(1)->ring[QSIZE];
	volatile uint16_t *avail_event = (uint16_t *)&used(1)->ring[QSIZE];
	uint8_t b[2048];
	uint32_t i;

	bring_up((1u << VIRTIO_NET_F_MRG_RXBUF) | (1u << VIRTIO_RING_F_EVENT_IDX));
	rd(0x1000, 1);			/* ISR: clear */
	*used_event = 3;		/* interrupt when used idx passes 3 */
	for (i = 0; i < 3; i++) {
		transmit((uint16_t)(2 * i), i, 64);
		cr_assert_eq(peer_recv(b, sizeof(b)), HDR + 64);
		/* The first always signals: nothing was signalled before (as QEMU). */
		cr_assert_eq(rd(0x1000, 1), i == 0, "interrupt at used idx %u", i + 1);
		cr_assert_eq(*avail_event, avail_idx[1], "the next kick asked for");
	}
	transmit(6, 3, 64);
	cr_assert_eq(peer_recv(b, sizeof(b)), HDR + 64);
	cr_assert_eq(rd(0x1000, 1), 1, "used idx 4 passed used_event 3");
}

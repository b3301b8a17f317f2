/*
 * The 82540EM model driven as Linux's e1000 driver drives it: MMIO
 * register writes (trapped), descriptor rings in guest RAM, the EEPROM
 * bit-banged through EECD, the PHY through MDIC. The backend is a
 * datagram socketpair (header + frame, as a TAP); a real event loop
 * delivers received frames.
 */
#include <criterion/criterion.h>
#include <linux/virtio_net.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/e1000.h"
#include "hypervisor/evloop.h"
#include "hypervisor/kvm.h"
#include "lib/frame.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM	(4u << 20)
#define TXR	0x10000u	/* 16 descriptors */
#define RXR	0x11000u
#define NDESC	16
#define TXB	0x20000u	/* 4 KiB per descriptor */
#define RXB	0x40000u
#define HDR	12

static struct kvm *kvm;
static struct device *dev;
static int peer = -1;
static uint64_t bar;

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }
static struct e1000_tx_desc *txd(unsigned int i) { return (struct e1000_tx_desc *)gpa(TXR) + i; }
static struct e1000_rx_desc *rxd(unsigned int i) { return (struct e1000_rx_desc *)gpa(RXR) + i; }

static uint32_t rd(uint32_t off) { return test_mmio_read(kvm, bar + off, 4); }
static void wr(uint32_t off, uint32_t v) { test_mmio_write(kvm, bar + off, v, 4); }

static void setup(void)
{
	char fd[24], args[64];

	log_level = LOG_ERR - 1;
	kvm = test_fake_kvm_with_ram(RAM);
	test_fake_kvm_evloop(kvm);
	peer = test_nic_backend(fd, sizeof(fd));
	snprintf(args, sizeof(args), "%s,mac=02:00:00:00:00:07", fd);
	dev = device__create(kvm, "e1000", args);
	cr_assert_not_null(dev);
	bar = pci__bar_address(kvm->pci.slots[0], 0);
}

static void teardown(void)
{
	test_fake_kvm_free(kvm);
	close(peer);
}

TestSuite(e1000, .init = setup, .fini = teardown);

static void rings_up(void)
{
	unsigned int i;

	wr(E1000_CTRL, E1000_CTRL_RST);
	wr(E1000_TDBAL, TXR);
	wr(E1000_TDLEN, NDESC * 16);
	wr(E1000_TDH, 0);
	wr(E1000_TDT, 0);
	wr(E1000_TCTL, E1000_TCTL_EN);
	for (i = 0; i < NDESC; i++)
		*rxd(i) = (struct e1000_rx_desc){ .addr = RXB + 4096ull * i };
	wr(E1000_RDBAL, RXR);
	wr(E1000_RDLEN, NDESC * 16);
	wr(E1000_RDH, 0);
	wr(E1000_RDT, 0);
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_SECRC);	/* 2 KiB buffers */
	wr(E1000_IMS, E1000_ICR_TXDW | E1000_ICR_RXT0);
}

static ssize_t peer_recv(uint8_t *b, size_t len)
{
	struct pollfd p = { peer, POLLIN, 0 };

	if (poll(&p, 1, 2000) != 1)
		return -1;
	return recv(peer, b, len, 0);
}

static void peer_send(uint32_t seq, uint32_t size)
{
	static const unsigned char mac[6] = { 2, 0, 0, 0, 0, 9 };
	uint8_t b[HDR + FRAME_MAX] = { 0 };

	frame__fill(b + HDR, size, mac, seq, 0);
	cr_assert_eq(send(peer, b, HDR + size, 0), HDR + size);
}

/* A legacy transmit descriptor (3.3.3). */
static void legacy_tx(unsigned int i, uint64_t addr, uint32_t len, uint8_t cmd)
{
	*txd(i) = (struct e1000_tx_desc){ addr, len | (uint32_t)cmd << 24, 0 };
}

/* Reads EEPROM word a by bit-banging Microwire, as e1000_shift_out_ee_bits
 * and e1000_shift_in_ee_bits do. */
static uint16_t microwire_read(unsigned int a)
{
	uint32_t cmd = 0x6u << 6 | a, v = 0;
	int i;

	wr(E1000_EECD, 0x2);			/* CS */
	for (i = 8; i >= 0; i--) {
		uint32_t di = (cmd >> i) & 1 ? 0x4 : 0;

		wr(E1000_EECD, 0x2 | di);
		wr(E1000_EECD, 0x2 | di | 0x1);	/* SK up */
		wr(E1000_EECD, 0x2 | di);	/* SK down */
	}
	for (i = 0; i < 16; i++) {
		wr(E1000_EECD, 0x2 | 0x1);
		v = v << 1 | !!(rd(E1000_EECD) & 0x8);
		wr(E1000_EECD, 0x2);
	}
	wr(E1000_EECD, 0);
	return (uint16_t)v;
}

Test(e1000, identity_eeprom_and_phy)
{
	uint16_t sum = 0;
	unsigned int a;

	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], PCI_VENDOR_ID), 0x8086);
	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], PCI_DEVICE_ID), 0x100e);
	cr_assert_eq(kvm->pci.slots[0]->cfg[PCI_INTERRUPT_PIN], 1);
	cr_assert(rd(E1000_STATUS) & 2, "link up");
	for (a = 0; a < 64; a++)
		sum = (uint16_t)(sum + microwire_read(a));
	cr_assert_eq(sum, 0xbaba, "EEPROM checksum");
	cr_assert_eq(microwire_read(0), 0x0002, "MAC bytes 0-1");
	cr_assert_eq(microwire_read(2), 0x0700, "MAC bytes 4-5");
	wr(E1000_EERD, 2 << 8 | 1);
	cr_assert_eq(rd(E1000_EERD) >> 16, 0x0700, "EERD reads the same word");
	cr_assert(rd(E1000_EERD) & 0x10, "done");
	wr(E1000_MDIC, 2u << 26 | 1u << 21 | 2u << 16);	/* read PHY ID 1 */
	cr_assert_eq(rd(E1000_MDIC) & 0xffff, 0x0141);
	cr_assert(rd(E1000_MDIC) & (1u << 28), "ready");
	cr_assert_eq(rd(E1000_RA + 4) & 0xffff, 0x0700);
}

Test(e1000, transmit_writes_back_and_interrupts)
{
	static const unsigned char mac[6] = { 2, 0, 0, 0, 0, 7 };
	uint8_t b[2048];
	uint32_t seq, i;

	rings_up();
	for (i = 0; i < 4; i++) {
		frame__fill(gpa(TXB + 4096 * i), 64 + 400 * i, mac, i, 0);
		/* Two descriptors per frame: header bytes, then the rest. */
		legacy_tx(2 * i, TXB + 4096 * i, 14, 0);
		legacy_tx(2 * i + 1, TXB + 4096 * i + 14, 50 + 400 * i,
			  E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	}
	wr(E1000_TDT, 8);
	cr_assert_eq(rd(E1000_TDH), 8);
	for (i = 0; i < 4; i++) {
		struct virtio_net_hdr_v1 *h = (void *)b;

		cr_assert_eq(peer_recv(b, sizeof(b)), HDR + 64 + 400 * i);
		cr_assert_eq(h->flags, 0);
		cr_assert(frame__check(b + HDR, 64 + 400 * i, 0, &seq));
		cr_assert_eq(seq, i);
		cr_assert(txd(2 * i + 1)->upper & 1, "DD written back");
	}
	cr_assert(rd(E1000_ICR) & E1000_ICR_TXDW);
	cr_assert_eq(rd(E1000_ICR), 0, "read clears");
	cr_assert_eq(metrics__value(&dev->metrics, "irqs_sent"), 1);
	cr_assert_eq(rd(E1000_GPTC), 4);
	cr_assert_eq(rd(E1000_GPTC), 0, "statistics clear on read");
}

Test(e1000, receive_fills_descriptors)
{
	uint32_t seq, i;

	rings_up();
	peer_send(0, 1514);
	usleep(20000);
	cr_assert_eq(rd(E1000_RDH), 0, "no descriptors yet");
	wr(E1000_RDT, NDESC - 1);
	for (i = 0; i < 2; i++)
		peer_send(i + 1, 64 + i);
	for (i = 0; i < 200 && rd(E1000_RDH) != 3; i++)
		usleep(1000);
	cr_assert_eq(rd(E1000_RDH), 3);
	for (i = 0; i < 3; i++) {
		cr_assert_eq(rxd(i)->status, E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP);
		cr_assert(frame__check(gpa(RXB + 4096 * i), rxd(i)->length, 0, &seq));
		cr_assert_eq(seq, i);
	}
	cr_assert_eq(rxd(0)->length, 1514, "SECRC: no FCS");
	cr_assert(rd(E1000_ICR) & E1000_ICR_RXT0);
}

Test(e1000, receive_filters_and_fcs)
{
	uint8_t b[HDR + 64] = { 0 };
	unsigned int i;

	rings_up();
	wr(E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM);	/* FCS kept */
	wr(E1000_RDT, NDESC - 1);
	memcpy(b + HDR, "\x02\x00\x00\x00\x00\x55", 6);	/* someone else's address */
	cr_assert_eq(send(peer, b, sizeof(b), 0), sizeof(b));
	memcpy(b + HDR, "\x02\x00\x00\x00\x00\x07", 6);	/* ours, 64 bytes */
	cr_assert_eq(send(peer, b, sizeof(b), 0), sizeof(b));
	for (i = 0; i < 200 && rd(E1000_RDH) != 1; i++)
		usleep(1000);
	cr_assert_eq(rd(E1000_RDH), 1, "only ours taken");
	cr_assert_eq(rxd(0)->length, 64 + 4, "with the FCS");
	cr_assert_eq(metrics__value(&dev->metrics, "rx_filtered"), 1);
}

/* A TCP/IPv4 packet under TSO: context descriptor, then the data. */
Test(e1000, tso_becomes_a_gso_packet_with_fixed_headers)
{
	uint8_t *p = gpa(TXB), b[4096];
	struct virtio_net_hdr_v1 *h = (void *)b;
	uint32_t sum = 0, i, len = 14 + 20 + 20 + 3000;

	rings_up();
	memset(p, 0, len);
	p[12] = 0x08;			/* IPv4 */
	p[14] = 0x45;
	p[14 + 9] = 6;			/* TCP */
	p[14 + 20 + 12] = 0x50;		/* data offset 5 */
	p[14 + 20 + 16] = 0x12;		/* checksum seed (pseudo header, no length) */
	p[14 + 20 + 17] = 0x34;
	/* ipcss 14, ipcso 24, ipcse 33; tucss 34, tucso 50, tucse 0. */
	*txd(0) = (struct e1000_tx_desc){
		14ull | 24ull << 8 | 33ull << 16 | 34ull << 32 | 50ull << 40,
		3000 | 0u << 20 | (uint32_t)(E1000_TUCMD_TCP | E1000_TUCMD_IP | E1000_TUCMD_TSE |
					     E1000_TXD_CMD_DEXT) << 24,
		54u << 8 | 1448u << 16 };
	*txd(1) = (struct e1000_tx_desc){ TXB, len | 1u << 20 |
		(uint32_t)(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP) << 24,
		(E1000_TXD_POPTS_IXSM | E1000_TXD_POPTS_TXSM) << 8 };
	wr(E1000_TDT, 2);
	cr_assert_eq(peer_recv(b, sizeof(b)), HDR + len);
	cr_assert_eq(h->gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	cr_assert_eq(h->gso_size, 1448);
	cr_assert_eq(h->hdr_len, 54);
	cr_assert_eq(h->flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	cr_assert_eq(h->csum_start, 34);
	cr_assert_eq(h->csum_offset, 16);
	cr_assert_eq((uint32_t)(b[HDR + 16] << 8 | b[HDR + 17]), len - 14, "IP total length");
	for (i = 0; i < 20; i += 2)
		sum += (uint32_t)(b[HDR + 14 + i] << 8 | b[HDR + 15 + i]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	cr_assert_eq(sum, 0xffff, "IP header checksum valid");
	cr_assert_eq((uint32_t)(b[HDR + 50] << 8 | b[HDR + 51]), 0x1234 + (len - 34), "seed + TCP length");
}

Test(e1000, itr_spaces_interrupts)
{
	unsigned int i;

	rings_up();
	wr(E1000_ITR, 40000);		/* 10.24 ms apart */
	wr(E1000_ICS, E1000_ICR_TXDW);
	cr_assert_eq(metrics__value(&dev->metrics, "irqs_sent"), 1);
	rd(E1000_ICR);			/* the handler: line down */
	wr(E1000_ICS, E1000_ICR_TXDW);
	cr_assert_eq(metrics__value(&dev->metrics, "irqs_sent"), 1, "held");
	cr_assert_eq(metrics__value(&dev->metrics, "irqs_throttled"), 1);
	for (i = 0; i < 500 && metrics__value(&dev->metrics, "irqs_sent") < 2; i++)
		usleep(1000);
	cr_assert_eq(metrics__value(&dev->metrics, "irqs_sent"), 2, "sent when the gap passed");
}

Test(e1000, guest_mistakes_are_counted_and_the_device_goes_on)
{
	static const unsigned char mac[6] = { 2, 0, 0, 0, 0, 7 };
	uint8_t b[2048];
	uint32_t seq;

	rings_up();
	/* A ring outside RAM, then a tail past the ring. */
	wr(E1000_TDBAL, RAM - 64);
	wr(E1000_TDT, 1);
	wr(E1000_TDBAL, TXR);
	wr(E1000_TDT, NDESC + 3);
	cr_assert_eq(metrics__value(&dev->metrics, "bad_rings"), 2);
	wr(E1000_TDT, 0);
	wr(E1000_TDH, 0);
	/* A buffer outside RAM; a packet longer than 64 KiB; an unknown type. */
	legacy_tx(0, RAM - 8, 64, E1000_TXD_CMD_EOP | E1000_TXD_CMD_RS);
	legacy_tx(1, 0, 0xffff, 0);
	legacy_tx(2, 0, 0xffff, E1000_TXD_CMD_EOP);
	*txd(3) = (struct e1000_tx_desc){ 0, 7u << 20 | (uint32_t)E1000_TXD_CMD_DEXT << 24, 0 };
	/* TSO without a context. */
	*txd(4) = (struct e1000_tx_desc){ TXB, 64 | 1u << 20 |
		(uint32_t)(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE | E1000_TXD_CMD_EOP) << 24, 0 };
	wr(E1000_TDT, 5);
	cr_assert_eq(rd(E1000_TDH), 5, "all consumed");
	cr_assert(txd(0)->upper & 1, "answered DD");
	cr_assert_eq(metrics__value(&dev->metrics, "tx_bad_packets"), 4);
	/* Still sends. */
	frame__fill(gpa(TXB), 100, mac, 5, 0);
	legacy_tx(5, TXB, 100, E1000_TXD_CMD_EOP);
	wr(E1000_TDT, 6);
	cr_assert_eq(peer_recv(b, sizeof(b)), HDR + 100);
	cr_assert(frame__check(b + HDR, 100, 100, &seq));
	/* A receive descriptor pointing outside RAM: an error in the descriptor. */
	rxd(0)->addr = RAM - 16;
	wr(E1000_RDT, 2);
	peer_send(1, 200);
	peer_send(2, 200);
	for (seq = 0; seq < 200 && rd(E1000_RDH) != 2; seq++)
		usleep(1000);
	cr_assert_eq(rxd(0)->errors, 0x80);
	cr_assert_eq(rxd(1)->errors, 0);
	cr_assert_eq(metrics__value(&dev->metrics, "rx_bad_descriptors"), 1);
}

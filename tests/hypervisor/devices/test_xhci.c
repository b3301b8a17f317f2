/*
 * The xHCI model driven the way Linux's xhci_hcd does it: reset, DCBAA,
 * command ring, one event ring segment, run; port reset, Enable Slot,
 * Address Device, descriptors, Configure Endpoint, bulk TDs carrying BOT.
 * Then the guest's mistakes and malice: rings and buffers outside RAM,
 * link loops, TDs that never end or are too long, a full event ring.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM		(4u << 20)
#define DCBAA		0x10000
#define CMD_RING	0x11000
#define EVENTS		0x12000
#define ERST		0x13000
#define OUT_CTX		0x14000
#define IN_CTX		0x15000
#define EP0_RING	0x16000
#define IN_RING		0x17000
#define OUT_RING	0x18000
#define DATA		0x20000
#define OP		0x40
#define RT		0x1000
#define DB		0x2000

struct trb {
	uint64_t param;
	uint32_t status, control;
};

struct ring {
	uint64_t base;
	unsigned int idx;
	uint32_t cycle;
};

static struct kvm *kvm;
static struct device *dev;
static char image[] = "/tmp/vioscope-xhci-XXXXXX";
static uint64_t bar;
static struct ring cmd, ep0, bin, bout;
static unsigned int ev_idx;
static uint32_t ev_cycle;

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }
static uint32_t rd(uint32_t off) { return test_mmio_read(kvm, bar + off, 4); }
static void wr(uint32_t off, uint32_t v) { test_mmio_write(kvm, bar + off, v, 4); }
static uint64_t metric(const char *name) { return metrics__value(&dev->metrics, name); }

static uint64_t put(struct ring *r, uint64_t param, uint32_t status, uint32_t control)
{
	struct trb *t = gpa(r->base + 16 * r->idx);
	uint64_t at = r->base + 16 * r->idx;

	*t = (struct trb){ param, status, control | r->cycle };
	if (++r->idx == 255) {		/* link back, toggling the cycle */
		*(struct trb *)gpa(r->base + 16 * 255) =
			(struct trb){ r->base, 0, 6u << 10 | 2 | r->cycle };
		r->cycle ^= 1;
		r->idx = 0;
	}
	return at;
}

/* The next event, or a zeroed TRB when there is none. */
static struct trb event(void)
{
	struct trb *e = gpa(EVENTS + 16 * ev_idx), none = { 0 };

	if ((e->control & 1) != ev_cycle)
		return none;
	if (++ev_idx == 64) {
		ev_idx = 0;
		ev_cycle ^= 1;
	}
	wr(RT + 0x38, (EVENTS + 16 * ev_idx) | 8);
	return *e;
}

static unsigned int type(struct trb t) { return (t.control >> 10) & 0x3f; }
static unsigned int cc(struct trb t) { return t.status >> 24; }

/* Runs a command; its completion event. */
static struct trb command(uint64_t param, uint32_t control)
{
	uint64_t at = put(&cmd, param, 0, control);
	struct trb e;

	wr(DB, 0);
	do
		e = event();
	while (type(e) && type(e) != 33);
	cr_assert_eq(type(e), 33, "no command completion");
	cr_assert_eq(e.param, at);
	return e;
}

static void setup(void)
{
	char args[128];
	int fd = mkstemp(image);
	uint64_t *erst;

	log_level = LOG_ERR - 1;
	close(fd);
	unlink(image);
	kvm = test_fake_kvm_with_ram(RAM);
	snprintf(args, sizeof(args), "%s,size=1M", image);
	dev = device__create(kvm, "xhci", args);
	cr_assert_not_null(dev);
	bar = pci__bar_address(kvm->pci.slots[0], 0);
	cmd = (struct ring){ CMD_RING, 0, 1 };
	ep0 = (struct ring){ EP0_RING, 0, 1 };
	bin = (struct ring){ IN_RING, 0, 1 };
	bout = (struct ring){ OUT_RING, 0, 1 };
	ev_idx = 0;
	ev_cycle = 1;
	/* As xhci_hcd: halt, reset, slots, DCBAA, CRCR, ERST, run. */
	wr(OP + 0x00, 0);
	wr(OP + 0x00, 2);
	cr_assert_eq(rd(OP + 0x00) & 2, 0, "HCRST done at once");
	cr_assert_eq(rd(OP + 0x04) & (1u << 11), 0, "controller ready");
	wr(OP + 0x38, 8);
	wr(OP + 0x30, DCBAA);
	wr(OP + 0x34, 0);
	wr(OP + 0x18, CMD_RING | 1);
	wr(OP + 0x1c, 0);
	erst = gpa(ERST);
	erst[0] = EVENTS;
	erst[1] = 64;
	wr(RT + 0x28, 1);
	wr(RT + 0x38, EVENTS);
	wr(RT + 0x3c, 0);
	wr(RT + 0x30, ERST);
	wr(RT + 0x34, 0);
	wr(RT + 0x20, 2);
	wr(OP + 0x00, 1 | 4);
	cr_assert_eq(rd(OP + 0x04) & 1, 0, "running: HCH clear");
}

static void teardown(void)
{
	device__destroy_all(kvm);
	test_fake_kvm_free(kvm);
	unlink(image);
}

TestSuite(xhci, .init = setup, .fini = teardown);

static void ep_ctx(uint8_t *c, unsigned int ep_type, unsigned int mps, uint64_t ring)
{
	uint32_t *e = (uint32_t *)c;

	memset(c, 0, 32);
	e[1] = 3u << 1 | ep_type << 3 | mps << 16;
	e[2] = (uint32_t)ring | 1;
}

/* Port 1 reset, a slot, its address: the slot id. */
static unsigned int address_device(void)
{
	uint32_t *in = gpa(IN_CTX);
	struct trb e;
	unsigned int slot;

	wr(OP + 0x400, 1u << 9 | 1u << 4);			/* PP | PR */
	e = event();
	cr_assert_eq(type(e), 34, "port status change");
	cr_assert_eq(e.param >> 24, 1);
	cr_assert(rd(OP + 0x400) & 2, "port enabled");
	e = command(0, 9u << 10);
	cr_assert_eq(cc(e), 1);
	slot = e.control >> 24;
	cr_assert(slot >= 1 && slot <= 8);
	((uint64_t *)gpa(DCBAA))[slot] = OUT_CTX;
	memset(in, 0, 33 * 32);
	in[1] = 3;
	in[8] = 1u << 27 | 3u << 20;
	in[9] = 1u << 16;
	ep_ctx(gpa(IN_CTX + 64), 4, 64, EP0_RING);
	e = command(IN_CTX, 11u << 10 | slot << 24);
	cr_assert_eq(cc(e), 1, "address device: cc %u", cc(e));
	cr_assert_eq(((uint32_t *)gpa(OUT_CTX))[3] >> 27, 2, "slot addressed");
	cr_assert_eq(((uint32_t *)gpa(OUT_CTX))[3] & 0xff, slot, "its address");
	return slot;
}

/* A control transfer on EP0; the final event. */
static struct trb control(unsigned int slot, uint8_t rtype, uint8_t req, uint16_t value,
			  uint16_t len, uint64_t buf)
{
	uint64_t setup = rtype | (uint64_t)req << 8 | (uint64_t)value << 16 | (uint64_t)len << 48;
	bool in = rtype & 0x80;
	struct trb e;

	put(&ep0, setup, 8, 2u << 10 | 1u << 6 | (len ? (in ? 3u : 2u) << 16 : 0));
	if (len)
		put(&ep0, buf, len, 3u << 10 | (in ? 1u << 16 | 1u << 2 : 0));
	put(&ep0, 0, 0, 4u << 10 | 1u << 5 | (len && in ? 0 : 1u << 16));
	wr(DB + 4 * slot, 1);
	do
		e = event();
	while (type(e) == 32 && cc(e) == 13);		/* the data stage's short packet */
	return e;
}

static unsigned int configure(void)
{
	unsigned int slot = address_device();
	uint32_t *in = gpa(IN_CTX);
	uint8_t *d = gpa(DATA);
	struct trb e;

	e = control(slot, 0x80, 6, 0x0100, 18, DATA);
	cr_assert_eq(cc(e), 1);
	cr_assert_eq(d[0], 18);
	cr_assert_eq(d[8] | d[9] << 8, 0x1234, "the storage model's idVendor");
	/* Bulk IN 1 (DCI 3), bulk OUT 2 (DCI 4): the storage model's. */
	memset(in, 0, 33 * 32);
	in[1] = 1 | 1u << 3 | 1u << 4;
	in[8] = 4u << 27 | 3u << 20;
	in[9] = 1u << 16;
	ep_ctx(gpa(IN_CTX + 32 * 4), 6, 512, IN_RING);
	ep_ctx(gpa(IN_CTX + 32 * 5), 2, 512, OUT_RING);
	e = command(IN_CTX, 12u << 10 | slot << 24);
	cr_assert_eq(cc(e), 1, "configure endpoint: cc %u", cc(e));
	cr_assert_eq(((uint32_t *)gpa(OUT_CTX))[3] >> 27, 3, "slot configured");
	e = control(slot, 0x00, 9, 1, 0, 0);
	cr_assert_eq(cc(e), 1);
	return slot;
}

static struct trb bulk(unsigned int slot, bool in, uint64_t buf, uint32_t len)
{
	put(in ? &bin : &bout, buf, len, 1u << 10 | 1u << 5 | (in ? 1u << 2 : 0));
	wr(DB + 4 * slot, in ? 3 : 4);
	return event();
}

/* One BOT command with 512-byte blocks at DATA + 0x1000. */
static void bot(unsigned int slot, uint8_t op, uint32_t lba, uint16_t blocks)
{
	uint8_t *cbw = gpa(DATA), *csw = gpa(DATA + 64);
	bool in = op == 0x28;
	struct trb e;

	memset(cbw, 0, 31);
	memcpy(cbw, "USBC", 4);
	cbw[4] = 7;
	*(uint32_t *)(cbw + 8) = blocks * 512u;
	cbw[12] = in ? 0x80 : 0;
	cbw[14] = 10;
	cbw[15] = op;
	cbw[17] = (uint8_t)(lba >> 24);
	cbw[18] = (uint8_t)(lba >> 16);
	cbw[19] = (uint8_t)(lba >> 8);
	cbw[20] = (uint8_t)lba;
	cbw[22] = (uint8_t)(blocks >> 8);
	cbw[23] = (uint8_t)blocks;
	cr_assert_eq(cc(bulk(slot, false, DATA, 31)), 1);
	e = bulk(slot, in, DATA + 0x1000, blocks * 512u);
	cr_assert_eq(cc(e), 1, "data: cc %u", cc(e));
	cr_assert_eq(e.status & 0xffffff, 0, "no residue");
	e = bulk(slot, true, DATA + 64, 13);
	cr_assert_eq(cc(e), 1);
	cr_assert_eq(memcmp(csw, "USBS", 4), 0);
	cr_assert_eq(csw[12], 0, "CSW passed");
}

Test(xhci, capabilities_ports_and_protocols)
{
	cr_assert_eq(rd(0) & 0xff, 0x40, "CAPLENGTH");
	cr_assert_eq(rd(0) >> 16, 0x120, "xHCI 1.2");
	cr_assert_eq(rd(4) >> 24, 5, "five ports");
	cr_assert_eq(rd(4) & 0xff, 8, "eight slots");
	cr_assert_eq(rd(0x14), DB);
	cr_assert_eq(rd(0x18), RT);
	/* xECP: USB 2.0 ports 1-3, then USB 3.0 ports 4-5 (7.2). */
	uint32_t x = (rd(0x10) >> 16) * 4;
	cr_assert_eq(rd(x) & 0xff, 2);
	cr_assert_eq(rd(x) >> 24, 2);
	cr_assert_eq(rd(x + 8), 1 | 3u << 8);
	x += ((rd(x) >> 8) & 0xff) * 4;
	cr_assert_eq(rd(x) >> 24, 3);
	cr_assert_eq(rd(x + 8), 4 | 2u << 8);
	/* The disk on port 1: connected, high speed, change bit set. */
	cr_assert_eq(rd(OP + 0x400) & 1, 1);
	cr_assert_eq((rd(OP + 0x400) >> 10) & 15, 3);
	cr_assert(rd(OP + 0x400) & (1u << 17));
	/* The latency keyboard on port 2, full speed; port 3 (a host device
	 * passed through) and the USB 3 ports empty. */
	cr_assert_eq(rd(OP + 0x410) & 1, 1);
	cr_assert_eq((rd(OP + 0x410) >> 10) & 15, 1);
	for (unsigned int p = 3; p <= 5; p++)
		cr_assert_eq(rd(OP + 0x400 + 0x10 * (p - 1)) & 1, 0, "port %u", p);
	cr_assert_eq(rd(0x8), 4u << 4, "ERST Max 2^4 segments, no scratchpad");
}

Test(xhci, bring_up_and_bot_write_read_round_trip)
{
	unsigned int slot = configure(), i;
	uint8_t *buf = gpa(DATA + 0x1000);

	for (i = 0; i < 4096; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	bot(slot, 0x2a, 100, 8);
	memset(buf, 0, 4096);
	bot(slot, 0x28, 100, 8);
	for (i = 0; i < 4096; i++)
		cr_assert_eq(buf[i], (uint8_t)(i * 13 + 1), "byte %u", i);
	cr_assert_eq(metric("transfer_descriptors"), 2 + 6, "2 control, 6 bulk");
	cr_assert_eq(metric("trb_errors"), 0);
}

Test(xhci, short_packet_reports_the_residue)
{
	unsigned int slot = address_device();
	struct trb e;

	/* 64 bytes asked for, 18 sent: Short Packet on the data stage (ISP),
	 * then the status stage's Success. */
	put(&ep0, 0x80 | 6u << 8 | 0x0100ull << 16 | 64ull << 48, 8, 2u << 10 | 1u << 6 | 3u << 16);
	put(&ep0, DATA, 64, 3u << 10 | 1u << 16 | 1u << 2);
	put(&ep0, 0, 0, 4u << 10 | 1u << 5);
	wr(DB + 4 * slot, 1);
	e = event();
	cr_assert_eq(cc(e), 13);
	cr_assert_eq(e.status & 0xffffff, 64 - 18);
	e = event();
	cr_assert_eq(cc(e), 1);
	cr_assert_eq(type(e), 32);
}

Test(xhci, stall_halts_the_endpoint_until_reset)
{
	unsigned int slot = configure();
	struct trb e;

	/* A CBW of the wrong size: the storage model stalls (BOT 6.6.1). */
	e = bulk(slot, false, DATA, 30);
	cr_assert_eq(cc(e), 6, "STALL, cc %u", cc(e));
	cr_assert_eq(((uint32_t *)gpa(OUT_CTX + 32 * 4))[0] & 7, 2, "halted in the context");
	/* A doorbell on a halted endpoint does nothing. */
	wr(DB + 4 * slot, 4);
	cr_assert_eq(type(event()), 0);
	e = command(0, 15u << 10 | 4u << 16 | slot << 24);	/* Stop: not running */
	cr_assert_eq(cc(e), 19, "context state error");
	e = command(0, 14u << 10 | 4u << 16 | slot << 24);	/* Reset Endpoint */
	cr_assert_eq(cc(e), 1);
	e = command((OUT_RING + 16 * bout.idx) | bout.cycle, 16u << 10 | 4u << 16 | slot << 24);
	cr_assert_eq(cc(e), 1, "set TR dequeue");
	cr_assert_eq(((uint32_t *)gpa(OUT_CTX + 32 * 4))[0] & 7, 3, "stopped");
	cr_assert_eq(metric("stalls"), 1);
}

Test(xhci, commands_check_slots_contexts_and_ports)
{
	uint32_t *in = gpa(IN_CTX);
	struct trb e;
	unsigned int slot;

	e = command(0, 11u << 10 | 5u << 24);		/* slot 5 never enabled */
	cr_assert_eq(cc(e), 11);
	e = command(0, 9u << 10);
	slot = e.control >> 24;
	((uint64_t *)gpa(DCBAA))[slot] = OUT_CTX;
	e = command(RAM + 0x1000, 11u << 10 | slot << 24);	/* input context outside RAM */
	cr_assert_eq(cc(e), 5, "cc %u", cc(e));
	memset(in, 0, 3 * 32);
	in[1] = 3;
	in[9] = 2u << 16;				/* port 2: nobody there */
	ep_ctx(gpa(IN_CTX + 64), 4, 64, EP0_RING);
	e = command(IN_CTX, 11u << 10 | slot << 24);
	cr_assert_eq(cc(e), 4, "USB transaction error");
	in[9] = 1u << 16;				/* port 1, but not reset yet */
	e = command(IN_CTX, 11u << 10 | slot << 24);
	cr_assert_eq(cc(e), 4);
	e = command(0, 30u << 10);			/* no such command */
	cr_assert_eq(cc(e), 5);
	e = command(0, 23u << 10);			/* No Op */
	cr_assert_eq(cc(e), 1);
	for (unsigned int i = 0; i < 8; i++)		/* CONFIG says 8 slots */
		command(0, 9u << 10);
	e = command(0, 9u << 10);
	cr_assert_eq(cc(e), 9, "no slots left");
	cr_assert_gt(metric("bad_addresses"), 0);
}

Test(xhci, buffers_outside_ram_and_oversized_tds_are_trb_errors)
{
	unsigned int slot = configure();
	struct trb e;

	e = bulk(slot, false, RAM - 8, 31);
	cr_assert_eq(cc(e), 5, "cc %u", cc(e));
	/* Chained TRBs adding up to more than 1 MiB. */
	put(&bin, DATA, 65535, 1u << 10 | 1u << 4);
	for (int i = 0; i < 16; i++)
		put(&bin, DATA, 65535, 1u << 10 | 1u << 4);
	put(&bin, DATA, 65535, 1u << 10 | 1u << 5);
	wr(DB + 4 * slot, 3);
	e = event();
	cr_assert_eq(cc(e), 5);
	/* The endpoint still works. */
	bot(slot, 0x28, 0, 1);
	cr_assert_eq(metric("trb_errors"), 2);
}

Test(xhci, link_loops_and_endless_tds_halt_without_hanging)
{
	unsigned int slot = configure();
	struct trb *t = gpa(IN_RING + 16 * bin.idx), e;

	/* A link TRB to itself, no toggle: the walk gives up. */
	*t = (struct trb){ IN_RING + 16 * bin.idx, 0, 6u << 10 | bin.cycle };
	wr(DB + 4 * slot, 3);
	e = event();
	cr_assert_eq(cc(e), 5);
	cr_assert_eq(((uint32_t *)gpa(OUT_CTX + 32 * 3))[0] & 7, 2, "halted");
	cr_assert_eq(metric("ring_loops"), 1);
	/* The OUT ring: every TRB chained and a link back without toggle: a
	 * TD that never ends. */
	for (int i = 0; i < 255; i++)
		*(struct trb *)gpa(OUT_RING + 16 * i) = (struct trb){ DATA, 8, 1u << 10 | 1u << 4 | 1 };
	*(struct trb *)gpa(OUT_RING + 16 * 255) = (struct trb){ OUT_RING, 0, 6u << 10 | 1u << 4 | 1 };
	wr(DB + 4 * slot, 4);
	e = event();
	cr_assert_eq(cc(e), 5);
	cr_assert_eq(metric("ring_loops"), 2);
	/* The command ring: a loop too; the controller reports a host system
	 * error and halts, as 5.4.2 says, rather than spin. */
	t = gpa(CMD_RING + 16 * cmd.idx);
	*t = (struct trb){ CMD_RING + 16 * cmd.idx, 0, 6u << 10 | cmd.cycle };
	wr(DB, 0);
	cr_assert(rd(OP + 0x04) & (1u << 2), "HSE");
	cr_assert(rd(OP + 0x04) & 1, "halted");
}

Test(xhci, full_event_ring_says_so_and_drops)
{
	unsigned int i;

	/* 64-entry ring, never drained: 63 events fit, then the Event Ring
	 * Full error in the last slot; the rest are counted, not written. */
	for (i = 0; i < 80; i++) {
		put(&cmd, 0, 0, 23u << 10);
		wr(DB, 0);
	}
	cr_assert_eq(metric("events"), 63);
	cr_assert_eq(metric("events_dropped"), 80 - 63);
	struct trb *last = gpa(EVENTS + 16 * 63);
	cr_assert_eq((last->control >> 10) & 0x3f, 37, "host controller event");
	cr_assert_eq(last->status >> 24, 21, "event ring full");
	/* The driver catches up: events flow again. */
	for (i = 0; i < 64; i++)
		cr_assert_neq(type(event()), 0);
	put(&cmd, 0, 0, 23u << 10);
	wr(DB, 0);
	cr_assert_eq(type(event()), 33);
}

/*
 * Intel 82540EM gigabit NIC (8254x SDM; see e1000.h), the emulated NIC of
 * the comparison: every register access is a trapped MMIO exit, and a
 * transmit tail write sends the packets on the vCPU thread, as in real
 * emulation. Register file (13.4), Microwire EEPROM through EECD (5.3.1)
 * and the EERD shortcut (13.4.4), a Marvell 88E1011 PHY behind MDIC
 * (13.4.7), interrupt cause/mask with the ITR throttle (13.4.18), link
 * always up. The interrupt is the legacy INTA line, as the 82540EM has no
 * MSI: level-triggered on an I/O APIC pin.
 *
 *   --net emul:tap=IFNAME[,mac=...] | emul:fd=N[,mac=...]
 */
#include <cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/devices/e1000.h"
#include "hypervisor/evloop.h"
#include "hypervisor/irq.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"

#define E1000_VENDOR	0x8086
#define E1000_DEVICE	0x100e		/* 82540EM desktop */
#define EE_WORDS	64
#define EE_CHECKSUM	0xbaba		/* words 0x00-0x3f sum to this (5.6.10) */
#define EE_READ_OPCODE	0x6		/* Microwire READ: start bit 1, then 10 */
#define PHY_ADDR	1
#define FIRST_GSI	10		/* INTA of the first NIC, then the next pin */

/* EECD (13.4.3) */
#define EECD_SK		(1u << 0)
#define EECD_CS		(1u << 1)
#define EECD_DI		(1u << 2)
#define EECD_DO		(1u << 3)
#define EECD_REQ	(1u << 6)
#define EECD_GNT	(1u << 7)
#define EECD_PRES	(1u << 8)
/* EERD (13.4.4) */
#define EERD_START	(1u << 0)
#define EERD_DONE	(1u << 4)
/* MDIC (13.4.7) */
#define MDIC_OP_WRITE	(1u << 26)
#define MDIC_OP_READ	(2u << 26)
#define MDIC_READY	(1u << 28)
#define MDIC_ERROR	(1u << 30)
/* STATUS (13.4.2): full duplex, link up, 1000 Mb/s */
#define STATUS_FD	(1u << 0)
#define STATUS_LU	(1u << 1)
#define STATUS_1000	(2u << 6)

static unsigned int nr_nics;

/* PHY registers (IEEE 802.3 clause 22, and the 88E1011's own): reset
 * values of a copper PHY with autonegotiation done at 1000 full. */
static void phy_reset(struct e1000 *e)
{
	memset(e->phy, 0, sizeof(e->phy));
	e->phy[0] = 0x1140;	/* control: autoneg enabled, 1000 Mb/s, full duplex */
	e->phy[1] = 0x796d;	/* status: link up, autoneg complete, abilities */
	e->phy[2] = 0x0141;	/* PHY ID: Marvell OUI ... */
	e->phy[3] = 0x0c20;	/* ... 88E1011 */
	e->phy[4] = 0x0de1;	/* autoneg advertisement */
	e->phy[5] = 0x45e0;	/* link partner ability */
	e->phy[6] = 0x0007;	/* autoneg expansion */
	e->phy[9] = 0x0e00;	/* 1000BASE-T control */
	e->phy[10] = 0x3c00;	/* 1000BASE-T status: partner 1000 full/half */
	e->phy[15] = 0x3000;	/* extended status: 1000BASE-T full/half */
	e->phy[16] = 0x0360;	/* 88E1011 PHY specific control */
	e->phy[17] = 0xac00;	/* specific status: 1000, full, resolved, link */
}

/* The EEPROM image (5.6): MAC address, IDs, and the checksum word. */
static void eeprom_init(struct e1000 *e)
{
	const uint8_t *m = e->be.mac;
	uint16_t sum = 0;
	int i;

	for (i = 0; i < EE_WORDS; i++)
		e->eeprom[i] = 0xffff;
	for (i = 0; i < 3; i++)
		e->eeprom[i] = (uint16_t)(m[2 * i] | m[2 * i + 1] << 8);
	e->eeprom[0x03] = 0x0000;		/* compatibility */
	e->eeprom[0x08] = 0x0000;		/* part number */
	e->eeprom[0x09] = 0x0000;
	e->eeprom[0x0a] = 0x4408;		/* init control 1: signature 01b */
	e->eeprom[0x0b] = E1000_DEVICE;		/* subsystem ID */
	e->eeprom[0x0c] = E1000_VENDOR;		/* subsystem vendor */
	e->eeprom[0x0d] = E1000_DEVICE;
	e->eeprom[0x0e] = E1000_VENDOR;
	e->eeprom[0x0f] = 0x3000;		/* init control 2: no pause frames */
	for (i = 0; i < EE_WORDS - 1; i++)
		sum = (uint16_t)(sum + e->eeprom[i]);
	e->eeprom[EE_WORDS - 1] = (uint16_t)(EE_CHECKSUM - sum);
}

/*
 * Microwire (5.3.1): with CS up, DI is sampled on each rising SK edge;
 * after the 3-bit opcode and 6 address bits of a READ, the word's 16
 * bits come out on DO, most significant first, one per falling edge.
 */
static void eecd_write(struct e1000 *e, uint32_t v)
{
	uint32_t old = e->ee.last;

	e->ee.last = v & (EECD_SK | EECD_CS | EECD_DI | EECD_REQ);
	if (!(v & EECD_CS))
		return;
	if (!(old & EECD_CS)) {		/* chip select: a new command */
		e->ee.shift_in = 0;
		e->ee.bits_in = 0;
		e->ee.reading = false;
	}
	if (!((v ^ old) & EECD_SK))
		return;
	if (!(v & EECD_SK)) {		/* falling edge: next output bit */
		e->ee.bit_out++;
		return;
	}
	e->ee.shift_in = e->ee.shift_in << 1 | !!(v & EECD_DI);
	if (++e->ee.bits_in == 9 && !e->ee.reading) {
		e->ee.reading = ((e->ee.shift_in >> 6) & 7) == EE_READ_OPCODE;
		/* The dummy 0 bit comes first: one edge before bit 15. */
		e->ee.bit_out = ((e->ee.shift_in & 0x3f) << 4) - 1;
	}
}

static uint32_t eecd_read(struct e1000 *e)
{
	uint32_t v = e->ee.last | EECD_PRES | EECD_GNT;
	unsigned int b = e->ee.bit_out;

	if (!e->ee.reading || (e->eeprom[(b >> 4) & (EE_WORDS - 1)] >> (15 - (b & 15))) & 1)
		v |= EECD_DO;
	return v;
}

static void mdic_write(struct e1000 *e, uint32_t v)
{
	unsigned int reg = (v >> 16) & 0x1f, phy = (v >> 21) & 0x1f;
	uint32_t op = v & (3u << 26);

	if (phy != PHY_ADDR || (op != MDIC_OP_READ && op != MDIC_OP_WRITE)) {
		e1000__set_reg(e, E1000_MDIC, v | MDIC_READY | MDIC_ERROR);
		return;
	}
	if (op == MDIC_OP_READ) {
		v = (v & ~0xffffu) | e->phy[reg];
	} else if (reg == 0) {
		/* Reset and autoneg restart complete at once. */
		e->phy[0] = (uint16_t)(v & ~(0x8000u | 0x0200u));
	} else if (reg != 1 && reg != 2 && reg != 3) {
		e->phy[reg] = (uint16_t)v;
	}
	e1000__set_reg(e, E1000_MDIC, (v & ~MDIC_ERROR) | MDIC_READY);
}

static void irq_set(struct e1000 *e, bool level)
{
	if (level == e->irq_level)
		return;
	e->irq_level = level;
	irq__line(e->kvm, e->gsi, level);
	if (level) {
		e->last_irq_ns = now_ns();
		counter__inc(e->irqs);
	}
}

/* The line follows ICR & IMS, except that ITR (13.4.18) spaces assertions
 * at least ITR x 256 ns apart: a held one waits on a timer. */
static void update_irq(struct e1000 *e)
{
	bool want = e1000__reg(e, E1000_ICR) & e1000__reg(e, E1000_IMS);
	uint64_t gap = (uint64_t)(e1000__reg(e, E1000_ITR) & 0xffff) * 256, now;

	if (!want || e->irq_level || !gap || e->itr_fd < 0) {
		irq_set(e, want);
		return;
	}
	now = now_ns();
	if (now - e->last_irq_ns >= gap) {
		irq_set(e, true);
	} else if (!e->itr_armed) {
		struct itimerspec t = { .it_value = { 0, (long)(gap - (now - e->last_irq_ns)) } };

		if (timerfd_settime(e->itr_fd, 0, &t, NULL) == 0) {
			e->itr_armed = true;
			counter__inc(e->irqs_held);
		} else {
			irq_set(e, true);
		}
	}
}

void e1000__raise(struct e1000 *e, uint32_t cause)
{
	e1000__set_reg(e, E1000_ICR, e1000__reg(e, E1000_ICR) | cause);
	update_irq(e);
}

static void itr_expired(void *opaque, int fd, uint32_t events)
{
	struct e1000 *e = opaque;
	uint64_t n;

	(void)events;
	if (read(fd, &n, sizeof(n)) < 0)
		return;
	pthread_mutex_lock(&e->lock);
	e->itr_armed = false;
	update_irq(e);
	pthread_mutex_unlock(&e->lock);
}

static void backend_ready(void *opaque, int fd, uint32_t events)
{
	struct e1000 *e = opaque;

	(void)fd;
	(void)events;
	pthread_mutex_lock(&e->lock);
	e1000__rx(e);
	pthread_mutex_unlock(&e->lock);
}

/* Power-up and CTRL.RST state (13.4: initial values). */
static void e1000_reset(struct e1000 *e)
{
	const uint8_t *m = e->be.mac;

	memset(e->regs, 0, sizeof(e->regs));
	e1000__set_reg(e, E1000_CTRL, E1000_CTRL_SLU | (1u << 3) /* ASDE */);
	e1000__set_reg(e, E1000_RA, (uint32_t)(m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24));
	e1000__set_reg(e, E1000_RA + 4, (uint32_t)(m[4] | m[5] << 8) | E1000_RAH_AV);
	e1000__set_reg(e, 0x1000, 0x00100030);	/* PBA: 48 KiB receive, 16 KiB transmit */
	memset(&e->ee, 0, sizeof(e->ee));
	phy_reset(e);
	e1000__ring_reset(e);
	irq_set(e, false);
}

static uint32_t reg_read(struct e1000 *e, uint32_t off)
{
	uint32_t v;

	switch (off) {
	case E1000_STATUS:
		return STATUS_FD | STATUS_LU | STATUS_1000;
	case E1000_EECD:
		return eecd_read(e);
	case E1000_ICR:		/* read to clear (13.4.17) */
		v = e1000__reg(e, E1000_ICR);
		e1000__set_reg(e, E1000_ICR, 0);
		update_irq(e);
		return v;
	case E1000_IMC:
	case E1000_ICS:
		return 0;	/* write-only */
	}
	v = e1000__reg(e, off);
	if (off >= E1000_STATS && off < E1000_STATS_END)
		e1000__set_reg(e, off, 0);	/* statistics clear on read (13.7) */
	return v;
}

static void reg_write(struct e1000 *e, uint32_t off, uint32_t v)
{
	switch (off) {
	case E1000_CTRL:
		if (v & E1000_CTRL_RST) {
			e1000_reset(e);
			return;
		}
		if (v & E1000_CTRL_PHY_RST)
			phy_reset(e);
		e1000__set_reg(e, off, v & ~(E1000_CTRL_RST | E1000_CTRL_PHY_RST));
		return;
	case E1000_STATUS:
		return;
	case E1000_EECD:
		eecd_write(e, v);
		return;
	case E1000_EERD:
		if (v & EERD_START) {
			unsigned int a = (v >> 8) & 0xff;

			v = (a < EE_WORDS ? (uint32_t)e->eeprom[a] << 16 : 0) | (v & 0xff00) | EERD_DONE;
		}
		e1000__set_reg(e, off, v);
		return;
	case E1000_MDIC:
		mdic_write(e, v);
		return;
	case E1000_ICR:		/* writing 1s clears (13.4.17) */
		e1000__set_reg(e, off, e1000__reg(e, off) & ~v);
		update_irq(e);
		return;
	case E1000_ICS:
		e1000__raise(e, v);
		return;
	case E1000_IMS:
		e1000__set_reg(e, off, e1000__reg(e, off) | v);
		update_irq(e);
		return;
	case E1000_IMC:
		e1000__set_reg(e, E1000_IMS, e1000__reg(e, E1000_IMS) & ~v);
		update_irq(e);
		return;
	case E1000_RDH:
	case E1000_TDH:
		/* Software writes heads only while the ring is off; keep in range. */
		e1000__set_reg(e, off, v & 0xffff);
		return;
	case E1000_RCTL:
		e1000__set_reg(e, off, v);
		e1000__rx(e);		/* enabled: packets may be waiting */
		return;
	case E1000_RDT:
		e1000__set_reg(e, off, v & 0xffff);
		e1000__rx(e);		/* new buffers */
		return;
	case E1000_TDT:
		e1000__set_reg(e, off, v & 0xffff);
		e1000__tx(e);
		return;
	}
	if (off >= E1000_STATS && off < E1000_STATS_END)
		return;
	e1000__set_reg(e, off, v);
}

/* BAR0: 32-bit registers; narrower accesses read or merge into the word. */
static void e1000_mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct e1000 *e = opaque;
	uint32_t word = (uint32_t)off & ~3u, shift = 8 * ((uint32_t)off & 3), v = 0;

	if (len > 4 || (off & 3) + len > 4 || off >= E1000_MMIO_SIZE) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	pthread_mutex_lock(&e->lock);
	if (is_write) {
		uint32_t mask = (len == 4 ? ~0u : ((1u << (8 * len)) - 1)) << shift;

		counter__inc(e->reg_writes);
		memcpy(&v, data, len);
		/* Write-1 registers take only the bytes written; the others
		 * keep the rest of the word. */
		if (word == E1000_ICR || word == E1000_ICS || word == E1000_IMS || word == E1000_IMC)
			v = (v << shift) & mask;
		else
			v = (e1000__reg(e, word) & ~mask) | ((v << shift) & mask);
		reg_write(e, word, v);
	} else {
		counter__inc(e->reg_reads);
		v = reg_read(e, word) >> shift;
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&e->lock);
}

/* BAR1: IOADDR at 0 selects a register, IODATA at 4 reaches it (13.2). */
static void e1000_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct e1000 *e = opaque;

	if (len != 4 || (off != 0 && off != 4)) {
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (off == 0) {
		if (is_write)
			memcpy(&e->ioaddr, data, 4);
		else
			memcpy(data, &e->ioaddr, 4);
		return;
	}
	e1000_mmio(e, e->ioaddr & (E1000_MMIO_SIZE - 4), data, 4, is_write);
}

static int e1000__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct e1000 *e = calloc(1, sizeof(*e));
	char why[160];
	int ret;

	if (!e)
		return -ENOMEM;
	dev->priv = e;
	e->dev = dev;
	e->kvm = kvm;
	e->itr_fd = -1;
	pthread_mutex_init(&e->lock, NULL);
	ret = net_backend__open(&e->be, args, why, sizeof(why));
	if (ret) {
		pr_err("--net emul:%s: %s", args ? args : "", why);
		return ret;
	}
	e->tx_buf = malloc(NET_FRAME_MAX);
	e->rx_buf = malloc(NET_HDR_LEN + NET_FRAME_MAX + 64);	/* + padding and FCS */
	if (!e->tx_buf || !e->rx_buf)
		return -ENOMEM;
	e->tx_packets = metrics__counter(&dev->metrics, "tx_packets");
	e->tx_bytes = metrics__counter(&dev->metrics, "tx_bytes");
	e->rx_packets = metrics__counter(&dev->metrics, "rx_packets");
	e->rx_bytes = metrics__counter(&dev->metrics, "rx_bytes");
	e->tx_bad_desc = metrics__counter(&dev->metrics, "tx_bad_packets");
	e->tx_dropped = metrics__counter(&dev->metrics, "tx_dropped");
	e->rx_bad_desc = metrics__counter(&dev->metrics, "rx_bad_descriptors");
	e->rx_no_buffer = metrics__counter(&dev->metrics, "rx_no_buffer_stalls");
	e->rx_filtered = metrics__counter(&dev->metrics, "rx_filtered");
	e->bad_rings = metrics__counter(&dev->metrics, "bad_rings");
	e->irqs = metrics__counter(&dev->metrics, "irqs_sent");
	e->irqs_held = metrics__counter(&dev->metrics, "irqs_throttled");
	e->reg_reads = metrics__counter(&dev->metrics, "register_reads");
	e->reg_writes = metrics__counter(&dev->metrics, "register_writes");
	e->gsi = FIRST_GSI + (int)(nr_nics++ % 2);
	eeprom_init(e);
	e1000_reset(e);

	pci__device_init(&e->pci, dev->name, E1000_VENDOR, E1000_DEVICE, 0x020000);
	e->pci.priv = e;
	e->pci.cfg[PCI_INTERRUPT_PIN] = 1;		/* INTA */
	e->pci.cfg[PCI_INTERRUPT_LINE] = (uint8_t)e->gsi;
	e->pci.cfg[PCI_SUBSYSTEM_VENDOR_ID] = E1000_VENDOR & 0xff;
	e->pci.cfg[PCI_SUBSYSTEM_VENDOR_ID + 1] = E1000_VENDOR >> 8;
	e->pci.cfg[PCI_SUBSYSTEM_ID] = E1000_DEVICE & 0xff;
	e->pci.cfg[PCI_SUBSYSTEM_ID + 1] = E1000_DEVICE >> 8;
	ret = pci__add_bar(&e->pci, 0, E1000_MMIO_SIZE, false, e1000_mmio, e);
	if (!ret)
		ret = pci__add_bar(&e->pci, 1, E1000_IO_SIZE, true, e1000_io, e);
	if (!ret)
		ret = pci__register(&kvm->pci, &e->pci);
	if (ret || !kvm->evloop)
		return ret;
	e->itr_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (e->itr_fd < 0 || evloop__add(kvm->evloop, e->itr_fd, EPOLLIN, itr_expired, e)) {
		pr_warn("%s: no timer for ITR: interrupts are not throttled", dev->name);
		if (e->itr_fd >= 0)
			close(e->itr_fd);
		e->itr_fd = -1;
	}
	/* Edge-triggered: e1000__rx reads until EAGAIN, or stops for want of
	 * descriptors and resumes on the next RDT write. */
	return evloop__add(kvm->evloop, e->be.fd, EPOLLIN | EPOLLET, backend_ready, e);
}

static void e1000__exit(struct device *dev)
{
	struct e1000 *e = dev->priv;

	if (dev->kvm->evloop) {
		if (e->be.fd >= 0)
			evloop__del(dev->kvm->evloop, e->be.fd);
		if (e->itr_fd >= 0)
			evloop__del(dev->kvm->evloop, e->itr_fd);
	}
	if (e->itr_fd >= 0)
		close(e->itr_fd);
	net_backend__close(&e->be);
	free(e->tx_buf);
	free(e->rx_buf);
	free(e);
}

static void e1000__to_json(struct device *dev, cJSON *obj)
{
	struct e1000 *e = dev->priv;

	cJSON_AddStringToObject(obj, "backend", e->be.is_tap ? "tap" : "socket");
	cJSON_AddNumberToObject(obj, "gsi", e->gsi);
	cJSON_AddNumberToObject(obj, "itr", e1000__reg(e, E1000_ITR) & 0xffff);
}

static const struct device_ops e1000_ops = {
	.name = "e1000",
	.help = "emulated NIC: Intel 82540EM gigabit Ethernet (--net emul:tap=IF)",
	.init = e1000__init,
	.exit = e1000__exit,
	.to_json = e1000__to_json,
};
device_register(e1000_ops);

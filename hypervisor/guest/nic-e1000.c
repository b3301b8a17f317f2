/*
 * Intel 82540EM from the driver's side (8254x SDM, 14 "General
 * Initialization and Reset Operation"): reset, MAC from the EEPROM through
 * EERD, legacy descriptor rings, receive interrupts on INTA through the
 * I/O APIC. Every register access is a trapped exit: the transmit tail
 * per frame, the receive tail per batch, ICR per interrupt.
 */
#include "hypervisor/guest/nic.h"

#define R_CTRL		0x0000
#define R_EERD		0x0014
#define R_ICR		0x00c0
#define R_IMS		0x00d0
#define R_IMC		0x00d8
#define R_RCTL		0x0100
#define R_TCTL		0x0400
#define R_RDBAL		0x2800
#define R_RDBAH		0x2804
#define R_RDLEN		0x2808
#define R_RDH		0x2810
#define R_RDT		0x2818
#define R_TDBAL		0x3800
#define R_TDBAH		0x3804
#define R_TDLEN		0x3808
#define R_TDH		0x3810
#define R_TDT		0x3818
#define R_RAL		0x5400
#define R_RAH		0x5404
#define CTRL_RST	(1u << 26)
#define ICR_TXDW	(1u << 0)
#define ICR_RXT0	(1u << 7)
#define RCTL_EN		(1u << 1)
#define RCTL_BAM	(1u << 15)
#define RCTL_SECRC	(1u << 26)	/* 2048-byte buffers: BSIZE 00 */
#define TCTL_EN		(1u << 1)
#define TCTL_PSP	(1u << 3)
#define CMD_EOP		0x01
#define CMD_IFCS	0x02
#define CMD_RS		0x08
#define DD		0x01

struct txd {
	uint64_t addr;
	uint32_t lower;
	volatile uint32_t upper;
};

struct rxd {
	uint64_t addr;
	volatile uint16_t length;
	uint16_t csum;
	volatile uint8_t status;
	uint8_t errors;
	uint16_t special;
};

static uint64_t regs;
static struct txd *txr;
static struct rxd *rxr;
static uint8_t *txbuf, *rxbuf;
static unsigned int tx_clean, rx_next;

static void wr(uint32_t r, uint32_t v) { mmio_write32(regs + r, v); }
static uint32_t rd(uint32_t r) { return mmio_read32(regs + r); }

static uint16_t eeprom_word(unsigned int a)
{
	int guard = 1000;

	wr(R_EERD, a << 8 | 1);
	while (!(rd(R_EERD) & 0x10) && --guard)
		;
	return (uint16_t)(rd(R_EERD) >> 16);
}

static int e1000_init(uint8_t vector, uint8_t mac[6])
{
	struct pci_dev d;
	unsigned int s, i;

	if (pci_find(0x8086, 0x100e, &d) || !d.bar[0])
		return -1;
	regs = d.bar[0];
	pci_write16(d.slot, 0x04, (uint16_t)(pci_read16(d.slot, 0x04) | 0x6));	/* memory, bus master */
	wr(R_CTRL, CTRL_RST);
	wr(R_IMC, ~0u);
	for (i = 0; i < 3; i++) {
		uint16_t w = eeprom_word(i);

		mac[2 * i] = (uint8_t)w;
		mac[2 * i + 1] = (uint8_t)(w >> 8);
	}
	wr(R_RAL, (uint32_t)mac[0] | (uint32_t)mac[1] << 8 | (uint32_t)mac[2] << 16 |
		  (uint32_t)mac[3] << 24);
	wr(R_RAH, (uint32_t)mac[4] | (uint32_t)mac[5] << 8 | 1u << 31);
	txr = guest_alloc(NIC_SLOTS * sizeof(*txr));
	rxr = guest_alloc(NIC_SLOTS * sizeof(*rxr));
	txbuf = guest_alloc(NIC_SLOTS * NIC_BUF);
	rxbuf = guest_alloc(NIC_SLOTS * NIC_BUF);
	if (!txr || !rxr || !txbuf || !rxbuf)
		return -2;
	memset(txbuf, 0, NIC_SLOTS * NIC_BUF);
	for (s = 0; s < NIC_SLOTS; s++)
		rxr[s] = (struct rxd){ .addr = (uint64_t)(rxbuf + s * NIC_BUF) };
	wr(R_TDBAL, (uint32_t)(uint64_t)txr);
	wr(R_TDBAH, 0);
	wr(R_TDLEN, NIC_SLOTS * sizeof(*txr));
	wr(R_TDH, 0);
	wr(R_TDT, 0);
	wr(R_TCTL, TCTL_EN | TCTL_PSP);
	wr(R_RDBAL, (uint32_t)(uint64_t)rxr);
	wr(R_RDBAH, 0);
	wr(R_RDLEN, NIC_SLOTS * sizeof(*rxr));
	wr(R_RDH, 0);
	wr(R_RDT, NIC_SLOTS - 1);
	wr(R_RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
	tx_clean = rx_next = 0;
	ioapic_route(pci_read32(d.slot, 0x3c) & 0xff, vector);
	wr(R_IMS, ICR_RXT0);
	return 0;
}

static uint8_t *e1000_tx_frame(unsigned int s)
{
	return txbuf + s * NIC_BUF;
}

static void e1000_tx(unsigned int s, uint32_t len, int kick)
{
	txr[s].addr = (uint64_t)(txbuf + s * NIC_BUF);
	txr[s].upper = 0;
	txr[s].lower = len | (uint32_t)(CMD_EOP | CMD_IFCS | CMD_RS) << 24;
	if (kick)
		wr(R_TDT, (s + 1) % NIC_SLOTS);
}

static unsigned int e1000_tx_done(void)
{
	unsigned int n = 0;

	while (txr[tx_clean].upper & DD) {
		txr[tx_clean].upper = 0;
		tx_clean = (tx_clean + 1) % NIC_SLOTS;
		n++;
	}
	return n;
}

static void e1000_tx_irq(int on)
{
	wr(on ? R_IMS : R_IMC, ICR_TXDW);
}

static int e1000_rx(uint8_t **frame, uint32_t *len)
{
	struct rxd *d = &rxr[rx_next];
	int s = (int)rx_next;

	if (!(d->status & DD))
		return -1;
	*frame = rxbuf + rx_next * NIC_BUF;
	*len = d->errors ? 0 : d->length;
	d->status = 0;
	rx_next = (rx_next + 1) % NIC_SLOTS;
	return s;
}

static void e1000_rx_refill(unsigned int s, int kick)
{
	/* The NIC owns RDH .. RDT - 1 and stops at RDH == RDT: the tail is
	 * the slot just given back, which the NIC leaves until the next. */
	if (kick)
		wr(R_RDT, s);
}

static void e1000_irq(void)
{
	(void)rd(R_ICR);	/* read to clear: the line goes down */
}

const struct gnic_ops gnic_e1000_ops = {
	.name = "e1000",
	.init = e1000_init,
	.tx_frame = e1000_tx_frame,
	.tx = e1000_tx,
	.tx_done = e1000_tx_done,
	.tx_irq = e1000_tx_irq,
	.rx = e1000_rx,
	.rx_refill = e1000_rx_refill,
	.irq = e1000_irq,
};

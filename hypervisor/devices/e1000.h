/*
 * The emulated NIC: Intel 82540EM (PCI 8086:100E), after the "PCI/PCI-X
 * Family of Gigabit Ethernet Controllers Software Developer's Manual"
 * (8254x SDM, rev. 4.0): section numbers below are that manual's.
 * e1000.c holds the register file, EEPROM, PHY and interrupts;
 * e1000-ring.c the descriptor rings (the parsers of guest memory).
 */
#ifndef VIOSCOPE__E1000_H
#define VIOSCOPE__E1000_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "hypervisor/backends/net.h"
#include "hypervisor/metrics.h"
#include "hypervisor/pci.h"

struct device;
struct kvm;

#define E1000_MMIO_SIZE		0x20000		/* BAR0, 128 KiB */
#define E1000_IO_SIZE		0x40		/* BAR1: IOADDR / IODATA (13.2) */

/* Registers (13.4), as byte offsets into BAR0. */
#define E1000_CTRL	0x0000
#define E1000_STATUS	0x0008
#define E1000_EECD	0x0010
#define E1000_EERD	0x0014
#define E1000_CTRL_EXT	0x0018
#define E1000_MDIC	0x0020
#define E1000_ICR	0x00c0
#define E1000_ITR	0x00c4
#define E1000_ICS	0x00c8
#define E1000_IMS	0x00d0
#define E1000_IMC	0x00d8
#define E1000_RCTL	0x0100
#define E1000_TCTL	0x0400
#define E1000_RDBAL	0x2800
#define E1000_RDBAH	0x2804
#define E1000_RDLEN	0x2808
#define E1000_RDH	0x2810
#define E1000_RDT	0x2818
#define E1000_TDBAL	0x3800
#define E1000_TDBAH	0x3804
#define E1000_TDLEN	0x3808
#define E1000_TDH	0x3810
#define E1000_TDT	0x3818
#define E1000_STATS	0x4000		/* 0x4000-0x40ff: statistics, read to clear */
#define E1000_STATS_END	0x4100
#define E1000_MPC	0x4010
#define E1000_GPRC	0x4074
#define E1000_BPRC	0x4078
#define E1000_GPTC	0x4080
#define E1000_GORCL	0x4088
#define E1000_GOTCL	0x4090
#define E1000_TORL	0x40c0
#define E1000_TOTL	0x40c8
#define E1000_TPR	0x40d0
#define E1000_TPT	0x40d4
#define E1000_MTA	0x5200		/* multicast table, 128 words */
#define E1000_RA	0x5400		/* receive addresses: 16 pairs RAL/RAH */

#define E1000_CTRL_SLU		(1u << 6)
#define E1000_CTRL_RST		(1u << 26)
#define E1000_CTRL_PHY_RST	(1u << 31)
#define E1000_RAH_AV		(1u << 31)

/* Interrupt causes (13.4.17) */
#define E1000_ICR_TXDW		(1u << 0)
#define E1000_ICR_TXQE		(1u << 1)
#define E1000_ICR_LSC		(1u << 2)
#define E1000_ICR_RXDMT0	(1u << 4)
#define E1000_ICR_RXO		(1u << 6)
#define E1000_ICR_RXT0		(1u << 7)

/* RCTL (13.4.22) and TCTL (13.4.33) */
#define E1000_RCTL_EN		(1u << 1)
#define E1000_RCTL_UPE		(1u << 3)
#define E1000_RCTL_MPE		(1u << 4)
#define E1000_RCTL_RDMTS_SHIFT	8
#define E1000_RCTL_MO_SHIFT	12
#define E1000_RCTL_BAM		(1u << 15)
#define E1000_RCTL_BSIZE_SHIFT	16
#define E1000_RCTL_BSEX		(1u << 25)
#define E1000_RCTL_SECRC	(1u << 26)
#define E1000_TCTL_EN		(1u << 1)

/* Descriptors (3.2.3 receive, 3.3.3 legacy transmit, 3.3.6 context,
 * 3.3.7 data), 16 bytes each. */
struct e1000_rx_desc {
	uint64_t addr;
	uint16_t length;
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

struct e1000_tx_desc {
	uint64_t addr;		/* context: ipcss, ipcso, ipcse, tucss, tucso, tucse */
	uint32_t lower;		/* length / cso / cmd, or paylen / dtyp / dcmd */
	uint32_t upper;		/* status / css / special, or status / popts / special */
};

#define E1000_RXD_STAT_DD	0x01
#define E1000_RXD_STAT_EOP	0x02
#define E1000_TXD_STAT_DD	0x01
#define E1000_TXD_CMD_EOP	0x01
#define E1000_TXD_CMD_IC	0x04	/* legacy: insert checksum */
#define E1000_TXD_CMD_TSE	0x04	/* extended: TCP segmentation */
#define E1000_TXD_CMD_RS	0x08
#define E1000_TXD_CMD_DEXT	0x20
#define E1000_TXD_DTYP_CTX	0x0
#define E1000_TXD_DTYP_DATA	0x1
#define E1000_TXD_POPTS_IXSM	0x01
#define E1000_TXD_POPTS_TXSM	0x02
#define E1000_TUCMD_TCP		0x01
#define E1000_TUCMD_IP		0x02	/* IPv4 (else IPv6) */
#define E1000_TUCMD_TSE		0x04

/* The offload context of the last context descriptor (3.3.6). */
struct e1000_tx_ctx {
	uint8_t ipcss, ipcso, tucss, tucso, tucmd, hdr_len;
	uint16_t ipcse, tucse, mss;
	uint32_t paylen;
	bool valid;
};

struct e1000 {
	struct device *dev;
	struct kvm *kvm;
	struct pci_device pci;
	struct net_backend be;
	pthread_mutex_t lock;		/* everything below: vCPU and event loop */
	uint32_t regs[E1000_MMIO_SIZE / 4];
	uint16_t eeprom[64];
	uint16_t phy[32];
	struct {			/* Microwire EEPROM behind EECD (5.3.1) */
		uint32_t last;		/* EECD as last written */
		uint32_t shift_in;
		unsigned int bits_in;
		unsigned int bit_out;	/* word * 16 + bit being shifted out */
		bool reading;
	} ee;
	uint32_t ioaddr;		/* BAR1 IOADDR */
	int gsi;
	bool irq_level;
	uint64_t last_irq_ns;
	int itr_fd;			/* timerfd: an interrupt held by ITR */
	bool itr_armed;
	/* The packet being gathered from transmit descriptors. */
	struct e1000_tx_ctx ctx;
	uint8_t *tx_buf;
	uint32_t tx_len;
	uint32_t tx_first;		/* its first descriptor: the probes' tag */
	uint8_t tx_popts;
	bool tx_tse, tx_bad, tx_legacy_ic;
	uint8_t tx_cso, tx_css;
	/* One packet read from the backend and not yet delivered. */
	uint8_t *rx_buf;
	uint32_t rx_len;		/* frame bytes (after the virtio-net header) */
	struct metric_counter *tx_packets, *tx_bytes, *rx_packets, *rx_bytes;
	struct metric_counter *tx_bad_desc, *tx_dropped, *rx_bad_desc, *rx_no_buffer;
	struct metric_counter *rx_filtered, *bad_rings, *irqs, *irqs_held;
	struct metric_counter *reg_reads, *reg_writes;
};

/* e1000.c */
/* ICR |= cause, then the interrupt line (throttled by ITR). Lock held. */
void e1000__raise(struct e1000 *e, uint32_t cause);
static inline uint32_t e1000__reg(const struct e1000 *e, uint32_t off) { return e->regs[off / 4]; }
static inline void e1000__set_reg(struct e1000 *e, uint32_t off, uint32_t v) { e->regs[off / 4] = v; }
static inline void e1000__stat_add(struct e1000 *e, uint32_t off, uint64_t v)
{
	e->regs[off / 4] += (uint32_t)v;
}

/* e1000-ring.c, lock held */
/* Transmits TDH..TDT (3.3); on a TDT write. */
void e1000__tx(struct e1000 *e);
/* Delivers packets from the backend while receive descriptors last (3.2). */
void e1000__rx(struct e1000 *e);
/* Forgets the half-gathered transmit packet and the pending receive one. */
void e1000__ring_reset(struct e1000 *e);

#endif /* VIOSCOPE__E1000_H */

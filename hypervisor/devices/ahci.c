/*
 * AHCI SATA controller (Serial ATA AHCI 1.3.1) with one ATA disk on port 0,
 * the emulated disk of the comparison. Every register access is a trapped
 * MMIO exit, as in real emulation: that is the cost being measured.
 *
 * HBA registers (3.1), port registers (3.3), command list / command table /
 * PRDT (4.2), received FIS area (4.2.1). Commands (ATA8-ACS): IDENTIFY
 * DEVICE, READ/WRITE DMA EXT, READ/WRITE DMA, READ/WRITE FPDMA QUEUED (NCQ,
 * 32 deep, completions by Set Device Bits FIS), FLUSH CACHE (EXT), SET
 * FEATURES; others end with ABRT. No port multiplier. Data goes through
 * the shared block backend.
 *
 *   --disk emul:PATH[,size=64M][,engine=uring|sync][,direct]
 */
#include <cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sdt.h>
#include <unistd.h>

#include "hypervisor/backends/blk.h"
#include "hypervisor/device.h"
#include "hypervisor/devices/disk-args.h"
#include "hypervisor/guest/abi.h"
#include "hypervisor/kvm.h"
#include "hypervisor/reqtrace.h"
#include "hypervisor/msix.h"
#include "hypervisor/pci.h"
#include "lib/log.h"

#define ABAR		5		/* AHCI base: BAR5 (2.1.11) */
#define ABAR_SIZE	0x1000
#define MSIX_BAR	4
#define NR_SLOTS	32
#define SECTOR		512
#define MAX_PRDT	256		/* PRDT entries one command may use */

/* HBA registers, 3.1 */
#define HBA_CAP		0x00
#define HBA_GHC		0x04
#define HBA_IS		0x08
#define HBA_PI		0x0c
#define HBA_VS		0x10
#define GHC_HR		(1u << 0)
#define GHC_IE		(1u << 1)
#define GHC_AE		(1u << 31)
#define CAP_S64A	(1u << 31)
#define CAP_SNCQ	(1u << 30)	/* native command queuing */
#define CAP_SAM		(1u << 18)
#define CAP_ISS_GEN3	(3u << 20)

/* Port 0 registers, 3.3 */
#define PORT0		0x100
#define PX_CLB		0x00
#define PX_CLBU		0x04
#define PX_FB		0x08
#define PX_FBU		0x0c
#define PX_IS		0x10
#define PX_IE		0x14
#define PX_CMD		0x18
#define PX_TFD		0x20
#define PX_SIG		0x24
#define PX_SSTS		0x28
#define PX_SCTL		0x2c
#define PX_SERR		0x30
#define PX_SACT		0x34
#define PX_CI		0x38
#define CMD_ST		(1u << 0)
#define CMD_SUD		(1u << 1)
#define CMD_POD		(1u << 2)
#define CMD_FRE		(1u << 4)
#define CMD_FR		(1u << 14)
#define CMD_CR		(1u << 15)
#define IS_DHRS		(1u << 0)	/* D2H register FIS */
#define IS_PSS		(1u << 1)	/* PIO setup FIS */
#define IS_SDBS		(1u << 3)	/* set device bits FIS (NCQ completions) */
#define IS_TFES		(1u << 30)	/* task file error */
#define IS_HBFS		(1u << 29)	/* host bus fatal: bad addresses */

/* ATA status/error, command codes (ATA8-ACS) */
#define ST_ERR		0x01
#define ST_DRQ		0x08
#define ST_DSC		0x10
#define ST_DRDY		0x40
#define ST_BSY		0x80
#define ERR_ABRT	0x04
#define ATA_READ_DMA		0xc8
#define ATA_READ_DMA_EXT	0x25
#define ATA_WRITE_DMA		0xca
#define ATA_WRITE_DMA_EXT	0x35
#define ATA_FLUSH		0xe7
#define ATA_FLUSH_EXT		0xea
#define ATA_IDENTIFY		0xec
#define ATA_SET_FEATURES	0xef
#define ATA_READ_FPDMA		0x60	/* NCQ, ATA8-ACS 7.59 */
#define ATA_WRITE_FPDMA		0x61	/* NCQ, ATA8-ACS 7.70 */
#define NCQ_DEPTH		32

struct ahci;

struct ahci_cmd {
	struct ahci *a;
	unsigned int slot;
	uint64_t header_gpa;
	struct blk_req breq;
	struct iovec iov[MAX_PRDT];
	unsigned int niov;
	uint32_t bytes;
	uint64_t start_ns;
	uint64_t id;		/* request probes */
	bool ncq;		/* FPDMA: completes with a Set Device Bits FIS */
};

struct ahci {
	struct device *dev;
	struct kvm *kvm;
	struct pci_device pci;
	struct msix msix;
	struct blk_backend *backend;
	pthread_mutex_t lock;
	uint32_t ghc, is;
	/* port 0 */
	uint64_t clb, fb;
	uint32_t pis, pie, pcmd, tfd, sctl, serr, ci, sact, busy;
	struct metric_counter *reads, *writes, *flushes, *identifies, *aborted, *bad_tables,
		*reg_reads, *reg_writes, *irqs, *ncq_commands;
	struct metric_latency *cmd_ns;
};

/* Raises the interrupt when the port's status meets its enables (3.3.5). */
static void ahci_update_irq(struct ahci *a)
{
	if (a->pis & a->pie)
		a->is |= 1;
	if ((a->ghc & GHC_IE) && (a->is & 1) && msix__notify(&a->msix, 0) == 0)
		counter__inc(a->irqs);
}

/* D2H Register FIS at FB + 0x40 (4.2.1): status, error, then DHRS. */
static void ahci_d2h(struct ahci *a, uint8_t status, uint8_t error)
{
	uint8_t *fis = kvm__gpa_to_hva(a->kvm, a->fb + 0x40, 20);

	if (fis && (a->pcmd & CMD_FRE)) {
		memset(fis, 0, 20);
		fis[0] = 0x34;
		fis[1] = 0x40;		/* I: interrupt */
		fis[2] = status;
		fis[3] = error;
	}
	a->tfd = (uint32_t)error << 8 | status;
	a->pis |= IS_DHRS | ((status & ST_ERR) ? IS_TFES : 0);
}

/*
 * Set Device Bits FIS at FB + 0x58 (AHCI 4.2.1; SATA 10.3.7): the NCQ
 * completion. Its SActive field names the finished slots, which leave
 * PxSACT; I=1 sets PxIS.SDBS (AHCI 5.6.4.2).
 */
static void ahci_sdb(struct ahci *a, uint32_t done, uint8_t status, uint8_t error)
{
	uint8_t *fis = kvm__gpa_to_hva(a->kvm, a->fb + 0x58, 8);

	if (fis && (a->pcmd & CMD_FRE)) {
		fis[0] = 0xa1;
		fis[1] = 0x40;		/* I: interrupt */
		fis[2] = status & 0x77;	/* status hi/lo, BSY and DRQ not carried */
		fis[3] = error;
		memcpy(&fis[4], &done, 4);
	}
	a->sact &= ~done;
	a->tfd = (uint32_t)error << 8 | status;
	a->pis |= IS_SDBS | ((status & ST_ERR) ? IS_TFES : 0);
}

/* PIO Setup FIS at FB + 0x20 for PIO data-in (IDENTIFY): Linux reads the
 * ending status from byte 15 (E_Status). */
static void ahci_pio_setup(struct ahci *a, uint16_t count)
{
	uint8_t *fis = kvm__gpa_to_hva(a->kvm, a->fb + 0x20, 20);

	if (!fis || !(a->pcmd & CMD_FRE))
		return;
	memset(fis, 0, 20);
	fis[0] = 0x5f;
	fis[1] = 0x20 | 0x40;	/* D: device to host, I */
	fis[2] = ST_DRDY | ST_DRQ;
	fis[15] = ST_DRDY | ST_DSC;
	fis[16] = (uint8_t)count;
	fis[17] = (uint8_t)(count >> 8);
	a->pis |= IS_PSS;
}

static void put_string(uint16_t *w, const char *s, int words)
{
	int i;

	/* ATA strings: two characters a word, first one in the high byte. */
	for (i = 0; i < words; i++) {
		char c0 = *s ? *s++ : ' ', c1 = *s ? *s++ : ' ';

		w[i] = (uint16_t)((uint8_t)c0 << 8 | (uint8_t)c1);
	}
}

/* IDENTIFY DEVICE data (ATA8-ACS 7.16, table 20): the fields Linux reads. */
static void ahci_identify(struct ahci *a, uint16_t *id)
{
	uint64_t sectors = a->backend->size / SECTOR;

	memset(id, 0, 512);
	id[0] = 0x0040;				/* fixed device */
	put_string(&id[10], "VIOSCOPE-AHCI-0001", 10);	/* serial */
	put_string(&id[23], "0.1", 4);			/* firmware */
	put_string(&id[27], "vioscope emulated SATA disk", 20);	/* model */
	id[47] = 0x8000 | 1;			/* READ/WRITE MULTIPLE: 1 sector */
	id[49] = (1 << 9) | (1 << 8);		/* LBA, DMA */
	id[53] = (1 << 1) | (1 << 2);		/* words 64-70 and 88 valid */
	id[60] = (uint16_t)(sectors > 0x0fffffff ? 0x0fffffff : sectors);
	id[61] = (uint16_t)((sectors > 0x0fffffff ? 0x0fffffff : sectors) >> 16);
	id[63] = 0x0007;			/* MWDMA 0-2 */
	id[64] = 0x0003;			/* PIO 3-4 */
	id[75] = NCQ_DEPTH - 1;			/* queue depth - 1 */
	id[76] = (1 << 8) | (1 << 2) | (1 << 1);	/* NCQ; SATA gen 1 and 2 */
	id[80] = 0x00f0;			/* ATA/ATAPI-4..7 */
	id[82] = (1 << 14);			/* NOP */
	id[83] = (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10);	/* FLUSH EXT, FLUSH, LBA48 */
	id[84] = (1 << 14);
	id[85] = (1 << 14);
	id[86] = (1 << 13) | (1 << 12) | (1 << 10);
	id[87] = (1 << 14);
	id[88] = 0x203f;			/* UDMA 0-5, mode 5 selected */
	id[93] = 0x6000 | 0x0001;		/* cable: 80-wire */
	id[100] = (uint16_t)sectors;		/* LBA48 capacity, words 100-103 */
	id[101] = (uint16_t)(sectors >> 16);
	id[102] = (uint16_t)(sectors >> 32);
	id[103] = (uint16_t)(sectors >> 48);
	id[106] = 0x4000;			/* one logical sector per physical */
}

/* Builds iovecs from the PRDT (4.2.3), each entry bounded to guest RAM. */
static int ahci_prdt(struct ahci *a, uint64_t table, unsigned int prdtl, struct ahci_cmd *c)
{
	unsigned int i;

	c->niov = 0;
	c->bytes = 0;
	if (prdtl > MAX_PRDT)
		return -E2BIG;
	for (i = 0; i < prdtl; i++) {
		uint32_t *e = kvm__gpa_to_hva(a->kvm, table + 0x80 + 16ULL * i, 16);
		uint64_t dba;
		uint32_t dbc;
		void *p;

		if (!e)
			return -EFAULT;
		dba = (uint64_t)e[1] << 32 | (e[0] & ~1u);
		dbc = (e[3] & 0x3fffff) + 1;	/* byte count, 22 bits, minus one */
		p = kvm__gpa_to_hva(a->kvm, dba, dbc);
		if (!p)
			return -EFAULT;
		c->iov[c->niov].iov_base = p;
		c->iov[c->niov++].iov_len = dbc;
		c->bytes += dbc;
	}
	return 0;
}

static void ahci_finish(struct ahci_cmd *c, uint8_t status, uint8_t error, uint32_t done)
{
	struct ahci *a = c->a;
	uint32_t *hdr;

	pthread_mutex_lock(&a->lock);
	hdr = kvm__gpa_to_hva(a->kvm, c->header_gpa, 32);
	if (hdr)
		hdr[1] = done;		/* PRDBC: bytes transferred */
	if (status & ST_ERR)
		counter__inc(a->aborted);
	if (c->ncq)
		ahci_sdb(a, 1u << c->slot, status, error);	/* CI was cleared on acceptance */
	else
		ahci_d2h(a, status, error);
	a->ci &= ~(1u << c->slot);
	a->busy &= ~(1u << c->slot);
	reqtrace__done(c->id, status);
	ahci_update_irq(a);
	pthread_mutex_unlock(&a->lock);
	latency__record(a->cmd_ns, now_ns() - c->start_ns);
	DTRACE_PROBE2(vioscope, ahci_complete, c->slot, status);
	free(c);
}

static void ahci_io_done(struct blk_req *breq, int res)
{
	struct ahci_cmd *c = breq->opaque;

	reqtrace__backend_done(c->id, res);
	if (res < 0)
		ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
	else
		ahci_finish(c, ST_DRDY | ST_DSC, 0, breq->op == BLK_FLUSH ? 0 : (uint32_t)res);
}

/* To the backend; a range past the end of the image aborts the command. */
static void ahci_submit(struct ahci_cmd *c)
{
	reqtrace__submit(c->id, &c->breq);
	if (blk__submit(c->a->backend, &c->breq))
		ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
}

/* Copies a 512-byte PIO data-in block into the command's buffers. */
static size_t iov_from(struct ahci_cmd *c, const void *src)
{
	size_t done = 0, n;
	unsigned int i;

	for (i = 0; i < c->niov && done < 512; i++) {
		n = c->iov[i].iov_len < 512 - done ? c->iov[i].iov_len : 512 - done;
		memcpy(c->iov[i].iov_base, (const uint8_t *)src + done, n);
		done += n;
	}
	return done;
}

/* The PRDT may describe more than the command moves: use exactly len. */
static void trim_iov(struct ahci_cmd *c, uint64_t len)
{
	unsigned int i;

	for (i = 0; i < c->niov; i++) {
		if (c->iov[i].iov_len >= len) {
			c->iov[i].iov_len = len;
			c->niov = i + 1;
			break;
		}
		len -= c->iov[i].iov_len;
	}
	c->breq.iovcnt = (int)c->niov;
}

/* Runs one command slot (called with a->lock held; drops it for I/O). */
static void ahci_start(struct ahci *a, unsigned int slot)
{
	uint64_t hgpa = a->clb + 32ULL * slot;
	uint32_t *hdr = kvm__gpa_to_hva(a->kvm, hgpa, 32);
	struct ahci_cmd *c;
	uint64_t table, lba;
	uint8_t *fis, cmd;
	uint32_t count;

	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->a = a;
	c->slot = slot;
	c->header_gpa = hgpa;
	c->start_ns = now_ns();
	c->id = reqtrace__pickup(a->dev, slot, reqtrace__doorbell_ns());
	a->busy |= 1u << slot;
	pthread_mutex_unlock(&a->lock);

	table = hdr ? ((uint64_t)hdr[3] << 32 | (hdr[2] & ~0x7fu)) : 0;
	fis = hdr ? kvm__gpa_to_hva(a->kvm, table, 0x80) : NULL;
	if (!fis || fis[0] != 0x27 ||
	    ahci_prdt(a, table, hdr[0] >> 16, c)) {
		/* Addresses outside RAM or an absurd PRDT: fatal for the command. */
		counter__inc(a->bad_tables);
		ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
		goto relock;
	}
	cmd = fis[2];
	lba = (uint64_t)fis[4] | (uint64_t)fis[5] << 8 | (uint64_t)fis[6] << 16 |
	      (uint64_t)fis[8] << 24 | (uint64_t)fis[9] << 32 | (uint64_t)fis[10] << 40;
	count = (uint32_t)fis[12] | (uint32_t)fis[13] << 8;
	DTRACE_PROBE3(vioscope, ahci_command, slot, cmd, lba);

	switch (cmd) {
	case ATA_IDENTIFY: {
		uint16_t id[256];
		size_t done;

		counter__inc(a->identifies);
		ahci_identify(a, id);
		done = iov_from(c, id);
		pthread_mutex_lock(&a->lock);
		ahci_pio_setup(a, 512);
		pthread_mutex_unlock(&a->lock);
		ahci_finish(c, ST_DRDY | ST_DSC, 0, (uint32_t)done);
		break;
	}
	case ATA_READ_DMA:
	case ATA_WRITE_DMA:
	case ATA_READ_DMA_EXT:
	case ATA_WRITE_DMA_EXT: {
		bool ext = cmd == ATA_READ_DMA_EXT || cmd == ATA_WRITE_DMA_EXT;
		bool write = cmd == ATA_WRITE_DMA || cmd == ATA_WRITE_DMA_EXT;

		if (!ext) {	/* 28-bit: LBA 24-27 in the device register, count 0 = 256 */
			lba = (lba & 0xffffff) | (uint64_t)(fis[7] & 0x0f) << 24;
			count = count & 0xff ? count & 0xff : 256;
		} else if (!count) {
			count = 65536;
		}
		if ((uint64_t)count * SECTOR > c->bytes) {
			/* 4.2.3: the PRDT must hold the transfer. */
			ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
			break;
		}
		counter__inc(write ? a->writes : a->reads);
		c->breq = (struct blk_req){
			.op = write ? BLK_WRITE : BLK_READ, .offset = lba * SECTOR,
			.iov = c->iov, .iovcnt = (int)c->niov, .done = ahci_io_done, .opaque = c,
		};
		trim_iov(c, (uint64_t)count * SECTOR);
		if (lba > UINT64_MAX / SECTOR)
			ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
		else
			ahci_submit(c);
		break;
	}
	case ATA_READ_FPDMA:
	case ATA_WRITE_FPDMA: {
		bool write = cmd == ATA_WRITE_FPDMA;

		/*
		 * NCQ (SATA 13.6): sector count in the FEATURES fields, the tag
		 * in COUNT 7:3 (we use the slot: AHCI ties SActive bits to
		 * slots), FUA in the device register. The slot must be in
		 * PxSACT. Accepted at once: a D2H FIS clears BSY and PxCI,
		 * the data completes later with a Set Device Bits FIS.
		 */
		count = (uint32_t)fis[3] | (uint32_t)fis[11] << 8;
		count = count ? count : 65536;
		pthread_mutex_lock(&a->lock);
		c->ncq = (a->sact & (1u << slot)) != 0;
		if (c->ncq) {
			uint32_t dhrs = a->pis & IS_DHRS;	/* another command's, kept */

			ahci_d2h(a, ST_DRDY | ST_DSC, 0);
			a->pis = (a->pis & ~IS_DHRS) | dhrs;	/* no interrupt for the acceptance */
			a->ci &= ~(1u << slot);
		}
		pthread_mutex_unlock(&a->lock);
		if (!c->ncq || (uint64_t)count * SECTOR > c->bytes || lba > UINT64_MAX / SECTOR) {
			ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
			break;
		}
		counter__inc(a->ncq_commands);
		counter__inc(write ? a->writes : a->reads);
		c->breq = (struct blk_req){
			.op = write ? BLK_WRITE : BLK_READ, .offset = lba * SECTOR,
			.iov = c->iov, .iovcnt = (int)c->niov, .done = ahci_io_done, .opaque = c,
		};
		trim_iov(c, (uint64_t)count * SECTOR);
		ahci_submit(c);
		break;
	}
	case ATA_FLUSH:
	case ATA_FLUSH_EXT:
		counter__inc(a->flushes);
		c->breq = (struct blk_req){ .op = BLK_FLUSH, .done = ahci_io_done, .opaque = c };
		ahci_submit(c);
		break;
	case ATA_SET_FEATURES:
		ahci_finish(c, ST_DRDY | ST_DSC, 0, 0);
		break;
	default:
		ahci_finish(c, ST_DRDY | ST_ERR, ERR_ABRT, 0);
		break;
	}
relock:
	pthread_mutex_lock(&a->lock);
}

/* Port 0 register writes (3.3). Called with a->lock held. */
static void port_write(struct ahci *a, uint32_t reg, uint32_t v)
{
	unsigned int slot;

	switch (reg) {
	case PX_CLB: a->clb = (a->clb & ~0xffffffffULL) | (v & ~0x3ffu); break;
	case PX_CLBU: a->clb = (a->clb & 0xffffffffULL) | (uint64_t)v << 32; break;
	case PX_FB: a->fb = (a->fb & ~0xffffffffULL) | (v & ~0xffu); break;
	case PX_FBU: a->fb = (a->fb & 0xffffffffULL) | (uint64_t)v << 32; break;
	case PX_IS:
		a->pis &= ~v;		/* write one to clear */
		if (!a->pis)
			a->is &= ~1u;
		break;
	case PX_IE: a->pie = v & 0xfdc000ff; ahci_update_irq(a); break;
	case PX_CMD:
		/* FR follows FRE and CR follows ST at once: no engine to wait for. */
		a->pcmd = (v & (CMD_ST | CMD_SUD | CMD_POD | CMD_FRE)) |
			  ((v & CMD_FRE) ? CMD_FR : 0) | ((v & CMD_ST) ? CMD_CR : 0);
		if (!(v & CMD_ST))
			a->ci = a->sact = 0;	/* 3.3.13, 3.3.14: cleared with ST */
		break;
	case PX_SCTL:
		/* DET 1 -> 0 is COMRESET: the device answers with its signature. */
		if ((a->sctl & 0xf) == 1 && (v & 0xf) == 0)
			ahci_d2h(a, ST_DRDY | ST_DSC, 0x01);
		a->sctl = v;
		break;
	case PX_SERR: a->serr &= ~v; break;
	case PX_SACT:
		/* 3.3.13: software sets bits (before PxCI) only while ST is set. */
		if (a->pcmd & CMD_ST)
			a->sact |= v;
		break;
	case PX_CI:
		if (!(a->pcmd & CMD_ST))
			break;	/* 3.3.14: ignored while the engine is stopped */
		a->ci |= v;
		for (slot = 0; slot < NR_SLOTS; slot++)
			if ((v & (1u << slot)) && !(a->busy & (1u << slot)))
				ahci_start(a, slot);
		break;
	default:
		break;
	}
}

static uint32_t port_read(struct ahci *a, uint32_t reg)
{
	switch (reg) {
	case PX_CLB: return (uint32_t)a->clb;
	case PX_CLBU: return (uint32_t)(a->clb >> 32);
	case PX_FB: return (uint32_t)a->fb;
	case PX_FBU: return (uint32_t)(a->fb >> 32);
	case PX_IS: return a->pis;
	case PX_IE: return a->pie;
	case PX_CMD: return a->pcmd;
	case PX_TFD: return a->tfd;
	case PX_SIG: return 0x00000101;		/* ATA device */
	case PX_SSTS: return 0x123;		/* present, gen 2, active (3.3.10) */
	case PX_SCTL: return a->sctl;
	case PX_SERR: return a->serr;
	case PX_SACT: return a->sact;
	case PX_CI: return a->ci;
	default: return 0;
	}
}

static void ahci_reset(struct ahci *a)
{
	a->ghc = GHC_AE;
	a->is = 0;
	a->clb = a->fb = 0;
	a->pis = a->pie = a->pcmd = a->sctl = a->serr = a->ci = a->sact = 0;
	a->tfd = ST_DRDY | ST_DSC;
}

static void ahci_mmio(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct ahci *a = opaque;
	uint32_t v = 0;

	if (len != 4 || (off & 3)) {	/* 3: registers are dword-accessed */
		if (!is_write)
			memset(data, 0, len);
		return;
	}
	if (is_write)
		memcpy(&v, data, 4);
	counter__inc(is_write ? a->reg_writes : a->reg_reads);
	pthread_mutex_lock(&a->lock);
	if (off >= PORT0 && off < PORT0 + 0x80) {
		if (is_write)
			port_write(a, (uint32_t)(off - PORT0), v);
		else
			v = port_read(a, (uint32_t)(off - PORT0));
	} else if (is_write) {
		if (off == HBA_GHC) {
			if (v & GHC_HR)
				ahci_reset(a);	/* HBA reset, 10.4.3: done at once */
			else
				a->ghc = GHC_AE | (v & GHC_IE);
			ahci_update_irq(a);
		} else if (off == HBA_IS) {
			a->is &= ~v;
		}
	} else {
		switch (off) {
		case HBA_CAP:
			v = CAP_S64A | CAP_SNCQ | CAP_SAM | CAP_ISS_GEN3 | (NR_SLOTS - 1) << 8;
			break;
		case HBA_GHC: v = a->ghc; break;
		case HBA_IS: v = a->is; break;
		case HBA_PI: v = 1; break;		/* port 0 only */
		case HBA_VS: v = 0x00010301; break;	/* AHCI 1.3.1 */
		default: v = 0; break;
		}
	}
	pthread_mutex_unlock(&a->lock);
	if (!is_write)
		memcpy(data, &v, 4);
}

static void ahci_cfg_written(struct pci_device *pdev, uint32_t off, uint32_t len)
{
	struct ahci *a = pdev->priv;

	msix__cfg_written(&a->msix, off, len);
}

static int64_t ahci_host_verify(struct device *dev, uint32_t bs, uint64_t blocks)
{
	struct ahci *a = dev->priv;

	return disk__host_verify(a->backend, bs, blocks);
}

static int ahci__init(struct kvm *kvm, struct device *dev, const char *args)
{
	struct ahci *a = calloc(1, sizeof(*a));
	int ret;

	if (!a)
		return -ENOMEM;
	dev->priv = a;
	a->dev = dev;
	a->kvm = kvm;
	pthread_mutex_init(&a->lock, NULL);
	a->backend = disk__open(kvm, "emul", args, 64);
	if (!a->backend)
		return -EINVAL;
	a->reads = metrics__counter(&dev->metrics, "reads");
	a->writes = metrics__counter(&dev->metrics, "writes");
	a->flushes = metrics__counter(&dev->metrics, "flushes");
	a->identifies = metrics__counter(&dev->metrics, "identifies");
	a->aborted = metrics__counter(&dev->metrics, "aborted_commands");
	a->bad_tables = metrics__counter(&dev->metrics, "bad_command_tables");
	a->reg_reads = metrics__counter(&dev->metrics, "register_reads");
	a->reg_writes = metrics__counter(&dev->metrics, "register_writes");
	a->irqs = metrics__counter(&dev->metrics, "irqs_sent");
	a->ncq_commands = metrics__counter(&dev->metrics, "ncq_commands");
	a->cmd_ns = metrics__latency(&dev->metrics, "command_ns");
	ahci_reset(a);

	/* Intel ICH9 AHCI IDs, as QEMU uses; class 01/06/01 (SATA, AHCI 1.0). */
	pci__device_init(&a->pci, dev->name, 0x8086, 0x2922, 0x010601);
	a->pci.priv = a;
	a->pci.cfg_written = ahci_cfg_written;
	ret = pci__add_bar(&a->pci, ABAR, ABAR_SIZE, false, ahci_mmio, a);
	if (!ret)
		ret = pci__add_bar(&a->pci, MSIX_BAR, 0x1000, false, msix__mmio, &a->msix);
	if (!ret)
		ret = msix__init(&a->msix, &a->pci, 1, MSIX_BAR, 0, 0x800);
	if (!ret)
		ret = pci__register(&kvm->pci, &a->pci);
	return ret;
}

static void ahci__exit(struct device *dev)
{
	struct ahci *a = dev->priv;

	disk__close(dev->kvm, a->backend);
	free(a);
}

static void ahci__to_json(struct device *dev, cJSON *obj)
{
	struct ahci *a = dev->priv;

	cJSON_AddStringToObject(obj, "engine", a->backend->ops->name);
}

static const struct device_ops ahci_ops = {
	.name = "ahci",
	.help = "emulated disk: AHCI SATA controller, one disk (--disk emul:PATH)",
	.init = ahci__init,
	.exit = ahci__exit,
	.host_verify = ahci_host_verify,
	.to_json = ahci__to_json,
};
device_register(ahci_ops);

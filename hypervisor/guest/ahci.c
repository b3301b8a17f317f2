/*
 * The probe guest's AHCI driver: port 0, one PRDT entry per command, the
 * same register traffic as Linux's ahci driver per I/O (NCQ where the
 * disk has it, as Linux: set PxSACT, issue PxCI; on the interrupt read and
 * clear PxIS and HBA IS, read PxSACT or PxCI), every access a trapped exit
 * in vioscope-vmm. AHCI 1.3.1 sections 3, 4.2 and 5.6.4.
 */
#include "hypervisor/guest/ahci.h"

#define P0		0x100
#define PX_CLB		(P0 + 0x00)
#define PX_FB		(P0 + 0x08)
#define PX_IS		(P0 + 0x10)
#define PX_IE		(P0 + 0x14)
#define PX_CMD		(P0 + 0x18)
#define PX_TFD		(P0 + 0x20)
#define PX_SACT		(P0 + 0x34)
#define PX_CI		(P0 + 0x38)
#define SLOTS		32
#define CAP_SNCQ	(1u << 30)

static uint64_t abar;
static uint32_t *clb;			/* 32 command headers of 32 bytes */
static uint8_t *tables;			/* one 256-byte command table per slot */
static uint32_t outstanding, queued, errors_seen;	/* queued: NCQ slots */
static int ncq_ok;				/* CAP.SNCQ and IDENTIFY word 76.8 */
static uint8_t slot_status[SLOTS];

static inline void w(uint32_t off, uint32_t v) { mmio_write32(abar + off, v); }
static inline uint32_t r(uint32_t off) { return mmio_read32(abar + off); }

int gahci_init(uint8_t vector)
{
	struct pci_dev dev;
	void *fb;

	if (pci_find(0x8086, 0x2922, &dev))
		return -1;
	abar = dev.bar[5];
	clb = guest_alloc(4096);
	fb = guest_alloc(4096);
	tables = guest_alloc(SLOTS * 256);
	if (!abar || !clb || !fb || !tables)
		return -2;
	w(0x04, 1u << 31);			/* GHC.AE */
	w(PX_CMD, 0);				/* engine off while we set it up */
	w(PX_CLB, (uint32_t)(uint64_t)clb);
	w(PX_CLB + 4, 0);
	w(PX_FB, (uint32_t)(uint64_t)fb);
	w(PX_FB + 4, 0);
	w(PX_CMD, 1u << 4);			/* FRE */
	w(PX_CMD, 1u << 4 | 1);			/* ST */
	w(PX_IS, 0xffffffff);
	w(PX_IE, 0xffffffff);
	if (pci_msix_enable(&dev, 0, vector) == 0)
		w(0x04, 1u << 31 | 2);		/* GHC.IE: interrupts via MSI-X */
	return 0;
}

static void gahci_submit_prepare(unsigned int slot, uint8_t cmd, uint64_t lba, uint32_t count,
				 void *buf, uint32_t bytes, int write)
{
	uint32_t *hdr = clb + 8 * slot;
	uint8_t *fis = tables + 256 * slot;
	uint32_t *prdt = (uint32_t *)(fis + 0x80);

	fis[0] = 0x27;				/* H2D register FIS */
	fis[1] = 0x80;				/* C: command */
	fis[2] = cmd;
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = 0x40;				/* LBA mode */
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
	prdt[0] = (uint32_t)(uint64_t)buf;
	prdt[1] = 0;
	prdt[3] = bytes - 1;
	hdr[0] = 5 | (write ? 1u << 6 : 0) | 1u << 16;	/* CFL 5 dwords, W, PRDTL 1 */
	hdr[1] = 0;
	hdr[2] = (uint32_t)(uint64_t)fis;
	hdr[3] = 0;
}

uint64_t gahci_submit(unsigned int slot, uint8_t cmd, uint64_t lba, uint32_t count, void *buf,
		      uint32_t bytes, int write, int stamp)
{
	uint64_t t = 0;

	gahci_submit_prepare(slot, cmd, lba, count, buf, bytes, write);
	outstanding |= 1u << slot;
	if (stamp)
		t = rdtsc();
	w(PX_CI, 1u << slot);
	return t;
}

int gahci_has_ncq(void)
{
	return ncq_ok;
}

/* READ/WRITE FPDMA QUEUED: count in FEATURES, the tag (= slot) in COUNT 7:3. */
uint64_t gahci_submit_ncq(unsigned int slot, uint64_t lba, uint32_t count, void *buf,
			  uint32_t bytes, int write, int stamp)
{
	uint8_t *fis = tables + 256 * slot;
	uint64_t t = 0;

	gahci_submit_prepare(slot, write ? 0x61 : 0x60, lba, 0, buf, bytes, write);
	fis[3] = (uint8_t)count;
	fis[11] = (uint8_t)(count >> 8);
	fis[12] = (uint8_t)(slot << 3);
	fis[13] = 0;
	outstanding |= 1u << slot;
	queued |= 1u << slot;
	w(PX_SACT, 1u << slot);
	if (stamp)
		t = rdtsc();
	w(PX_CI, 1u << slot);
	return t;
}

static unsigned int next_reap;

int gahci_reap(void)
{
	uint32_t done, is;
	unsigned int s;

	is = r(PX_IS);
	if (is) {
		w(PX_IS, is);
		w(0x08, 1);			/* HBA IS, port 0 */
		if (is & (1u << 30))
			errors_seen++;
	}
	/* Queued commands finish when they leave PxSACT, others PxCI. */
	done = queued ? queued & ~r(PX_SACT) : 0;
	if (outstanding & ~queued)
		done |= outstanding & ~queued & ~r(PX_CI);
	if (!done)
		return -1;
	/*
	 * Round robin from the slot after the last one reaped: always taking
	 * the lowest finished slot starved the others (the caller reuses a
	 * slot at once), leaving finished I/Os unseen for up to seconds at
	 * QD32. Linux's driver takes every finished tag in one pass.
	 */
	for (s = next_reap; !(done & (1u << s)); s = (s + 1) % 32)
		;
	next_reap = (s + 1) % 32;
	outstanding &= ~(1u << s);
	queued &= ~(1u << s);
	slot_status[s] = (uint8_t)(r(PX_TFD) & 1);	/* ERR bit of the task file */
	return (int)s;
}

int gahci_failed(unsigned int slot)
{
	return slot_status[slot];
}

uint64_t gahci_capacity(void *buf512)
{
	int s;

	gahci_submit(0, 0xec, 0, 1, buf512, 512, 0, 0);	/* IDENTIFY DEVICE */
	while ((s = gahci_reap()) < 0)
		;	/* every reap reads registers: an exit, not a CPL0 spin */
	{
		uint16_t *id = buf512;

		ncq_ok = (r(0x00) & CAP_SNCQ) && (id[76] & (1u << 8));
		return ((uint64_t)id[100] | (uint64_t)id[101] << 16 | (uint64_t)id[102] << 32 |
			(uint64_t)id[103] << 48) * 512;
	}
}

/*
 * AHCI driven the way Linux's ahci driver does it: port engine started,
 * command list and FIS area in guest RAM, a command table with an H2D FIS
 * and a PRDT, then PxCI. The sync engine completes inline.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hypervisor/device.h"
#include "hypervisor/kvm.h"
#include "lib/log.h"
#include "tests/helpers.h"

#define RAM	(4u << 20)
#define CLB	0x10000
#define FB	0x11000
#define CTBA	0x12000
#define DATA	0x20000
#define P0	0x100

static struct kvm *kvm;
static struct device *dev;
static char image[] = "/tmp/vioscope-ahci-XXXXXX";
static uint64_t abar;

static void *gpa(uint64_t a) { return (uint8_t *)kvm->ram + a; }

static uint32_t rd(uint32_t off) { return test_mmio_read(kvm, abar + off, 4); }
static void wr(uint32_t off, uint32_t v) { test_mmio_write(kvm, abar + off, v, 4); }

static void setup(void)
{
	char args[128];
	int fd = mkstemp(image);

	log_level = LOG_ERR - 1;
	close(fd);
	unlink(image);
	kvm = test_fake_kvm_with_ram(RAM);
	snprintf(args, sizeof(args), "%s,size=1M,engine=sync", image);
	dev = device__create(kvm, "ahci", args);
	cr_assert_not_null(dev);
	abar = pci__bar_address(kvm->pci.slots[0], 5);
	/* As Linux: AHCI on, port 0 lists and FIS area, FRE then ST, IE. */
	wr(0x04, 1u << 31 | 2);
	wr(P0 + 0x00, CLB);
	wr(P0 + 0x08, FB);
	wr(P0 + 0x18, 1u << 4);
	wr(P0 + 0x18, 1u << 4 | 1);
	wr(P0 + 0x14, 0xffffffff);
}

static void teardown(void)
{
	device__destroy_all(kvm);
	test_fake_kvm_free(kvm);
	unlink(image);
}

TestSuite(ahci, .init = setup, .fini = teardown);

/* Slot 0: one H2D FIS, PRDT entries of `len` bytes each at DATA. */
static uint32_t command(uint8_t cmd, uint64_t lba, uint16_t count, uint32_t len, unsigned int prdtl,
			bool write)
{
	uint32_t *hdr = gpa(CLB);
	uint8_t *fis = gpa(CTBA);
	uint32_t *prdt = gpa(CTBA + 0x80);
	unsigned int i;

	memset(fis, 0, 0x80);
	fis[0] = 0x27;
	fis[1] = 0x80;
	fis[2] = cmd;
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = 0x40;
	fis[8] = (uint8_t)(lba >> 24);
	fis[9] = (uint8_t)(lba >> 32);
	fis[10] = (uint8_t)(lba >> 40);
	fis[12] = (uint8_t)count;
	fis[13] = (uint8_t)(count >> 8);
	for (i = 0; i < prdtl; i++) {
		prdt[4 * i] = DATA + i * len;
		prdt[4 * i + 1] = 0;
		prdt[4 * i + 3] = len - 1;
	}
	hdr[0] = 5 | (write ? 1u << 6 : 0) | prdtl << 16;
	hdr[1] = 0;
	hdr[2] = CTBA;
	hdr[3] = 0;
	wr(P0 + 0x10, 0xffffffff);	/* clear PxIS */
	wr(P0 + 0x38, 1);		/* issue slot 0 */
	cr_assert_eq(rd(P0 + 0x38), 0, "slot done");
	return rd(P0 + 0x20);		/* PxTFD */
}

Test(ahci, hba_and_port_identity)
{
	cr_assert_eq(pci__cfg16(kvm->pci.slots[0], PCI_VENDOR_ID), 0x8086);
	cr_assert_eq(pci__cfg32(kvm->pci.slots[0], PCI_CLASS_REVISION) >> 8, 0x010601);
	cr_assert_eq(rd(0x0c), 1, "port 0 implemented");
	cr_assert_eq(rd(0x10), 0x00010301);
	cr_assert_eq((rd(0x00) >> 8) & 0x1f, 31, "32 command slots");
	cr_assert_eq(rd(P0 + 0x24), 0x101, "ATA signature");
	cr_assert_eq(rd(P0 + 0x28) & 0xf, 3, "device present");
	cr_assert(rd(P0 + 0x18) & (1u << 15), "CR follows ST");
	cr_assert(rd(P0 + 0x18) & (1u << 14), "FR follows FRE");
}

Test(ahci, identify_reports_the_disk)
{
	uint16_t *id = gpa(DATA);

	cr_assert_eq(command(0xec, 0, 1, 512, 1, false) & 0xff, 0x50);
	cr_assert(rd(P0 + 0x10) & 2, "PIO setup FIS posted");
	cr_assert_eq(((uint32_t *)gpa(CLB))[1], 512, "PRDBC");
	cr_assert_eq(id[100], 2048, "LBA48 sectors of 1 MiB");
	cr_assert(id[83] & (1 << 10), "LBA48");
	cr_assert_eq(((uint8_t *)gpa(FB + 0x20))[15], 0x50, "E_Status for Linux");
	cr_assert(rd(0x08) & 1, "HBA interrupt status");
}

Test(ahci, dma_write_read_and_on_disk)
{
	uint8_t *data = gpa(DATA), disk[512];
	int fd;

	memset(data, 0x77, 2048);
	cr_assert_eq(command(0x35, 10, 4, 1024, 2, true) & 0xff, 0x50, "WRITE DMA EXT");
	cr_assert_eq(((uint32_t *)gpa(CLB))[1], 2048);
	memset(data, 0, 2048);
	cr_assert_eq(command(0x25, 10, 4, 512, 4, false) & 0xff, 0x50, "READ DMA EXT");
	cr_assert_eq(data[0], 0x77);
	cr_assert_eq(data[2047], 0x77);
	cr_assert_eq(command(0xea, 0, 0, 512, 0, false) & 0xff, 0x50, "FLUSH CACHE EXT");
	fd = open(image, O_RDONLY);
	cr_assert_eq(pread(fd, disk, 512, 13 * 512), 512);
	close(fd);
	cr_assert_eq(disk[511], 0x77);
	cr_assert_eq(metrics__value(&dev->metrics, "register_writes") > 0, 1);
}

Test(ahci, guest_mistakes_abort_the_command_only)
{
	uint32_t *prdt = gpa(CTBA + 0x80);

	cr_assert_eq(command(0x25, 2047, 2, 512, 2, false) & 0x01, 1, "past the end: ERR");
	cr_assert_eq((rd(P0 + 0x20) >> 8) & 0xff, 0x04, "ABRT");
	cr_assert(rd(P0 + 0x10) & (1u << 30), "task file error status");
	cr_assert_eq(command(0x25, 0, 8, 512, 2, false) & 0x01, 1, "PRDT smaller than the transfer");
	cr_assert_eq(command(0x99, 0, 0, 512, 0, false) & 0x01, 1, "unknown command");
	/* A PRDT entry pointing outside guest RAM. */
	command(0x25, 0, 1, 512, 1, false);
	prdt[0] = RAM - 16;
	wr(P0 + 0x38, 1);
	cr_assert_eq(rd(P0 + 0x20) & 0x01, 1);
	cr_assert_eq(metrics__value(&dev->metrics, "bad_command_tables"), 1);
	/* The controller still works. */
	cr_assert_eq(command(0x25, 0, 1, 512, 1, false) & 0xff, 0x50);
}

Test(ahci, commands_wait_for_the_engine)
{
	wr(P0 + 0x18, 1u << 4);		/* ST off */
	wr(P0 + 0x38, 1);
	cr_assert_eq(rd(P0 + 0x38), 0, "CI ignored while stopped");
	cr_assert_eq(metrics__value(&dev->metrics, "reads"), 0);
}

/*
 * NCQ the way Linux's ahci driver issues it: the slot's bit in PxSACT,
 * then PxCI; FPDMA with the count in FEATURES and the tag in COUNT 7:3.
 * Completion: a Set Device Bits FIS naming the slot, PxIS.SDBS, the bit
 * gone from PxSACT (the sync engine here completes at once).
 */
static uint32_t ncq(uint8_t cmd, unsigned int slot, uint64_t lba, uint16_t count, bool sact)
{
	uint32_t *hdr = gpa(CLB + 32 * slot);
	uint8_t *fis = gpa(CTBA + 0x100 * slot);
	uint32_t *prdt = gpa(CTBA + 0x100 * slot + 0x80);

	memset(fis, 0, 0x80);
	fis[0] = 0x27;
	fis[1] = 0x80;
	fis[2] = cmd;
	fis[3] = (uint8_t)count;		/* FEATURES: sector count */
	fis[11] = (uint8_t)(count >> 8);
	fis[4] = (uint8_t)lba;
	fis[5] = (uint8_t)(lba >> 8);
	fis[6] = (uint8_t)(lba >> 16);
	fis[7] = 0x40;
	fis[12] = (uint8_t)(slot << 3);		/* COUNT 7:3: the tag */
	prdt[0] = DATA + 0x1000 * slot;
	prdt[1] = 0;
	prdt[3] = (uint32_t)count * 512 - 1;
	hdr[0] = 5 | (cmd == 0x61 ? 1u << 6 : 0) | 1u << 16;
	hdr[2] = CTBA + 0x100 * slot;
	hdr[3] = 0;
	wr(P0 + 0x10, 0xffffffff);
	memset(gpa(FB + 0x58), 0, 8);
	if (sact)
		wr(P0 + 0x34, 1u << slot);
	wr(P0 + 0x38, 1u << slot);
	cr_assert_eq(rd(P0 + 0x38) & (1u << slot), 0, "accepted: PxCI bit clear");
	return rd(P0 + 0x20);
}

Test(ahci, ncq_write_and_read_complete_with_set_device_bits)
{
	uint16_t *id = gpa(DATA);
	uint8_t *data = gpa(DATA + 0x1000 * 5), *sdb = gpa(FB + 0x58);
	uint32_t sactive;

	cr_assert(rd(0x00) & (1u << 30), "CAP.SNCQ");
	command(0xec, 0, 0, 512, 1, false);
	cr_assert_eq(id[75] & 0x1f, 31, "queue depth 32");
	cr_assert(id[76] & (1 << 8), "NCQ supported");

	memset(data, 0x5e, 2048);
	cr_assert_eq(ncq(0x61, 5, 100, 4, true) & 0x01, 0, "no error");
	cr_assert_eq(sdb[0], 0xa1, "Set Device Bits FIS");
	cr_assert(sdb[1] & 0x40, "with I");
	memcpy(&sactive, sdb + 4, 4);
	cr_assert_eq(sactive, 1u << 5, "completes slot 5");
	cr_assert_eq(rd(P0 + 0x34), 0, "PxSACT bit cleared");
	cr_assert(rd(P0 + 0x10) & (1u << 3), "PxIS.SDBS");
	cr_assert_not(rd(P0 + 0x10) & 1, "no D2H interrupt for the acceptance");
	memset(data, 0, 2048);
	cr_assert_eq(ncq(0x60, 5, 100, 4, true) & 0x01, 0);
	cr_assert_eq(data[0], 0x5e);
	cr_assert_eq(data[2047], 0x5e);
	cr_assert_eq(metrics__value(&dev->metrics, "ncq_commands"), 2);
}

Test(ahci, ncq_mistakes_abort_the_command)
{
	cr_assert(ncq(0x60, 2, 0, 4, false) & 0x01, "FPDMA without its PxSACT bit");
	cr_assert(ncq(0x60, 3, 2047, 4, true) & 0x01, "past the end");
	cr_assert(rd(P0 + 0x10) & (1u << 30), "task file error");
	cr_assert_eq(rd(P0 + 0x34), 0, "the failed slot left PxSACT too");
	wr(P0 + 0x34, 1u << 7);
	cr_assert_eq(rd(P0 + 0x34), 1u << 7);
	wr(P0 + 0x18, 1u << 4);		/* ST off: PxSACT cleared (3.3.13) */
	cr_assert_eq(rd(P0 + 0x34), 0);
	wr(P0 + 0x18, 1u << 4 | 1);
	cr_assert_eq(ncq(0x60, 1, 0, 1, true) & 0x01, 0, "the port still works");
}

/*
 * The disk workload, fio-like, on the virtio-blk disk (dev=pv, default) or
 * the AHCI disk (dev=emul), the same code above the two drivers:
 *   disk dev=pv|emul rw=randread|randwrite|read|write bs=4096 iodepth=1..32
 *        ios=N verify=0|1 ncq=0|1 stamps=0|1
 * and the usb workload, the same engine on a USB disk (Bulk-Only Transport,
 * bot.c) behind the xHCI controller (dev=emul, the default) or on the
 * USB/IP channel (dev=pv):
 *   usb dev=emul|pv rw=... bs=... iodepth=... ios=N verify=0|1
 * BOT runs one command at a time: with iodepth > 1 the others wait in the
 * driver, as they do in Linux's usb-storage, and their latency shows it.
 * stamps=1 also reads the TSC just before each doorbell write, for the
 * stage view of vioscope trace --stages (driver vs notify); off by default
 * because an rdtsc traps on PVM and would sit inside every timed I/O.
 * On AHCI, reads and writes are NCQ commands (READ/WRITE FPDMA QUEUED)
 * when the disk offers them and ncq=1 (default), as Linux issues them.
 * Each I/O is timed from submission to the completion seen by the guest
 * (interrupt, then the used ring). verify=1 first writes the pattern of
 * abi.h to the first blocks, reads them back and compares; the VMM checks
 * the same blocks in the image file. Writes always carry the pattern of
 * their block, so that check holds after any workload.
 */
#include "hypervisor/guest/ahci.h"
#include "hypervisor/guest/usb.h"
#include "hypervisor/guest/virtio.h"

#define VBLK_TYPE	2
#define T_IN		0
#define T_OUT		1
#define SECTOR		512
#define MAX_DEPTH	32
#define VERIFY_BLOCKS	32
#define DISK_VECTOR	(INTR_MSIX_BASE + 1)
#define WAIT_TICKS	50		/* watchdog ticks (~100 ms each) per wait */

static const char *const disk_args[] = { "dev", "rw", "bs", "iodepth", "ios", "verify", "ncq",
					 "stamps", NULL };
static const char *const usb_args[] = { "dev", "rw", "bs", "iodepth", "ios", "verify", NULL };
static const struct arg_choice rws[] = {
	{ "read", VIO_RW_READ }, { "write", VIO_RW_WRITE },
	{ "randread", VIO_RW_RANDREAD }, { "randwrite", VIO_RW_RANDWRITE }, { 0 },
};
static const struct arg_choice devs[] = { { "pv", 0 }, { "emul", 1 }, { 0 } };
static int emul;		/* 1: AHCI, 0: virtio-blk */
static const struct gusb_hc *usb;	/* a USB disk through this host side */
static unsigned int usb_queue[MAX_DEPTH], usb_head, usb_count;	/* BOT: one at a time */
static int use_ncq;		/* AHCI: FPDMA QUEUED reads and writes */
static int irq_ok;		/* completions interrupt (else poll registers) */
static uint32_t bs_now;		/* bytes per I/O */
static int stamp;		/* stamps=1: TSC at each doorbell too (stage view) */

struct slot {
	uint32_t type, reserved;	/* struct virtio_blk_outhdr */
	uint64_t sector;
	uint8_t status;
	uint64_t block;
	uint64_t t0;
	uint64_t t_doorbell;
	uint8_t *buf;
};

static struct gvirtio vb;
static struct slot *slots;
static volatile uint64_t irqs;
static volatile unsigned int ticks;
static struct vio_result result;

static void on_irq(uint8_t v) { irqs++; }
static void on_tick(uint8_t v) { ticks++; }

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t next_random(void)
{
	rng ^= rng << 13;	/* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/*
 * The pattern of abi.h. Past the first 8 bytes, byte i is (i*7 + 0x5a) ^
 * (i >> 8): 256-byte row k is the row of i = 0..255 XOR k, filled here in
 * 64-bit words. Guest code runs emulated on PVM (about 270 ns an
 * instruction): a byte loop over 4 x 128 KiB took seconds.
 */
static void fill_pattern(uint8_t *buf, uint32_t bs, uint64_t block, int whole)
{
	uint64_t row[32], *d = (uint64_t *)buf;
	uint8_t *r = (uint8_t *)row;
	uint32_t i, k;

	if (whole) {
		for (i = 0; i < 256; i++)
			r[i] = (uint8_t)(i * 7 + 0x5a);
		for (k = 0; k < bs / 256; k++) {
			uint64_t x = 0x0101010101010101ULL * (uint8_t)k;

			for (i = 0; i < 32; i++)
				*d++ = row[i] ^ x;
		}
		for (i = bs / 256 * 256; i < bs; i++)
			buf[i] = vio_pattern(block, i);
	}
	for (i = 0; i < 8; i++)
		buf[i] = vio_pattern(block, i);
}

static void submit(unsigned int s, uint32_t type, uint64_t block, uint32_t bs)
{
	struct slot *sl = &slots[s];
	uint16_t d = (uint16_t)(3 * s);

	sl->type = type;
	sl->sector = block * (bs / SECTOR);
	sl->block = block;
	sl->status = 0xff;
	if (type == T_OUT)
		fill_pattern(sl->buf, bs, block, 0);
	if (usb) {	/* started by reap(), in order */
		sl->t0 = sl->t_doorbell = rdtsc();
		usb_queue[(usb_head + usb_count++) % MAX_DEPTH] = s;
		return;
	}
	if (emul) {
		sl->t0 = rdtsc();
		if (use_ncq)
			sl->t_doorbell = gahci_submit_ncq(s, sl->sector, bs / SECTOR, sl->buf, bs,
							  type == T_OUT, stamp);
		else	/* WRITE / READ DMA EXT */
			sl->t_doorbell = gahci_submit(s, type == T_OUT ? 0x35 : 0x25, sl->sector,
						      bs / SECTOR, sl->buf, bs, type == T_OUT, stamp);
		if (!stamp)
			sl->t_doorbell = sl->t0;
		return;
	}
	vb.q[0].desc[d] = (struct vq_desc){ (uint64_t)sl, 16, VQ_F_NEXT, (uint16_t)(d + 1) };
	vb.q[0].desc[d + 1] = (struct vq_desc){ (uint64_t)sl->buf, bs,
		(uint16_t)(VQ_F_NEXT | (type == T_IN ? VQ_F_WRITE : 0)), (uint16_t)(d + 2) };
	vb.q[0].desc[d + 2] = (struct vq_desc){ (uint64_t)&sl->status, 1, VQ_F_WRITE, 0 };
	sl->t0 = rdtsc();
	sl->t_doorbell = gvirtio_submit(&vb.q[0], d, stamp);
	if (!stamp)
		sl->t_doorbell = sl->t0;
}

/* Waits for the next completion; returns its slot or -1 on a timeout. */
static int reap(void)
{
	unsigned int start = ticks;
	uint32_t len;
	int head;

	if (usb) {
		struct slot *sl;

		if (!usb_count)
			return -1;
		head = (int)usb_queue[usb_head];
		usb_head = (usb_head + 1) % MAX_DEPTH;
		usb_count--;
		sl = &slots[head];
		sl->status = (uint8_t)gbot_rw(sl->type == T_OUT, sl->sector, bs_now / SECTOR, sl->buf,
					      bs_now);
		return head;
	}
	if (emul) {
		/* Each reap reads PxIS / PxCI: exits, as a real driver's. */
		while ((head = gahci_reap()) < 0) {
			if (ticks - start > WAIT_TICKS)
				return -1;
			if (irq_ok)
				asm volatile("sti; hlt; cli" ::: "memory");
		}
		slots[head].status = (uint8_t)gahci_failed((unsigned int)head);
		return head;
	}
	while ((head = gvirtio_used(&vb.q[0], &len)) < 0) {
		if (ticks - start > WAIT_TICKS)
			return -1;
		if (vb.msix)
			asm volatile("sti; hlt; cli" ::: "memory");
		else
			(void)mmio_read32(vb.isr);	/* polling: each read is an exit */
	}
	return head / 3;
}

static int run_one(uint32_t type, uint64_t block, uint32_t bs)
{
	int s;

	submit(0, type, block, bs);
	s = reap();
	return s < 0 ? -1 : slots[s].status;
}

static uint64_t verify_pass(uint32_t bs, uint64_t nblocks)
{
	uint64_t b, bad = 0;
	uint32_t i;

	for (b = 0; b < nblocks; b++) {
		fill_pattern(slots[0].buf, bs, b, 1);
		if (run_one(T_OUT, b, bs) != 0)
			bad++;
	}
	for (b = 0; b < nblocks; b++) {
		memset(slots[0].buf, 0, bs);
		if (run_one(T_IN, b, bs) != 0) {
			bad++;
			continue;
		}
		for (i = 0; i < bs; i++)
			if (slots[0].buf[i] != vio_pattern(b, i)) {
				bad++;
				break;
			}
	}
	return bad;
}

static int engine_run(const char *who, const char *args, int usb_dev)
{
	uint64_t bs = 4096, depth = 1, ios = 1000, verify = 0, ncq = 1, stamps = 0, blocks;
	uint64_t issued = 0, done = 0;
	uint64_t *lat, *timer, *sub, *bell, *tags, seq = 0;
	int rw = VIO_RW_RANDREAD, dev = 0, ret;
	unsigned int s, nfree, free_slots[MAX_DEPTH];

	if (usb_dev)
		dev = 1;
	if (arg_check(who, args, usb_dev ? usb_args : disk_args) ||
	    arg_choose(who, args, "dev", devs, &dev) < 0 ||
	    arg_choose(who, args, "rw", rws, &rw) < 0 ||
	    arg_u64(who, args, "bs", SECTOR, 1u << 20, &bs) < 0 ||
	    arg_u64(who, args, "iodepth", 1, MAX_DEPTH, &depth) < 0 ||
	    arg_u64(who, args, "ios", 1, 1u << 22, &ios) < 0 ||
	    arg_u64(who, args, "verify", 0, 1, &verify) < 0 ||
	    arg_u64(who, args, "ncq", 0, 1, &ncq) < 0 ||
	    arg_u64(who, args, "stamps", 0, 1, &stamps) < 0)
		return VIO_ERR_WORKLOAD;
	if (bs % SECTOR) {
		printf("guest: %s: bs must be a multiple of 512\n", who);
		return VIO_ERR_WORKLOAD;
	}
	bs_now = (uint32_t)bs;
	emul = !usb_dev && dev;
	usb = 0;
	usb_head = usb_count = 0;
	stamp = (int)stamps;
	intr_set_handler(DISK_VECTOR, on_irq);
	intr_set_handler(INTR_WATCHDOG, on_tick);
	result = (struct vio_result){ .magic = VIO_RESULT_MAGIC, .kind = VIO_DISK };
	if (usb_dev) {
		/* The driver's waits end on the watchdog if the device is silent. */
		lapic_timer_periodic(100000000u);
		usb = dev ? &gxhci_hc : &gusbip_hc;
		ret = dev ? gxhci_init(DISK_VECTOR, 8) : gusbip_init(DISK_VECTOR, "1-1");
		if (!ret)
			ret = 10 * gbot_init(usb, &result.disk.capacity);
		if (ret) {
			usb = 0;
			lapic_timer_stop();
			printf("guest: usb: no usable %s or USB disk (%d); add --usb %s:PATH\n",
			       dev ? "xHCI controller" : "USB/IP channel", ret, dev ? "emul" : "pv");
			return VIO_ERR_NODEV;
		}
		irq_ok = 1;
		result.disk.flags = VIO_DISK_USB | (dev ? VIO_DISK_EMUL : 0);
	} else if (emul) {
		uint8_t *scratch = guest_alloc(512);

		ret = scratch ? gahci_init(DISK_VECTOR) : -1;
		if (ret) {
			printf("guest: disk: no usable AHCI controller (%d); add --disk emul:PATH\n", ret);
			return VIO_ERR_NODEV;
		}
		irq_ok = 1;
		result.disk.capacity = gahci_capacity(scratch);
		use_ncq = ncq && gahci_has_ncq();
		result.disk.flags = VIO_DISK_EMUL | (use_ncq ? VIO_DISK_NCQ : 0);
	} else {
		ret = gvirtio_init(&vb, VBLK_TYPE, 0, 1, 128, DISK_VECTOR);
		if (ret) {
			printf("guest: disk: no usable virtio-blk device (%d); add --disk pv:PATH\n", ret);
			return VIO_ERR_NODEV;
		}
		irq_ok = vb.msix;
		result.disk.capacity = gvirtio_config64(&vb, 0) * SECTOR;
	}
	blocks = result.disk.capacity / bs;
	if (!blocks) {
		printf("guest: disk: bs is larger than the disk\n");
		return VIO_ERR_WORKLOAD;
	}
	slots = guest_alloc(MAX_DEPTH * sizeof(*slots));
	lat = guest_alloc(ios * sizeof(uint64_t));
	timer = guest_alloc(1000 * sizeof(uint64_t));
	/* For the stage breakdown only: left out when RAM is short. */
	sub = guest_alloc(ios * sizeof(uint64_t));
	bell = sub ? guest_alloc(ios * sizeof(uint64_t)) : 0;
	tags = bell ? guest_alloc(ios * sizeof(uint64_t)) : 0;
	for (s = 0; slots && s < depth; s++) {
		slots[s].buf = guest_alloc(bs);
		if (!slots[s].buf)
			slots = 0;
	}
	if (!slots || !lat || !timer) {
		printf("guest: disk: buffers do not fit in RAM\n");
		return VIO_ERR_NOMEM;
	}
	for (s = 0; s < depth; s++)
		fill_pattern(slots[s].buf, (uint32_t)bs, 0, 1);
	lapic_timer_periodic(100000000u);

	if (verify) {
		result.disk.verify_blocks = blocks < VERIFY_BLOCKS ? blocks : VERIFY_BLOCKS;
		result.disk.verify_mismatches = verify_pass((uint32_t)bs, result.disk.verify_blocks);
	}
	/* The cost of timing itself, as in micro.c. */
	for (s = 0; s < 1000; s++) {
		uint64_t t0 = rdtsc();

		timer[s] = rdtsc() - t0;
	}

	for (s = 0; s < depth; s++)
		free_slots[s] = s;
	nfree = (unsigned int)depth;
	irqs = 0;
	outl(VIO_CTL_BEGIN, 0);
	result.tsc_start = rdtsc();
	while (done < ios) {
		int sl;

		/* Keep iodepth requests in flight; completions free their slot. */
		while (issued < ios && nfree) {
			uint64_t block = (rw == VIO_RW_READ || rw == VIO_RW_WRITE) ? seq++ % blocks
										: next_random() % blocks;

			submit(free_slots[--nfree],
			       (rw == VIO_RW_WRITE || rw == VIO_RW_RANDWRITE) ? T_OUT : T_IN,
			       block, (uint32_t)bs);
			issued++;
		}
		sl = reap();
		if (sl < 0) {
			printf("guest: disk: I/O timed out after %lu done\n", done);
			result.status = VIO_ERR_TIMEOUT;
			break;
		}
		if (tags) {
			sub[done] = slots[sl].t0;
			bell[done] = slots[sl].t_doorbell;
			tags[done] = emul || usb ? (uint64_t)sl : 3 * (uint64_t)sl;	/* see submit() */
		}
		lat[done++] = rdtsc() - slots[sl].t0;
		if (slots[sl].status != 0)
			result.disk.errors++;
		free_slots[nfree++] = (unsigned int)sl;
	}
	result.tsc_end = rdtsc();
	lapic_timer_stop();

	result.ops = done;
	result.measured = (struct vio_samples){ (uint64_t)lat, done };
	result.timer = (struct vio_samples){ (uint64_t)timer, 1000 };
	if (tags) {
		result.submitted = (struct vio_samples){ (uint64_t)sub, done };
		result.doorbell = (struct vio_samples){ (uint64_t)bell, done };
		result.tags = (struct vio_samples){ (uint64_t)tags, done };
	}
	result.disk.rw = (uint32_t)rw;
	result.disk.block_size = (uint32_t)bs;
	result.disk.iodepth = (uint32_t)depth;
	result.disk.bytes = done * bs;
	result.disk.interrupts = irqs;
	result.irq_mode = irq_ok ? VIO_IRQ_MSIX : VIO_IRQ_POLL;
	result.space = emul || usb ? VIO_SPACE_MMIO : VIO_SPACE_NONE;	/* trapped registers */
	outl(VIO_CTL_RESULT, (uint32_t)(uint64_t)&result);
	printf("guest: %s%s: %lu I/Os, %u errors, verify mismatches %lu\n", who, args, done,
	       result.disk.errors, result.disk.verify_mismatches);
	if (result.status)
		return (int)result.status;
	return result.disk.errors || result.disk.verify_mismatches ? VIO_ERR_WORKLOAD : VIO_OK;
}

int disk_run(const char *args, const struct vio_boot_info *bi)
{
	return engine_run("disk", args, 0);
}

int usb_run(const char *args, const struct vio_boot_info *bi)
{
	return engine_run("usb", args, 1);
}

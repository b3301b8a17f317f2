/*
 * The contract between vioscope-vmm and the probe guest: where the VMM puts
 * the boot information, which ports the guest uses to talk back, and the
 * register layout of the benchmark device. Shared by both sides, so it uses
 * only fixed-width types and no libc.
 */
#ifndef VIOSCOPE__GUEST_ABI_H
#define VIOSCOPE__GUEST_ABI_H

#include <stdint.h>

/* Guest-physical layout set up by the VMM before the first instruction. */
#define VIO_GDT_GPA		0x0500ULL
#define VIO_BOOT_INFO_GPA	0x8000ULL	/* struct vio_boot_info, in rdi at entry */
#define VIO_PGTABLE_GPA		0x9000ULL	/* PML4, PDPT, 4 PDs: identity 0-4 GiB */
#define VIO_GUEST_LOAD_GPA	0x100000ULL	/* where the probe guest is linked */

#define VIO_BOOT_MAGIC		0x564f4956U	/* "VIOV" */
#define VIO_WORKLOAD_MAX	2048	/* boot info fits in its 4 KiB page */

struct vio_boot_info {
	uint32_t magic;
	uint32_t nr_cpus;
	uint64_t ram_size;		/* bytes of RAM from GPA 0 */
	uint64_t tsc_khz;		/* from KVM_GET_TSC_KHZ, 0 when unknown */
	char workload[VIO_WORKLOAD_MAX];	/* NUL-terminated --workload text */
};

/*
 * The control device ("vioctl"): a PIO window the guest uses for its results
 * channel. Every access is a userspace exit, so the guest uses it only
 * between measurements.
 */
#define VIO_CTL_PORT		0x0600
#define VIO_CTL_LEN		0x18
#define VIO_CTL_RESULT		(VIO_CTL_PORT + 0x0)	/* out32: GPA of a struct vio_result */
#define VIO_CTL_PHASE		(VIO_CTL_PORT + 0x4)	/* out32: enum vio_phase */
#define VIO_CTL_EXIT		(VIO_CTL_PORT + 0x8)	/* out32: exit status, stops the VM */
#define VIO_CTL_LOG		(VIO_CTL_PORT + 0xc)	/* out8: one console byte, no UART */
#define VIO_CTL_RAW_ADDR	(VIO_CTL_PORT + 0x10)	/* out32: port (< 64K) or MMIO address
							   the raw loop may skip */
#define VIO_CTL_BEGIN		(VIO_CTL_PORT + 0x14)	/* out32: a measurement starts now */
#define VIO_EXIT_EXCEPTION	0x100	/* exit status 0x100 + vector: guest fault */

enum vio_phase {
	VIO_PHASE_DISPATCH = 0,		/* full VMM dispatch: bus, device, probes, metrics */
	VIO_PHASE_RAW = 1,		/* minimal KVM_RUN loop on the benchmark address */
};

enum vio_micro_kind {
	VIO_MICRO_PIO = 1,
	VIO_MICRO_MMIO = 2,
	VIO_MICRO_IOEVENTFD = 3,
	VIO_MICRO_IRQ = 4,
	VIO_MICRO_PIO_RAW = 5,
	VIO_MICRO_MMIO_RAW = 6,
	VIO_MICRO_NULL = 7,		/* no operation: the cost of the timing itself */
	VIO_DISK = 16,			/* the disk workload (record carries struct vio_disk) */
	VIO_NET = 17,			/* the net workload (record carries struct vio_net) */
	VIO_HID = 18,			/* the hid workload (record carries struct vio_hid) */
	VIO_GFX = 19,			/* the gfx workload (record carries struct vio_gfx) */
};

enum vio_disk_rw {
	VIO_RW_READ = 0, VIO_RW_WRITE = 1, VIO_RW_RANDREAD = 2, VIO_RW_RANDWRITE = 3,
};

/* Disk workload details, inside struct vio_result. */
struct vio_disk {
	uint32_t rw;			/* enum vio_disk_rw */
	uint32_t block_size;		/* bytes per I/O */
	uint32_t iodepth;
	uint32_t errors;		/* I/Os the device answered with an error */
	uint64_t bytes;
	uint64_t capacity;		/* device size in bytes */
	uint64_t verify_blocks;		/* verify=1: blocks 0..n-1 hold the pattern */
	uint64_t verify_mismatches;	/* found by the guest on read-back */
	uint64_t interrupts;		/* completion interrupts the guest took */
	uint32_t flags;			/* VIO_DISK_* */
	uint32_t pad;
};

#define VIO_DISK_EMUL	(1u << 0)	/* the AHCI disk (else virtio-blk) */

enum vio_net_mode { VIO_NET_TX = 0, VIO_NET_RX = 1, VIO_NET_PINGPONG = 2 };

/* Net workload details, inside struct vio_result. Frames are vioscope's
 * test frames (lib/frame.h); sizes do not count the FCS. */
struct vio_net {
	uint32_t mode;			/* enum vio_net_mode */
	uint32_t size;			/* bytes per frame */
	uint64_t sent;			/* frames the guest handed to the NIC */
	uint64_t received;		/* good frames the guest took */
	uint64_t bad;			/* received with a wrong size, type or payload */
	uint64_t lost;			/* sequence gaps (rx), unanswered pings */
	uint64_t reordered;		/* a sequence number below the last one */
	uint64_t interrupts;		/* NIC interrupts the guest took */
	uint64_t other;			/* received frames of other EtherTypes, ignored */
	uint32_t flags;			/* VIO_NET_* */
	uint32_t verify;		/* 1: every payload byte checked */
};

#define VIO_NET_EMUL	(1u << 0)	/* the e1000 (else virtio-net) */

/* HID workload details, inside struct vio_result. `measured` holds the
 * guest's TSC when each report was in its hands and `tags` the host's
 * CLOCK_MONOTONIC ns when the keyboard injected it: the VMM turns the
 * pairs into delivery latencies through its TSC anchors. */
struct vio_hid {
	uint64_t events;		/* asked of the keyboard */
	uint64_t received;		/* reports the guest took */
	uint64_t lost;			/* sequence gaps: dropped at the keyboard's queue */
	uint64_t interrupts;		/* completion interrupts the guest took */
	uint32_t interval_us;		/* between injections */
	uint32_t flags;			/* VIO_HID_* */
};

#define VIO_HID_EMUL	(1u << 0)	/* behind the xHCI (else the USB/IP channel) */

enum vio_gfx_pattern { VIO_GFX_FULL = 0, VIO_GFX_RECTS = 1 };

/* Gfx workload details, inside struct vio_result. Frame k of pattern
 * full is the whole screen in vio_color(k); of rects, a VIO_RECT square
 * in vio_color(k) at vio_rect_x/y(k) over the frames before it (on a
 * cleared screen): the VMM replays that to check the last frame. Last of
 * all, pixel (0, 0) takes the frame's stamp, vio_stamp(k): the display
 * notes when it first shows each stamp, and `measured` holds the guest's
 * TSC when it wrote it, so the VMM has each frame's update latency. */
struct vio_gfx {
	uint32_t pattern;		/* enum vio_gfx_pattern */
	uint32_t width, height;
	uint32_t flags;			/* VIO_GFX_* */
	uint64_t frames;		/* drawn */
};

#define VIO_GFX_EMUL	(1u << 0)	/* bochs-display (else virtio-gpu) */
#define VIO_GFX_VIRGL	(1u << 1)	/* virtio-gpu 3D: a virgl stream */
#define VIO_RECT	64

static inline uint32_t vio_color(uint64_t frame)
{
	return ((uint32_t)(frame * 0x9e3779b1u) & 0x00ffffffu) | 0x00010101u;
}

static inline uint32_t vio_stamp(uint64_t frame)
{
	return 0x00800000u | (uint32_t)(frame & 0x7fffffu);
}

static inline uint32_t vio_rect_x(uint64_t frame, uint32_t width)
{
	return (uint32_t)(frame * 37 % (width - VIO_RECT + 1));
}

static inline uint32_t vio_rect_y(uint64_t frame, uint32_t height)
{
	return (uint32_t)(frame * 23 % (height - VIO_RECT + 1));
}
#define VIO_NET_START_SEQ 0xffffffffu	/* rx: the frame that says "ready" */
#define VIO_DISK_NCQ	(1u << 1)	/* AHCI with READ/WRITE FPDMA QUEUED */
#define VIO_DISK_USB	(1u << 2)	/* a USB disk: EMUL = behind xHCI */

/*
 * The verify pattern: byte i of block b. Shared so that the VMM can check
 * the image file from the host side as well. The first 8 bytes hold the
 * block number (a write that lands on the wrong block is caught); the rest
 * depends on i only, so a writer rewrites just 8 bytes per I/O.
 */
static inline uint8_t vio_pattern(uint64_t block, uint32_t i)
{
	if (i < 8)
		return (uint8_t)((block >> (8 * i)) ^ 0x5a);
	return (uint8_t)((i * 7 + 0x5a) ^ (i >> 8));
}

enum vio_irq_mode {
	VIO_IRQ_NONE = 0,
	VIO_IRQ_MSIX = 1,		/* MSI-X vector through irqfd, wait with sti; hlt */
	VIO_IRQ_POLL = 2,		/* no interrupt: poll the device status register */
	VIO_IRQ_INTX = 3,		/* legacy INTx line through the I/O APIC, sti; hlt */
};

enum vio_space {
	VIO_SPACE_PIO = 0,
	VIO_SPACE_MMIO = 1,
	VIO_SPACE_NONE = 2,
};

enum vio_via {
	VIO_VIA_EVLOOP = 0,		/* ioeventfd -> event loop thread -> irqfd */
	VIO_VIA_VCPU = 1,		/* trapped write -> the vCPU thread -> irqfd */
};

#define VIO_RESULT_MAGIC	0x53455256U	/* "VRES" */

/* One sample array: TSC cycles per operation. */
struct vio_samples {
	uint64_t gpa;			/* uint64_t[count] in guest RAM */
	uint64_t count;
};

struct vio_result {
	uint32_t magic;
	uint32_t kind;			/* enum vio_micro_kind */
	uint32_t status;		/* 0 = ok, else a VIO_ERR_* code */
	uint32_t irq_mode;		/* enum vio_irq_mode */
	uint32_t space;			/* enum vio_space: what the op writes */
	uint32_t via;			/* enum vio_via: who answers an irq doorbell */
	uint64_t ops;			/* operations requested */
	uint64_t tsc_start;
	uint64_t tsc_end;
	struct vio_samples measured;	/* the kind's own path */
	struct vio_samples raw;		/* the same ops under the raw loop, or count 0 */
	struct vio_samples timer;	/* empty timed ops: rdtsc cost, subtracted by the VMM */
	/* Disk, per I/O in completion order beside `measured`: the TSC at
	 * submission and just before the doorbell write, and the device tag
	 * (virtqueue head, AHCI slot) that the VMM's request probes carry too
	 * (the stage breakdown). */
	struct vio_samples submitted;
	struct vio_samples doorbell;
	struct vio_samples tags;
	struct vio_disk disk;		/* kind VIO_DISK only */
	struct vio_net net;		/* kind VIO_NET only */
	struct vio_hid hid;		/* kind VIO_HID only */
	struct vio_gfx gfx;		/* kind VIO_GFX only */
};

enum vio_err {
	VIO_OK = 0,
	VIO_ERR_WORKLOAD = 1,		/* unknown or malformed workload text */
	VIO_ERR_NODEV = 2,		/* benchmark device not found on PCI */
	VIO_ERR_NOMEM = 3,		/* sample buffers do not fit in RAM */
	VIO_ERR_TIMEOUT = 4,		/* an interrupt never arrived */
	VIO_ERR_EXCEPTION = 5,		/* the guest took an unexpected exception */
	VIO_ERR_DEVICE = 6,		/* the device answered with an error */
};

/*
 * The benchmark device: PCI function with a PIO BAR, an MMIO BAR and an
 * MSI-X BAR. The doorbells marked "ioeventfd" never exit to userspace: KVM
 * signals an eventfd that the VMM's event loop consumes.
 */
#define VIO_BENCH_VENDOR	0x1234	/* unofficial test ID, as QEMU's edu uses */
#define VIO_BENCH_DEVICE	0x7105
#define VIO_BENCH_PIO_BAR	0
#define VIO_BENCH_PIO_SIZE	0x20
#define VIO_BENCH_MMIO_BAR	1
#define VIO_BENCH_MMIO_SIZE	0x1000
#define VIO_BENCH_MSIX_BAR	2
#define VIO_BENCH_MSIX_VECTORS	2

/* PIO BAR offsets */
#define VIO_BENCH_PIO_REG	0x00	/* out32: trapped, handled by the device model */
#define VIO_BENCH_PIO_KICK	0x04	/* out32: ioeventfd doorbell */
#define VIO_BENCH_PIO_IRQ	0x08	/* out32: ioeventfd; the VMM answers with MSI-X vector 0 */
#define VIO_BENCH_PIO_IRQ_SYNC	0x0c	/* out32: trapped; the vCPU thread raises vector 0 */

/* MMIO BAR offsets */
#define VIO_BENCH_MMIO_REG	0x000	/* write32: trapped, handled by the device model */
#define VIO_BENCH_MMIO_KICK	0x004	/* write32: ioeventfd doorbell */
#define VIO_BENCH_MMIO_IRQ	0x008	/* write32: ioeventfd; the VMM raises vector 0 */
#define VIO_BENCH_MMIO_STATUS	0x00c	/* read32: bit 0 = interrupt pending; reading clears */
#define VIO_BENCH_MMIO_IRQ_SYNC	0x010	/* write32: trapped; the vCPU thread raises vector 0 */

#endif /* VIOSCOPE__GUEST_ABI_H */

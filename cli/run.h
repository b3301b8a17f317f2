#ifndef VIOSCOPE__CLI_RUN_H
#define VIOSCOPE__CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/suite.h"

struct cJSON;

/* What one iteration of a cell measured. */
#define RUN_MAX_METRICS 24

struct run_metric {
	char name[40];
	char unit[16];
	bool higher_is_better;
	double value;
};

struct run_result {
	struct run_metric m[RUN_MAX_METRICS];
	int nm;
	uint64_t *samples;	/* per-I/O latency, ns (malloc'd), or NULL */
	size_t nsamples;
	struct cJSON *stages;	/* vioscope trace --stages line, or NULL */
	char frame[256];	/* displays: the last frame's PNG, or "" */
};

void run_result__add(struct run_result *r, const char *name, const char *unit,
		     bool higher_is_better, double value);
void run_result__free(struct run_result *r);

/* Where a cell's files go, and how to run things. */
struct run_ctx {
	const char *workdir;	/* images, logs, JSON of the last iteration */
	const char *bindir;	/* vioscope-vmm and vioscope */
	bool trace;		/* run the VMM under vioscope trace --stages */
	const char *hypervisor;	/* "vioscope-vmm" or "qemu" */
	/* qemu: the Linux guest (scripts/build-guest-image) and the accelerator;
	 * guest_error says why there is no guest. */
	char guest_dir[256];
	char guest_error[256];
	bool gfx_image;		/* guest_dir has initrd-gfx.cpio.gz */
	const char *accel;
};

/*
 * A device class's runner: which modes it can run here and how one
 * iteration goes. One file per class (run_disk.c, ...).
 */
struct class_runner {
	const char *class;
	const char *headline;		/* the metric iterations converge on */
	/* NULL when mode can run here for a line with these parameters, else
	 * why not (in buf or static). */
	const char *(*unavailable)(const struct run_ctx *ctx, const char *mode, const char *params,
				   char *buf, size_t len);
	/* Optional: the headline of a line with these parameters (else headline). */
	const char *(*headline_for)(const char *params);
	/* 0, or -1 with one line in why (the cell fails). */
	int (*run)(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
		   struct run_result *r, char *why, size_t why_len);
};

extern const struct class_runner run_disk;
extern const struct class_runner run_net;
extern const struct class_runner run_usb;
extern const struct class_runner run_gfx;

/* fio in the Linux guest under QEMU on class's disk in mode (disk: AHCI,
 * virtio-blk; usb: xhci + usb-storage), for qemu_runtime=S seconds
 * (default 2, after a 1 s ramp), on the work directory's image. No
 * per-I/O samples: fio's percentiles instead. */
/* The probe guest on vioscope-vmm, mode emul or pv: class "disk" (the
 * disk workload, --disk: AHCI or virtio-blk), "usb" (the disk workload
 * on a USB disk, --usb: xHCI or the USB/IP channel), "hid" (the hid
 * workload on the same --usb) or "gfx" (the gfx workload, --gfx: the
 * bochs-display at the line's size=). */
int run_disk__vmm(const struct run_ctx *ctx, const char *class, const char *mode,
		  const struct suite_line *l, struct run_result *r, char *why, size_t why_len);
/* Any USB device on the host (usbfs pass-through needs one). */
bool run__have_usb_device(void);
/* fio on the host on the run's image: the native ceiling. */
int run_disk__native(const struct run_ctx *ctx, const struct suite_line *l,
		     struct run_result *r, char *why, size_t why_len);
int run_disk__qemu_fio(const struct run_ctx *ctx, const char *class, const char *mode,
		       const struct suite_line *l, struct run_result *r, char *why, size_t why_len);

/* Runs argv (argv[0] a path) with stdin from /dev/null, stdout and stderr
 * to log; its exit status, or -1 when it cannot start or dies of a
 * signal. run__spawn and run__wait are its halves. */
int run__command(char *const argv[], const char *log);
pid_t run__spawn(char *const argv[], const char *log);
int run__wait(pid_t pid);
/* In a forked child: appends "error: what: strerror(errno)" to log and
 * exits 125. */
void run__fail_child(const char *log, const char *what) __attribute__((noreturn));
/* prog is in PATH (an executable file). */
bool run__have(const char *prog);
/* The host has IOMMU groups (VFIO pass-through can run). */
bool run__have_iommu(void);

struct qemu_vm;

/* run_net.c: client and server in two network namespaces joined by a
 * veth pair, server side vs0 at 10.0.3.1, client side vc0 at 10.0.3.2;
 * the server starts first (ready() says when it listens), the client's
 * stdout goes to out. The client's exit status, or -1. */
int run_net__two_namespaces(char **client, char **server, bool (*ready)(void),
			    const char *out, const char *log, const char *server_log);
/* run_net_frames.c: the frames workloads (frames=tx|rx|pingpong). */
const char *run_net_frames__unavailable(const struct run_ctx *ctx, const char *mode,
					char *buf, size_t len);
int run_net_frames__run(const struct run_ctx *ctx, const char *mode, const struct suite_line *l,
			struct run_result *r, char *why, size_t why_len);

/* A net guest's network: the host side of its TAP and the guest. */
#define QEMU_NET_HOST "10.0.2.1"
#define QEMU_NET_GUEST "10.0.2.15/24"

/* QEMU-side (run_qemu.c): NULL when the guest can boot, else why not. */
const char *run_qemu__unavailable(const struct run_ctx *ctx, const char *class,
				  const char *mode, char *buf, size_t len);
/* Boots the Linux guest for one workload (vm->job); the agent's object
 * ({"job", "status", "ops", "result"}) with status 0 and a result, or
 * NULL with why. A net vm runs in a network namespace of its own, with
 * an iperf3 server at 10.0.2.1 on the TAP. Traced (ctx->trace), QEMU's
 * device-path counts per operation go into r. */
struct cJSON *run_qemu__boot(const struct run_ctx *ctx, struct qemu_vm *vm,
			     struct run_result *r, char *why, size_t why_len);

#endif /* VIOSCOPE__CLI_RUN_H */

#ifndef VIOSCOPE__QEMU_H
#define VIOSCOPE__QEMU_H

#include <stdbool.h>
#include <stddef.h>

struct cJSON;

/*
 * QEMU as a second hypervisor beside vioscope-vmm: the same device modes
 * for the same Linux guest (scripts/build-guest-image), whose agent
 * (hypervisor/linux-guest/agent.c) runs one workload and prints its JSON
 * result on the console.
 */
struct qemu_vm {
	const char *qemu;	/* the binary, e.g. "qemu-system-x86_64" */
	const char *accel;	/* "kvm" or "tcg" */
	const char *kernel;
	const char *initrd;
	const char *initrd_name;	/* in the guest image directory: NULL for
					 * initrd.cpio.gz (run_qemu__boot) */
	unsigned int mem_mb;	/* 0: 512 */
	const char *class;	/* the device under test: disk, net, usb, gfx */
	const char *mode;	/* emul, pv; gfx also virgl (pv with gl=virgl) */
	const char *image;	/* disk, usb: the raw image */
	int tap_fd;		/* net, usb pv: an open TAP (lib/netns.h), inherited */
	unsigned int xres, yres;	/* gfx: the one mode the display offers */
	const char *job;	/* the agent's workload, "vio.job=... vio...." */
	const char *trace_events;	/* a file of QEMU -trace event patterns, or NULL */
	const char *trace_log;	/* where the events go (-D) */
};

/* One device of the table: what QEMU is given, what the agent loads. */
struct qemu_device {
	const char *class, *mode;
	const char *what;	/* for the environment: "AHCI + ide-hd" */
	const char *modules;	/* the guest modules, loaded in order */
	const char *guest_dev;	/* what the agent works on: sda, vda, eth0, card0 */
	const char *region;	/* in the names of its QEMU memory regions
				 * (substrings, '|' between) */
	bool irq_traced;	/* QEMU has a trace event for its interrupts */
};

/* The table entry for class/mode, or NULL (not a QEMU device mode). */
const struct qemu_device *qemu__device(const char *class, const char *mode);
/* The whole table: entry i, or NULL past its end. */
const struct qemu_device *qemu__device_at(size_t i);

/* argv for vm, NULL-terminated, its strings in buf; the count, or -1 for
 * an unknown class or mode or too little room. */
int qemu__argv(const struct qemu_vm *vm, char **argv, size_t max, char *buf, size_t len);

/* The first line of qemu-system-x86_64 --version ("" without QEMU). */
char *qemu__version(char *buf, size_t len);

/* vm's display needs an X server (virgl: SDL with GL; run it under
 * xvfb-run here). */
/* The guest needs a NIC on a TAP: the net class, and USB/IP (usb pv),
 * whose server sits on the TAP's host side. */
bool qemu__needs_net(const struct qemu_vm *vm);
bool qemu__needs_x(const struct qemu_vm *vm);

/* "kvm" where QEMU's guests can run on /dev/kvm, else "tcg", with why. */
const char *qemu__accel(char *why, size_t len);

/* The agent's JSON object between its console markers; NULL with why
 * (no result, a truncated one, malformed JSON). */
struct cJSON *qemu__agent_result(const char *console, char *why, size_t len);

#endif /* VIOSCOPE__QEMU_H */

#ifndef VIOSCOPE__QEMU_H
#define VIOSCOPE__QEMU_H

#include <stddef.h>

struct cJSON;

/*
 * QEMU as a second hypervisor beside vioscope-vmm: the same device modes
 * for the same Linux guest (scripts/build-guest-image), whose agent
 * prints each workload's JSON result on the console.
 */
struct qemu_disk_run {
	const char *qemu;	/* the binary, e.g. "qemu-system-x86_64" */
	const char *accel;	/* "kvm" or "tcg" */
	const char *kernel;
	const char *initrd;
	const char *image;	/* the raw disk image */
	const char *mode;	/* emul: AHCI + ide-hd; pv: virtio-blk-pci */
	const char *fio;	/* the agent's vio.fio=RW:BS:QD:SECONDS */
	unsigned int mem_mb;
};

/* argv for q, NULL-terminated, its strings in buf; the count, or -1 for
 * an unknown mode or too little room. */
int qemu__disk_argv(const struct qemu_disk_run *q, char **argv, size_t max, char *buf,
		    size_t len);
/* "kvm" where QEMU's guests can run on /dev/kvm, else "tcg", with why. */
const char *qemu__accel(char *why, size_t len);
/* The agent's JSON object between its console markers; NULL with why
 * (no result, a truncated one, malformed JSON). */
struct cJSON *qemu__agent_result(const char *console, char *why, size_t len);

#endif /* VIOSCOPE__QEMU_H */

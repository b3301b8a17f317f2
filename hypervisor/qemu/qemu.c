/*
 * QEMU command lines and the guest agent's results (see qemu.h). Devices
 * as a QEMU user would give them: AHCI with an ide-hd disk (emulated) or
 * virtio-blk-pci (paravirtual), the image raw, through io_uring like
 * vioscope-vmm's backend.
 */
#include "hypervisor/qemu/qemu.h"

#include <cJSON.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/env.h"

#define BEGIN "@@VIOSCOPE-RESULT-BEGIN@@"
#define END "@@VIOSCOPE-RESULT-END@@"

struct strbuf {
	char *p;
	size_t left;
	int bad;
};

/* A copy of the formatted string in sb, or NULL once out of room. */
static char *sb_add(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static char *sb_add(struct strbuf *sb, const char *fmt, ...)
{
	char *s = sb->p;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(s, sb->left, fmt, ap);
	va_end(ap);

	if (n < 0 || (size_t)n >= sb->left) {
		sb->bad = 1;
		return NULL;
	}
	sb->p += n + 1;
	sb->left -= (size_t)n + 1;
	return s;
}

int qemu__disk_argv(const struct qemu_disk_run *q, char **argv, size_t max, char *buf,
		    size_t len)
{
	struct strbuf sb = { buf, len, 0 };
	const char *device, *modules, *dev;
	size_t n = 0;

	if (!strcmp(q->mode, "emul")) {
		device = "ide-hd,drive=vdisk,bus=vahci.0";
		modules = "ahci,sd_mod";
		dev = "sda";
	} else if (!strcmp(q->mode, "pv")) {
		device = "virtio-blk-pci,drive=vdisk";
		modules = "virtio_pci,virtio_blk";
		dev = "vda";
	} else {
		return -1;
	}
	if (max < 24)
		return -1;
	argv[n++] = (char *)q->qemu;
	argv[n++] = "-machine";
	argv[n++] = "q35";
	argv[n++] = "-accel";
	argv[n++] = (char *)q->accel;
	argv[n++] = "-m";
	argv[n++] = sb_add(&sb, "%u", q->mem_mb ? q->mem_mb : 512);
	argv[n++] = "-nographic";
	argv[n++] = "-no-reboot";
	argv[n++] = "-kernel";
	argv[n++] = (char *)q->kernel;
	argv[n++] = "-initrd";
	argv[n++] = (char *)q->initrd;
	argv[n++] = "-append";
	argv[n++] = sb_add(&sb, "console=ttyS0 quiet panic=-1 vio.job=fio vio.modules=%s "
			   "vio.dev=%s vio.fio=%s", modules, dev, q->fio);
	argv[n++] = "-drive";
	argv[n++] = sb_add(&sb, "file=%s,if=none,id=vdisk,format=raw,aio=io_uring", q->image);
	if (!strcmp(q->mode, "emul")) {
		argv[n++] = "-device";
		argv[n++] = "ahci,id=vahci";
	}
	argv[n++] = "-device";
	argv[n++] = (char *)device;
	argv[n] = NULL;
	return sb.bad ? -1 : (int)n;
}

const char *qemu__accel(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		snprintf(why, len, "no usable /dev/kvm: TCG (relative figures only)");
		return "tcg";
	}
	close(fd);
	if (!strcmp(env__kvm_kind(), "PVM")) {
		snprintf(why, len, "PVM: a stock Linux kernel cannot boot on it, so TCG "
			 "(relative figures only)");
		return "tcg";
	}
	snprintf(why, len, "KVM (%s)", env__kvm_kind());
	return "kvm";
}

struct cJSON *qemu__agent_result(const char *console, char *why, size_t len)
{
	const char *b = console ? strstr(console, BEGIN) : NULL, *e;
	cJSON *j;

	if (!b) {
		snprintf(why, len, "the guest printed no result (did it boot?)");
		return NULL;
	}
	b += strlen(BEGIN);
	e = strstr(b, END);
	if (!e) {
		snprintf(why, len, "the guest's result is truncated (no end marker)");
		return NULL;
	}
	j = cJSON_ParseWithLength(b, (size_t)(e - b));
	if (!j || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		snprintf(why, len, "the guest's result is not a JSON object");
		return NULL;
	}
	return j;
}

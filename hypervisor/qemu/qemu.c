/*
 * QEMU command lines and the guest agent's results (see qemu.h). Devices
 * as a QEMU user would give them: disks raw through io_uring like
 * vioscope-vmm's backend, NICs on a TAP in a namespace of the run's own,
 * displays with one fixed mode.
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

static const struct qemu_device devices[] = {
	{ "disk", "emul", "AHCI + ide-hd", "ahci,sd_mod", "sda", "ahci", true },
	{ "disk", "pv", "virtio-blk-pci", "virtio_pci,virtio_blk", "vda", "virtio-blk", true },
	{ "net", "emul", "e1000 (82540EM) on a TAP", "e1000", "eth0", "e1000", false },
	{ "net", "pv", "virtio-net-pci on a TAP, vhost off", "virtio_pci,virtio_net", "eth0",
	  "virtio-net", true },
	{ "usb", "emul", "qemu-xhci + usb-storage", "xhci_pci,usb_storage,sd_mod", "sda",
	  "'capabilities'|'operational'|'runtime'|'doorbell'", false },
	/* The older emulated controller (suite hc=ehci): USB 2.0 EHCI. */
	{ "usb", "ehci", "usb-ehci + usb-storage", "ehci_pci,usb_storage,sd_mod", "sda",
	  "'capabilities'|'operational'|'ports'", false },
	/* URB forwarding: the guest's vhci-hcd to vioscope's USB/IP server
	 * on the host side of a TAP, over virtio-net. */
	{ "usb", "pv", "USB/IP to vioscope usbip-server (vhci-hcd, virtio-net on a TAP)",
	  "virtio_pci,virtio_net,usbip_core,vhci_hcd,usb_storage,sd_mod", "sda", "virtio-net",
	  true },
	{ "gfx", "emul", "bochs-display", "bochs", "card0", "bochs", false },
	{ "gfx", "pv", "virtio-gpu-pci (2D)", "virtio_pci,virtio_gpu", "card0", "virtio-gpu",
	  true },
	/* pv with gl=virgl: 3D through virglrenderer on the host's GL, which
	 * needs a GL display: SDL under Xvfb here (no render node). */
	{ "gfx", "virgl", "virtio-gpu-gl-pci (virgl) on SDL/GL under Xvfb",
	  "virtio_pci,virtio_gpu", "card0", "virtio-gpu", true },
};

const struct qemu_device *qemu__device_at(size_t i)
{
	return i < sizeof(devices) / sizeof(devices[0]) ? &devices[i] : NULL;
}

const struct qemu_device *qemu__device(const char *class, const char *mode)
{
	size_t i;

	for (i = 0; i < sizeof(devices) / sizeof(devices[0]); i++)
		if (!strcmp(devices[i].class, class) && !strcmp(devices[i].mode, mode))
			return &devices[i];
	return NULL;
}

#define ARG(s) do { if (*n + 2 >= max) return -1; argv[(*n)++] = (char *)(s); } while (0)

/* The device under test's arguments. */
static int device_args(const struct qemu_vm *vm, struct strbuf *sb, char **argv, size_t *n,
		       size_t max)
{
	const char *drive = NULL;

	bool ehci = !strcmp(vm->mode, "ehci");

	if (!strcmp(vm->class, "disk") || (!strcmp(vm->class, "usb") && !qemu__needs_net(vm)))
		drive = sb_add(sb, "file=%s,if=none,id=vdisk,format=raw,aio=io_uring", vm->image);
	if (!strcmp(vm->class, "disk")) {
		ARG("-drive");
		ARG(drive);
		if (!strcmp(vm->mode, "emul")) {
			ARG("-device");
			ARG("ahci,id=vahci");
			ARG("-device");
			ARG("ide-hd,drive=vdisk,bus=vahci.0");
		} else {
			ARG("-device");
			ARG("virtio-blk-pci,drive=vdisk");
		}
	} else if (qemu__needs_net(vm)) {
		/* vhost=off: /dev/vhost-net is what makes QEMU's virtio-net fast
		 * in production, and it is absent here; a host with it gets a
		 * mode of its own, not a silently different figure. */
		ARG("-netdev");
		ARG(sb_add(sb, "tap,id=vnet,fd=%d%s", vm->tap_fd,
			   strcmp(vm->mode, "pv") ? "" : ",vhost=off"));
		ARG("-device");
		ARG(strcmp(vm->mode, "pv") ? "e1000,netdev=vnet,mac=52:54:00:12:34:56"
					   : "virtio-net-pci,netdev=vnet,mac=52:54:00:12:34:56");
	} else if (!strcmp(vm->class, "usb")) {
		ARG("-drive");
		ARG(drive);
		ARG("-device");
		ARG(ehci ? "usb-ehci,id=vhc" : "qemu-xhci,id=vhc");
		ARG("-device");
		ARG("usb-storage,bus=vhc.0,drive=vdisk");
	} else if (!strcmp(vm->class, "gfx")) {
		/* One mode offered: the EDID's preferred and largest are the
		 * same, so glmark2's DRM build renders at it in every mode. */
		ARG("-device");
		if (!strcmp(vm->mode, "emul"))
			ARG(sb_add(sb, "bochs-display,edid=on,xres=%u,yres=%u,xmax=%u,ymax=%u",
				   vm->xres, vm->yres, vm->xres, vm->yres));
		else
			ARG(sb_add(sb, "%s,edid=on,xres=%u,yres=%u,max_outputs=1",
				   strcmp(vm->mode, "virgl") ? "virtio-gpu-pci" : "virtio-gpu-gl-pci",
				   vm->xres, vm->yres));
	}
	return 0;
}

bool qemu__needs_net(const struct qemu_vm *vm)
{
	return !strcmp(vm->class, "net") || (!strcmp(vm->class, "usb") && !strcmp(vm->mode, "pv"));
}

bool qemu__needs_x(const struct qemu_vm *vm)
{
	return !strcmp(vm->class, "gfx") && !strcmp(vm->mode, "virgl");
}

int qemu__argv(const struct qemu_vm *vm, char **argv, size_t max, char *buf, size_t len)
{
	const struct qemu_device *d = qemu__device(vm->class, vm->mode);
	struct strbuf sb = { buf, len, 0 };
	size_t nn = 0, *n = &nn;

	if (!d)
		return -1;
	ARG(vm->qemu);
	ARG("-machine");
	ARG("q35");
	ARG("-accel");
	ARG(vm->accel);
	ARG("-m");
	ARG(sb_add(&sb, "%u", vm->mem_mb ? vm->mem_mb : 512));
	/* Only the device under test: no default VGA or NIC beside it. The
	 * console on stdout; virgl needs a GL display (qemu__needs_x). */
	if (qemu__needs_x(vm)) {
		ARG("-display");
		ARG("sdl,gl=on");
		ARG("-serial");
		ARG("stdio");
		ARG("-monitor");
		ARG("none");
	} else {
		ARG("-nographic");
	}
	ARG("-vga");
	ARG("none");
	ARG("-nic");
	ARG("none");
	ARG("-no-reboot");
	ARG("-kernel");
	ARG(vm->kernel);
	ARG("-initrd");
	ARG(vm->initrd);
	ARG("-append");
	/* usb-storage waits a second before its scan by default (delay_use);
	 * displays take the agent's one-mode EDID (agent.c, write_edid). */
	ARG(sb_add(&sb, "console=ttyS0 quiet panic=-1 usb-storage.delay_use=0%s vio.modules=%s "
		   "vio.dev=%s %s", strcmp(vm->class, "gfx") ? "" :
		   " drm.edid_firmware=edid/vioscope.bin", d->modules, d->guest_dev,
		   vm->job ? vm->job : "vio.job=shell"));
	if (device_args(vm, &sb, argv, n, max))
		return -1;
	if (vm->trace_events && vm->trace_log) {
		ARG("-trace");
		ARG(sb_add(&sb, "events=%s", vm->trace_events));
		ARG("-D");
		ARG(vm->trace_log);
	}
	argv[nn] = NULL;
	return sb.bad ? -1 : (int)nn;
}

char *qemu__version(char *buf, size_t len)
{
	FILE *p = popen("qemu-system-x86_64 --version 2>/dev/null", "r");

	buf[0] = 0;
	if (p) {
		if (!fgets(buf, (int)len, p))
			buf[0] = 0;
		pclose(p);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
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

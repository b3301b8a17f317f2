/*
 * vioscope doctor: which measurement environments this host offers, and
 * why not where it does not. One line each, or JSON with --json.
 */
#include <cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/run.h"
#include "lib/env.h"
#include "lib/tap.h"

struct check {
	const char *name;
	bool ok;
	char detail[160];
};

static bool kvm_usable(char *why, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm;

	if (fd < 0) {
		snprintf(why, len, "/dev/kvm cannot be opened");
		return false;
	}
	vm = ioctl(fd, KVM_CREATE_VM, 0);
	close(fd);
	if (vm < 0) {
		snprintf(why, len, "KVM_CREATE_VM fails");
		return false;
	}
	close(vm);
	return true;
}

static int count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* What virglrenderer's EGL needs to render without a GPU (Debian's paths). */
#define MESA_EGL	"/usr/lib/x86_64-linux-gnu/libEGL_mesa.so.0"
#define MESA_SWRAST	"/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so"

static void add(struct check *c, unsigned int *n, const char *name, bool ok, const char *detail)
{
	c[*n].name = name;
	c[*n].ok = ok;
	snprintf(c[*n].detail, sizeof(c[*n].detail), "%s", detail);
	(*n)++;
}

int cmd_doctor(int argc, char **argv)
{
	struct check c[15];
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	const char *kind = env__kvm_kind();
	char why[96], vhost_why[96] = "";
	bool kvm = kvm_usable(why, sizeof(why)), qemu = run__have("qemu-system-x86_64");
	bool pvm = !strcmp(kind, "PVM"), vhost;
	int groups = count_dir("/sys/kernel/iommu_groups");
	bool btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	unsigned int i, n = 0;

	if (argc > 1 && !json) {
		fprintf(stderr, "vioscope: doctor: unknown option '%s' (only --json)\n", argv[1]);
		return 1;
	}
	add(c, &n, "pvm-kvm", kvm && pvm,
	    kvm && pvm ? "probe guest only: guest CPL0 code is emulated, stock Linux cannot boot"
		       : kvm ? "not PVM" : why);
	add(c, &n, "real-kvm", kvm && !pvm && strcmp(kind, "unknown"),
	    !kvm ? why : pvm ? "this host's KVM is PVM (no VT-x/SVM)" : kind);
	add(c, &n, "qemu-tcg", qemu,
	    qemu ? "qemu-system-x86_64 found" : "qemu-system-x86_64 not installed (scripts/install-deps)");
	/* The NIC models: a TAP in a namespace, the peer's raw socket. */
	add(c, &n, "vmm-net", kvm && geteuid() == 0 && !access("/dev/net/tun", R_OK | W_OK),
	    !kvm ? why : geteuid() ? "the namespace, TAP and raw sockets need root"
	    : access("/dev/net/tun", R_OK | W_OK) ? "no /dev/net/tun (modprobe tun)"
	    : "e1000 and virtio-net on a TAP, vioscope peer in a namespace of the run's own");
	vhost = tap__have_vhost_net(vhost_why, sizeof(vhost_why));
	add(c, &n, "vhost-net", vhost,
	    !vhost ? vhost_why : "/dev/vhost-net opens: the kernel data path is there "
				 "(vioscope-vmm serves virtio-net in user space)");
	/* USB: the models are always there; pass-through needs a device. */
	add(c, &n, "vmm-usb", kvm,
	    kvm ? "xHCI model and the USB/IP channel with the USB disk and the latency keyboard"
		: why);
	add(c, &n, "usb-host", run__have_usb_device(),
	    run__have_usb_device() ? "a USB device is here: --usb-host VID:PID passes it through usbfs"
				   : "no USB device on this host (/sys/bus/usb has none): USB "
				     "pass-through is unavailable");
	/* Displays: the models are always there; virgl renders with Mesa. */
	add(c, &n, "vmm-gfx", kvm,
	    kvm ? "bochs-display (KVM dirty log) and virtio-gpu 2D for the probe guest" : why);
	add(c, &n, "vmm-virgl", kvm && !access(MESA_EGL, R_OK) && !access(MESA_SWRAST, R_OK),
	    !kvm ? why : access(MESA_EGL, R_OK) || access(MESA_SWRAST, R_OK)
	    ? "no Mesa EGL / llvmpipe (scripts/install-deps): virtio-gpu's virgl cannot render"
	    : "virtio-gpu virgl: virglrenderer on EGL surfaceless, Mesa llvmpipe");
	/* What vioscope run --hypervisor qemu can do beyond the disk. */
	add(c, &n, "qemu-net", qemu && geteuid() == 0 && run__have("iperf3"),
	    !qemu ? "needs qemu-system-x86_64" : geteuid() ? "the namespace and TAP need root"
	    : run__have("iperf3") ? "iperf3 over a TAP in a network namespace of the run's own"
				: "iperf3 not installed (scripts/install-deps)");
	add(c, &n, "qemu-gfx", qemu && run__have("glmark2-es2-drm"),
	    run__have("glmark2-es2-drm") ? "glmark2-es2-drm on bochs-display and virtio-gpu (Mesa "
					 "llvmpipe in the guest)"
				       : "glmark2-es2-drm not installed (scripts/install-deps nested)");
	add(c, &n, "qemu-virgl", qemu && run__have("glmark2-es2-drm") && run__have("xvfb-run"),
	    run__have("xvfb-run") ? "virtio-gpu-gl through SDL/GL under Xvfb (no render node here)"
				: "xvfb-run not installed (scripts/install-deps nested)");
	add(c, &n, "nested-testbed", qemu,
	    qemu ? "scripts/testbed: real KVM (nested SVM) and VFIO under QEMU-TCG, relative figures only"
		 : "needs qemu-system-x86_64");
	add(c, &n, "vfio", groups > 0 && access("/dev/vfio/vfio", F_OK) == 0,
	    groups <= 0 ? "no IOMMU groups: pass-through only in the nested test bed"
	    : access("/dev/vfio/vfio", F_OK) ? "IOMMU groups, but no /dev/vfio/vfio (load vfio-pci)"
					     : "IOMMU groups and /dev/vfio/vfio present");
	add(c, &n, "tracing", btf, btf ? "BTF present (eBPF CO-RE probes can load)"
				       : "no /sys/kernel/btf/vmlinux");

	if (json) {
		cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "environments");
		char *text;

		cJSON_AddItemToObject(root, "host", env__to_json());
		for (i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "name", c[i].name);
			cJSON_AddBoolToObject(o, "available", c[i].ok);
			cJSON_AddStringToObject(o, "detail", c[i].detail);
			cJSON_AddItemToArray(arr, o);
		}
		text = cJSON_Print(root);
		puts(text);
		free(text);
		cJSON_Delete(root);
		return 0;
	}
	printf("KVM on this host: %s\n", kind);
	for (i = 0; i < n; i++)
		printf("%-15s %-11s %s\n", c[i].name, c[i].ok ? "available" : "unavailable", c[i].detail);
	return 0;
}
